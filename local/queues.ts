import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { SEND_QUEUE } from '../infra/queue-settings';

/** The stack's send queue and DLQ, offline, with the same redrive policy and retention. */

export interface Queues {
  sendQueueUrl: string;
  deadLetterQueueUrl: string;
}

export async function ensureQueues(
  sqs: SQSClient,
  prefix: string,
  visibilityTimeoutSeconds: number = SEND_QUEUE.visibilityTimeoutSeconds,
): Promise<Queues> {
  const dlq = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${prefix}-send-dlq`,
      Attributes: { MessageRetentionPeriod: String(SEND_QUEUE.deadLetterRetentionDays * 86_400) },
    }),
  );
  const deadLetterQueueUrl = dlq.QueueUrl as string;
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const send = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${prefix}-send`,
      Attributes: {
        VisibilityTimeout: String(visibilityTimeoutSeconds),
        MessageRetentionPeriod: String(SEND_QUEUE.retentionDays * 86_400),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: Attributes?.QueueArn,
          maxReceiveCount: SEND_QUEUE.maxReceiveCount,
        }),
      },
    }),
  );
  return { sendQueueUrl: send.QueueUrl as string, deadLetterQueueUrl };
}
