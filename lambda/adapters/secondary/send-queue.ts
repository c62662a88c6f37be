import { SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { sqs } from '../../clients';
import { config } from '../../config';

export interface OutgoingMessage {
  body: string;
  delaySeconds?: number;
}

/** Puts messages on the send queue, ten per SendMessageBatch; entries SQS refused are retried. */
export async function enqueue(
  messages: readonly OutgoingMessage[],
  queueUrl = config.sendQueueUrl,
): Promise<void> {
  for (let start = 0; start < messages.length; start += 10) {
    let batch = messages.slice(start, start + 10).map((message, index) => ({ id: String(index), message }));
    for (let round = 0; batch.length > 0; round++) {
      if (round === 4) throw new Error(`SQS refused ${batch.length} messages four times`);
      if (round > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
      const result = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: batch.map(({ id, message }) => ({
            Id: id,
            MessageBody: message.body,
            ...(message.delaySeconds ? { DelaySeconds: message.delaySeconds } : {}),
          })),
        }),
      );
      const failed = new Set((result.Failed ?? []).map((entry) => entry.Id));
      batch = batch.filter(({ id }) => failed.has(id));
    }
  }
}

/**
 * Moves a message to the dead-letter queue with the reason it cannot succeed, in
 * message attributes an operator (and a redrive tool) can read.
 */
export async function deadLetter(body: string, reason: string, detail: string): Promise<void> {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: config.deadLetterQueueUrl,
      MessageBody: body,
      MessageAttributes: {
        'pushgate-failure-reason': { DataType: 'String', StringValue: reason },
        'pushgate-failure-detail': { DataType: 'String', StringValue: detail.slice(0, 1000) || reason },
        'pushgate-failed-at': { DataType: 'String', StringValue: new Date().toISOString() },
      },
    }),
  );
}
