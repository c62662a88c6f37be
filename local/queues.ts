import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';

/**
 * The stack's queues, offline: the send queue and its dead-letter queue with the
 * same redrive policy and retention as infra/ (SEND_QUEUE in infra/send-queue.ts).
 */
export const SEND_QUEUE = {
  /** Deliveries of one message before SQS moves it to the DLQ (crashes, timeouts, throttling). */
  maxReceiveCount: 5,
  /** Seconds a received message stays hidden: ≥ 6 × the sender's timeout. */
  visibilityTimeoutSeconds: 360,
  retentionDays: 4,
  deadLetterRetentionDays: 14,
} as const;

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
