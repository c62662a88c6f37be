import { SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { sqs } from '../../clients';
import { config } from '../../config';

export interface OutgoingMessage {
  /** A JSON text; it is put on the queue as ASCII JSON (see asciiJson). */
  body: string;
  delaySeconds?: number;
}

/**
 * A JSON text with every non-ASCII character escaped as `\uXXXX`: the same JSON
 * value, in plain ASCII. SQS implementations differ in the Unicode they take (AWS
 * refuses U+FFFE, U+FFFF and lone surrogates; fauxqs anything above U+FFFF, emoji
 * included); escaped, any text travels. Safe because a JSON text has non-ASCII
 * characters only inside strings, where an escape means the same character.
 */
export function asciiJson(json: string): string {
  return json.replace(/[\u007f-\uffff]/g, escapeChar);
}

function escapeChar(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
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
            MessageBody: asciiJson(message.body),
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
      MessageBody: isJson(body) ? asciiJson(body) : body,
      MessageAttributes: {
        'pushgate-failure-reason': { DataType: 'String', StringValue: reason },
        'pushgate-failure-detail': {
          DataType: 'String',
          // The detail may quote the job (a field name): escaped to printable ASCII like the body.
          StringValue: (detail.slice(0, 1000) || reason).replace(/[^\x20-\x7e]/g, escapeChar),
        },
        'pushgate-failed-at': { DataType: 'String', StringValue: new Date().toISOString() },
      },
    }),
  );
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
