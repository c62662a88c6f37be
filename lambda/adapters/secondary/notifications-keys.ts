import { tokenKey } from '../../domain/fcm-token';

/**
 * The shape of the Notifications table (per-notification records: delivery
 * progress, the send request under its id, per-device tracking), shared by the
 * adapter, the CDK stack and the offline stack.
 */
export const NOTIFICATIONS_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
} as const;

/** Progress records outlive the DLQ's 14-day retention, so a redriven job still skips finished chunks. */
export const PROGRESS_TTL_DAYS = 15;

export function notificationPk(notificationId: string): string {
  return `notification#${notificationId}`;
}

/**
 * Tracking and progress of one notification are spread over this many partition
 * keys, so a large send never concentrates its writes on one partition (DynamoDB
 * gives a partition about 1 000 writes/s). A read of the whole notification
 * queries each of them.
 */
export const TRACKING_SHARDS = 16;

/** FNV-1a: a stable, cheap spread of names over the shards. */
function shardOf(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % TRACKING_SHARDS;
}

export function trackingShardPk(notificationId: string, shard: number): string {
  return `${notificationPk(notificationId)}#s${shard}`;
}

/** Every partition key holding a notification's progress, tracking and receipts. */
export function trackingShardPks(notificationId: string): string[] {
  return Array.from({ length: TRACKING_SHARDS }, (_, shard) => trackingShardPk(notificationId, shard));
}

/** The prefix of every progress record of one part of a job at one attempt. */
export function progressPrefix(part: string, attempt: number): string {
  return `progress#${part}#${attempt}#`;
}

const PROGRESS_PREFIX = 'progress#';

/**
 * A chunk's progress record: its claim, its completion and — for tracked jobs —
 * the outcome of each of its devices, in one item. Chunks land on shards by name.
 */
export function progressKey(notificationId: string, part: string, attempt: number, chunk: number) {
  const sk = `${progressPrefix(part, attempt)}${String(chunk).padStart(6, '0')}`;
  return { pk: trackingShardPk(notificationId, shardOf(sk)), sk };
}

const RECEIPT_PREFIX = 'receipt#';

const TRACKING_PAGE_PREFIX = 'outcomes#';

/**
 * Page `page` (1, 2, …) of a tracked chunk's outcomes when they do not fit its progress
 * record (which holds page 0 and how many pages there are): an item of its own, on
 * its own shard. Not under `progress#`, so reading a part's progress never sees it.
 */
export function trackingPageKey(
  notificationId: string,
  part: string,
  attempt: number,
  chunk: number,
  page: number,
) {
  const sk = `${TRACKING_PAGE_PREFIX}${part}#${attempt}#${String(chunk).padStart(6, '0')}#${page}`;
  return { pk: trackingShardPk(notificationId, shardOf(sk)), sk };
}

/**
 * An app's receipt for one device: its own small item, on the device's shard, under
 * the token's key (`tokenKey`: a token too long to be a sort key is named by its
 * digest, and the item keeps the token: devices-keys.ts `FULL_TOKEN_ATTRIBUTE`).
 */
export function receiptKey(notificationId: string, token: string) {
  const key = tokenKey(token);
  return { pk: trackingShardPk(notificationId, shardOf(key)), sk: `${RECEIPT_PREFIX}${key}` };
}

const RECIPIENTS_PREFIX = 'recipients#';

/** Buckets of a tracked job's recipient hashes, so a receipt can be checked without the sender's record. */
export function recipientsKey(notificationId: string, bucket: number) {
  return {
    pk: trackingShardPk(notificationId, bucket % TRACKING_SHARDS),
    sk: `${RECIPIENTS_PREFIX}${String(bucket).padStart(4, '0')}`,
  };
}

const DEAD_LETTER_PREFIX = 'dead-letter#';

