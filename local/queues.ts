import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueNameExists,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
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
  const deadLetterQueueUrl = await ensureQueue(sqs, `${prefix}-send-dlq`, {
    MessageRetentionPeriod: String(SEND_QUEUE.deadLetterRetentionDays * 86_400),
    MaximumMessageSize: String(SEND_QUEUE.maxMessageBytes),
  });
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const sendQueueUrl = await ensureQueue(sqs, `${prefix}-send`, {
    VisibilityTimeout: String(visibilityTimeoutSeconds),
    MessageRetentionPeriod: String(SEND_QUEUE.retentionDays * 86_400),
    MaximumMessageSize: String(SEND_QUEUE.maxMessageBytes),
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: Attributes?.QueueArn,
      maxReceiveCount: SEND_QUEUE.maxReceiveCount,
    }),
  });
  return { sendQueueUrl, deadLetterQueueUrl };
}

/**
 * Creates a queue, or — when a persisted queue of that name was restored with other
 * settings (the code changed since) — gives it these settings, keeping its messages.
 */
async function ensureQueue(
  sqs: SQSClient,
  name: string,
  attributes: Record<string, string>,
): Promise<string> {
  try {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    return QueueUrl as string;
  } catch (error) {
    // fauxqs names the error by its query-protocol code, which the SDK does not map to the class.
    const exists = error instanceof QueueNameExists || (error as Error).name?.endsWith('QueueNameExists');
    if (!exists) throw error;
  }
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: attributes }));
  return QueueUrl as string;
}
