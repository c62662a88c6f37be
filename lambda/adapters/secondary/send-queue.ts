import { SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { sqs } from '../../clients';
import { config } from '../../config';
import { asciiJson, escapeChar, MAX_SQS_MESSAGE_BYTES } from '../../domain/queue-message';
import { retryUnprocessed } from './retry-unprocessed';

export { asciiJson, MAX_SQS_MESSAGE_BYTES };

export interface OutgoingMessage {
  /** A JSON text; it is put on the queue as ASCII JSON (see asciiJson in domain/queue-message.ts). */
  body: string;
  delaySeconds?: number;
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

/** The longest failure detail kept: enough to name the field and the rule. */
const MAX_DETAIL_CHARS = 1000;

/**
 * Moves a message to the dead-letter queue with the reason it cannot succeed, in
 * message attributes an operator (and a redrive tool) can read. The attributes
 * count toward SQS's 1 MiB, so a body that nearly fills a message first keeps it
 * whole with a shorter detail (a redrive can still send the job); only a body that
 * leaves no room for the reason itself is cut, and the detail says so, with its
 * size and `messageId` — never a message that fails each receive for an hour and
 * reaches the DLQ through SQS's redrive without its reason.
 */
export async function deadLetter(
  body: string,
  reason: string,
  detail: string,
  messageId?: string,
): Promise<void> {
  const escaped = isJson(body) ? asciiJson(body) : body;
  let attributes = failureAttributes(reason, detail);
  // Escapes cost bytes: the text as received has already been through SQS once.
  let text = messageBytes(escaped, attributes) <= MAX_SQS_MESSAGE_BYTES ? escaped : body;
  if (messageBytes(text, attributes) > MAX_SQS_MESSAGE_BYTES) {
    const kept = attributes[DETAIL]?.StringValue ?? '';
    const room = MAX_SQS_MESSAGE_BYTES - (messageBytes(text, attributes) - kept.length);
    if (room > 0) attributes = failureAttributes(reason, kept.slice(0, room));
  }
  if (messageBytes(text, attributes) > MAX_SQS_MESSAGE_BYTES) {
    attributes = failureAttributes(
      reason,
      `${printableAscii(detail).slice(0, MAX_DETAIL_CHARS / 2)} [The body of ${Buffer.byteLength(body)} bytes and this reason exceed SQS's ${MAX_SQS_MESSAGE_BYTES} bytes: the body kept here is its start, cut to fit, and cannot be redriven${messageId === undefined ? '' : `; it was message ${messageId}`}.]`,
    );
    text = truncateUtf8(text, MAX_SQS_MESSAGE_BYTES - messageBytes('', attributes));
  }
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: config.deadLetterQueueUrl,
      MessageBody: text,
      MessageAttributes: attributes,
    }),
  );
}

type FailureAttributes = Record<string, { DataType: 'String'; StringValue: string }>;

const DETAIL = 'pushgate-failure-detail';

function failureAttributes(reason: string, detail: string): FailureAttributes {
  return {
    'pushgate-failure-reason': { DataType: 'String', StringValue: reason },
    // The detail may quote the job (a field name): escaped to printable ASCII like the body.
    [DETAIL]: {
      DataType: 'String',
      StringValue: printableAscii(detail).slice(0, MAX_DETAIL_CHARS) || reason,
    },
    'pushgate-failed-at': { DataType: 'String', StringValue: new Date().toISOString() },
  };
}

function printableAscii(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, escapeChar);
}

/** A message's size as SQS counts it: the body's bytes, and each attribute's name, type and value. */
function messageBytes(body: string, attributes: FailureAttributes): number {
  let bytes = Buffer.byteLength(body);
  for (const [name, { DataType, StringValue }] of Object.entries(attributes))
    bytes += Buffer.byteLength(name) + Buffer.byteLength(DataType) + Buffer.byteLength(StringValue);
  return bytes;
}

/** The longest start of `text` that is at most `maxBytes` in UTF-8, never half a character. */
function truncateUtf8(text: string, maxBytes: number): string {
  let cut = Buffer.from(text, 'utf8').subarray(0, Math.max(0, maxBytes)).toString('utf8');
  // A character cut in half decodes to U+FFFD, which can be longer than the bytes it replaces.
  while (Buffer.byteLength(cut) > maxBytes || cut.endsWith('\ufffd')) cut = cut.slice(0, -1);
  return cut;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