/** A part of the job the sender moved to the DLQ (with its reason), on the part's shard. */
export function deadLetterKey(notificationId: string, part: string, attempt: number) {
  const sk = `${DEAD_LETTER_PREFIX}${part}#${attempt}`;
  return { pk: trackingShardPk(notificationId, shardOf(sk)), sk };
}

const ISSUED_PREFIX = 'issued#';

/**
 * The sender's record of a part it wrote with devices (a retry, a re-push round): the
 * fingerprints of what it put under that name and attempt, on the part's shard.
 */
export function issuedPartKey(notificationId: string, part: string, attempt: number) {
  const sk = `${ISSUED_PREFIX}${part}#${attempt}`;
  return { pk: trackingShardPk(notificationId, shardOf(sk)), sk };
}

/** How long a notification id stays taken: repeats within it get the original answer. */
export const IDEMPOTENCY_WINDOW_DAYS = 7;

/** The record of a send request (its answer, for idempotent repeats). */
export function requestKey(notificationId: string) {
  return { pk: notificationPk(notificationId), sk: 'request' };
}

/**
 * The lean jobs one sender invocation finished with every device accepted: one item
 * per invocation, not one write per job (docs/decisions/lean-jobs.md). A lean job's
 * claim on its request record names the invocation, so a redelivery or the status
 * report finds it here.
 */
export function leanDoneKey(invocationId: string) {
  return { pk: `lean-done#${invocationId}`, sk: 'done' };
}

/**
 * The partition key prefix of the fleet's APNs provider tokens: the stack lets only the
 * functions that send read items under it (infra/constructs/notifications-table.ts).
 */
export const PROVIDER_TOKEN_PK_PREFIX = 'provider-token#';

/** The APNs provider token the whole fleet shares for one key (see the gateway's provider-token module). */
export function providerTokenKey(keyName: string) {
  return { pk: `${PROVIDER_TOKEN_PK_PREFIX}${keyName}`, sk: 'provider-token' };
}

/** What a sort key of a notification's shards names: a chunk's progress, a receipt, or something else. */
export type ParsedSortKey =
  | { kind: 'progress'; part: string; attempt: number; chunk: number }
  /** `token`: the token's key (`tokenKey`) — the token itself, unless a long one's digest. */
  | { kind: 'receipt'; token: string }
  | { kind: 'deadLetter'; part: string; attempt: number }
  | { kind: 'trackingPage'; part: string; attempt: number; chunk: number; page: number }
  | { kind: 'other' };

/** Reads a sort key written by `progressKey`, `receiptKey`, `deadLetterKey` or `trackingPageKey` (a part name never holds '#'). */
export function parseSortKey(sk: unknown): ParsedSortKey {
  const key = String(sk);
  if (key.startsWith(TRACKING_PAGE_PREFIX)) {
    const [part = '', attempt = '0', chunk = '0', page = '0'] = key
      .slice(TRACKING_PAGE_PREFIX.length)
      .split('#');
    return { kind: 'trackingPage', part, attempt: Number(attempt), chunk: Number(chunk), page: Number(page) };
  }
  if (key.startsWith(RECEIPT_PREFIX)) return { kind: 'receipt', token: key.slice(RECEIPT_PREFIX.length) };
  if (key.startsWith(DEAD_LETTER_PREFIX)) {
    const [part = '', attempt = '0'] = key.slice(DEAD_LETTER_PREFIX.length).split('#');
    return { kind: 'deadLetter', part, attempt: Number(attempt) };
  }
  if (!key.startsWith(PROGRESS_PREFIX)) return { kind: 'other' };
  const [, part = '', attempt = '0', chunk = '0'] = key.split('#');
  return { kind: 'progress', part, attempt: Number(attempt), chunk: Number(chunk) };
}

/**
 * The attribute of a chunk's progress record that holds its tracking, packed
 * (domain/tracking.ts `packChunkTracking`). Records written before it hold `outcomes`,
 * `users` and `reasons` as text; tracking-table.ts reads both.
 */
export const PACKED_TRACKING_ATTRIBUTE = 'trackingPacked';
