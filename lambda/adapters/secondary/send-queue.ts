import { SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { sqs } from '../../clients';
import { config } from '../../config';
import { retryUnprocessed } from './retry-unprocessed';

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

/** SQS caps one message, and one SendMessageBatch as a whole, at 1 MiB. */
export const MAX_SQS_BATCH_BYTES = 1024 * 1024;

/**
 * Puts messages on the send queue as ASCII JSON, up to ten per SendMessageBatch and
 * never more than SQS takes in one batch; entries SQS refused are retried.
 */
export async function enqueue(
  messages: readonly OutgoingMessage[],
  queueUrl = config.sendQueueUrl,
): Promise<void> {
  for (const entries of batchesOf(messages)) {
    await retryUnprocessed(
      entries,
      async (batch) => {
        const result = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: batch.map(({ id, body, delaySeconds }) => ({
              Id: id,
              MessageBody: body,
              ...(delaySeconds ? { DelaySeconds: delaySeconds } : {}),
            })),
          }),
        );
        const failed = new Set((result.Failed ?? []).map((entry) => entry.Id));
        return batch.filter(({ id }) => failed.has(id));
      },
      { attempts: 4, firstPauseMs: 50, failure: (undone) => `SQS refused ${undone} messages four times` },
    );
  }
}

type BatchEntry = { id: string; body: string; delaySeconds?: number };

/** Groups messages into batches of at most ten entries and MAX_SQS_BATCH_BYTES. */
function batchesOf(messages: readonly OutgoingMessage[]): BatchEntry[][] {
  const batches: BatchEntry[][] = [];
  let current: BatchEntry[] = [];
  let bytes = 0;
  for (const message of messages) {
    const body = asciiJson(message.body);
    if (body.length > MAX_SQS_BATCH_BYTES) {
      throw new Error(`A queue message of ${body.length} bytes exceeds SQS's ${MAX_SQS_BATCH_BYTES}`);
    }
    if (current.length === 10 || bytes + body.length > MAX_SQS_BATCH_BYTES) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    const entry: BatchEntry = { id: String(current.length), body };
    if (message.delaySeconds !== undefined) entry.delaySeconds = message.delaySeconds;
    current.push(entry);
    bytes += body.length;
  }
  if (current.length > 0) batches.push(current);
  return batches;
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
