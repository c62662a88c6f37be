import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';

/**
 * What a dead-lettered message says about itself: the reason the sender gave it (or
 * that SQS moved it), its notification id, and the attributes it goes back with.
 */

/** The group of jobs SQS moved by itself (its redrive policy), which carry no pushgate reason. */
export const MOVED_BY_SQS = 'MaxReceiveCountExceeded';
export const REASON_ATTRIBUTE = 'pushgate-failure-reason';
export const DETAIL_ATTRIBUTE = 'pushgate-failure-detail';
/** Attributes the sender adds when it dead-letters a job; the job goes back without them. */
const FAILURE_ATTRIBUTES = new Set([REASON_ATTRIBUTE, DETAIL_ATTRIBUTE, 'pushgate-failed-at']);
/** SQS caps a message, and a whole batch, at 1 MiB; stay below with room for the framing. */
const MAX_BATCH_BYTES = 1_000_000;

export function reasonOf(message: Message): string {
  return message.MessageAttributes?.[REASON_ATTRIBUTE]?.StringValue ?? MOVED_BY_SQS;
}

export function detailOf(message: Message): string | undefined {
  return message.MessageAttributes?.[DETAIL_ATTRIBUTE]?.StringValue;
}

/** A send job's id, or the one of the sender's follow-up work (`{job: {notificationId}}`). */
export function notificationIdOf(message: Message): string | undefined {
  try {
    const value = JSON.parse(message.Body ?? '') as {
      notificationId?: unknown;
      job?: { notificationId?: unknown };
    };
    const id = value.job?.notificationId ?? value.notificationId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

export function attributesToKeep(message: Message): Record<string, MessageAttributeValue> | undefined {
  const kept = Object.entries(message.MessageAttributes ?? {}).filter(
    ([name]) => !FAILURE_ATTRIBUTES.has(name),
  );
  if (kept.length === 0) return undefined;
  return Object.fromEntries(
    kept.map(([name, value]) => [
      name,
      {
        DataType: value.DataType,
        ...(value.StringValue === undefined ? {} : { StringValue: value.StringValue }),
        ...(value.BinaryValue === undefined ? {} : { BinaryValue: value.BinaryValue }),
      },
    ]),
  );
}

/** Batches of at most 10 messages and MAX_BATCH_BYTES (bodies plus attributes). */
export function batches(messages: readonly Message[]): Message[][] {
  const all: Message[][] = [];
  let current: Message[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = sizeOf(message);
    if (current.length === 10 || (current.length > 0 && bytes + size > MAX_BATCH_BYTES)) {
      all.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) all.push(current);
  return all;
}

function sizeOf(message: Message): number {
  let size = Buffer.byteLength(message.Body ?? '');
  for (const [name, value] of Object.entries(attributesToKeep(message) ?? {})) {
    size += Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? '');
    size += Buffer.byteLength(value.StringValue ?? '') + (value.BinaryValue?.byteLength ?? 0);
  }
  return size;
}
