import { GetCommand, PutCommand, paginateQuery, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../../clients';
import { config } from '../../config';
import { tokenKey } from '../../domain/fcm-token';
import type { NotificationTracking } from '../../domain/notification-records';
import { bucketHolds, bucketOf, recipientHash, recipientHashesByBucket } from '../../domain/recipient-hashes';
import type { ChunkSummary } from '../../domain/send-status';
import {
  type ChunkTracking,
  decodeChunkTracking,
  type ReceiptEvent,
  type RecordedChunk,
  trackingExpiry,
  unpackChunkTracking,
} from '../../domain/tracking';
import { batchGetAll } from './batch-get';
import { FULL_TOKEN_ATTRIBUTE } from './devices-keys';
import {
  NOTIFICATIONS_TABLE,
  PACKED_TRACKING_ATTRIBUTE,
  parseSortKey,
  receiptKey,
  recipientsKey,
  trackingPageKey,
  trackingShardPks,
} from './notifications-keys';

/**
 * An app's receipt: one small item of its own (on the device's shard), whenever it
 * arrives — also before the sender recorded the APNs answer. Repeats are
 * idempotent; `opened` keeps the first `receivedAt`. One write.
 */
export async function recordReceipt(
  notificationId: string,
  token: string,
  userId: string,
  event: ReceiptEvent,
  now = new Date(),
): Promise<void> {
  const stamp = event === 'opened' ? ', openedAt = if_not_exists(openedAt, :now)' : '';
  // A token keyed by its digest is kept beside the key, so the status shows the token.
  const keepToken = tokenKey(token) === token ? '' : ', #fullToken = :fullToken';
  await dynamo.send(
    new UpdateCommand({
      TableName: config.notificationsTableName,
      Key: receiptKey(notificationId, token),
      UpdateExpression: `SET userId = :userId, receivedAt = if_not_exists(receivedAt, :now)${stamp}, #ttl = :ttl${keepToken}`,
      ExpressionAttributeNames: {
        '#ttl': NOTIFICATIONS_TABLE.ttlAttribute,
        ...(keepToken ? { '#fullToken': FULL_TOKEN_ATTRIBUTE } : {}),
      },
      ExpressionAttributeValues: {
        ':userId': userId,
        ':now': now.toISOString(),
        ':ttl': trackingExpiry(now),
        ...(keepToken ? { ':fullToken': token } : {}),
      },
    }),
  );
}

/**
 * Writes pages 1, 2, … of a tracked chunk's outcomes (`pages[0]` rides on the chunk's
 * completion), before the chunk is marked completed: a completed chunk's pages are
 * all there, and a chunk sent again writes the same keys over. One write per page.
 */
export async function saveTrackingPages(
  notificationId: string,
  part: string,
  attempt: number,
  chunk: number,
  pages: readonly ChunkTracking[],
  now = new Date(),
): Promise<void> {
  await Promise.all(
    pages.slice(1).map((page, index) =>
      dynamo.send(
        new PutCommand({
          TableName: config.notificationsTableName,
          Item: {
            ...trackingPageKey(notificationId, part, attempt, chunk, index + 1),
            outcomes: page.outcomes,
            users: page.users,
            reasons: page.reasons,
            [NOTIFICATIONS_TABLE.ttlAttribute]: trackingExpiry(now),
          },
        }),
      ),
    ),
  );
}

/** The tokens among `tokens` that the app has acknowledged (a receipt exists). */
export async function acknowledgedTokens(
  notificationId: string,
  tokens: readonly string[],
): Promise<Set<string>> {
  const items = await batchGetAll(
    config.notificationsTableName,
    tokens.map((token) => receiptKey(notificationId, token)),
    { expression: '#sk', names: { '#sk': NOTIFICATIONS_TABLE.sortKey } },
  );
  const byKey = new Map(tokens.map((token) => [tokenKey(token), token]));
  const acknowledged = new Set<string>();
  for (const item of items) {
    const key = parseSortKey(item[NOTIFICATIONS_TABLE.sortKey]);
    const token = key.kind === 'receipt' ? byKey.get(key.token) : undefined;
    if (token !== undefined) acknowledged.add(token);
  }
  return acknowledged;
}

/**
 * Everything recorded about a notification: one paginated Query per shard (at
 * most TRACKING_SHARDS × 0.5 RCU for a small one; ~50 bytes per device beyond).
 */
export async function readTracking(notificationId: string): Promise<NotificationTracking> {
  const tracking: NotificationTracking = {
    chunks: [],
    receipts: [],
    progress: [],
    summaries: [],
    deadLettered: [],
  };
  const paged: PagedChunks = { chunks: new Map(), pages: new Map() };
  await Promise.all(
    trackingShardPks(notificationId).map(async (pk) => {
      const pages = paginateQuery(
        { client: dynamo },
        {
          TableName: config.notificationsTableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': NOTIFICATIONS_TABLE.partitionKey },
          ExpressionAttributeValues: { ':pk': pk },
        },
      );
      for await (const page of pages) {
        for (const item of page.Items ?? []) addRecord(tracking, paged, item);
      }
    }),
  );
  addPages(paged);
  return tracking;
}

/** Chunks whose outcomes take several pages, and the pages read, by `<part>#<attempt>#<chunk>`. */
interface PagedChunks {
  chunks: Map<string, { recorded: RecordedChunk; pages: number }>;
  pages: Map<string, Map<number, ChunkTracking>>;
}

/**
 * Adds pages 1, 2, … to their completed chunk's outcomes. Only the pages its record
 * counts: a page left by an earlier, unfinished try of the chunk is not read.
 */
function addPages(paged: PagedChunks): void {
  for (const [chunkName, { recorded, pages }] of paged.chunks) {
    const found = paged.pages.get(chunkName);
    for (let page = 1; page < pages; page++) {
      const tracking = found?.get(page);
      if (tracking === undefined) throw new Error(`page ${page} of a tracked chunk's outcomes is missing`);
      recorded.statuses.push(...decodeChunkTracking(tracking));
    }
  }
}

function addRecord(tracking: NotificationTracking, paged: PagedChunks, item: Record<string, unknown>): void {
  const key = parseSortKey(item[NOTIFICATIONS_TABLE.sortKey]);
  if (key.kind === 'trackingPage') {
    const chunkName = `${key.part}#${key.attempt}#${key.chunk}`;
    const pages = paged.pages.get(chunkName) ?? new Map<number, ChunkTracking>();
    pages.set(key.page, item as unknown as ChunkTracking);
    paged.pages.set(chunkName, pages);
    return;
  }
  if (key.kind === 'receipt') {
    tracking.receipts.push({
      token: typeof item[FULL_TOKEN_ATTRIBUTE] === 'string' ? item[FULL_TOKEN_ATTRIBUTE] : key.token,
      userId: String(item.userId),
      receivedAt: String(item.receivedAt),
      ...(typeof item.openedAt === 'string' ? { openedAt: item.openedAt } : {}),
    });
    return;
  }
  if (key.kind === 'deadLetter') {
    tracking.deadLettered.push({
      part: key.part,
      attempt: key.attempt,
      reason: String(item.reason),
      detail: String(item.detail ?? ''),
      at: String(item.at),
    });
    return;
  }
  if (key.kind !== 'progress') return;
  const { part, attempt, chunk } = key;
  const completed = item.completedAt !== undefined;
  tracking.progress.push({
    part,
    attempt,
    chunk,
    completed,
    ...(typeof item.chunks === 'number' ? { chunks: item.chunks } : {}),
  });
  if (completed && typeof item.summary === 'object' && item.summary !== null) {
    tracking.summaries.push({ part, attempt, summary: item.summary as ChunkSummary });
  }
  const packed = item[PACKED_TRACKING_ATTRIBUTE];
  const stored =
    packed instanceof Uint8Array
      ? unpackChunkTracking(packed)
      : typeof item.outcomes === 'string'
        ? (item as unknown as ChunkTracking)
        : undefined;
  if (completed && stored !== undefined) {
    const recorded: RecordedChunk = {
      at: String(item.completedAt),
      ...(typeof item.round === 'number' ? { round: item.round } : {}),
      statuses: decodeChunkTracking(stored),
    };
    tracking.chunks.push(recorded);
    if (typeof item.trackingPages === 'number' && item.trackingPages > 1)
      paged.chunks.set(`${part}#${attempt}#${chunk}`, { recorded, pages: item.trackingPages });
  }
}

/**
 * Stores who a tracked job is for (user ids or tokens, hashed), so that a receipt
 * can be checked before the sender has recorded anything. 6 bytes per recipient: the
 * hashes side by side, as binary.
 */
export async function saveRecipients(
  notificationId: string,
  recipients: readonly string[],
  now = new Date(),
): Promise<void> {
  const hashes = recipientHashesByBucket(notificationId, recipients);
  const buckets = hashes.length;
  const expiry = trackingExpiry(now);
  for (let start = 0; start < buckets; start += 16) {
    await Promise.all(
      hashes.slice(start, start + 16).map((list, i) =>
        dynamo.send(
          new PutCommand({
            TableName: config.notificationsTableName,
            Item: {
              ...recipientsKey(notificationId, start + i),
              hashes: Buffer.from(list.join(''), 'hex'),
              [NOTIFICATIONS_TABLE.ttlAttribute]: expiry,
            },
          }),
        ),
      ),
    );
  }
}

/** Whether `recipient` is one of the job's recipients (see saveRecipients). */
export async function isRecipient(
  notificationId: string,
  buckets: number,
  recipient: string,
): Promise<boolean> {
  const hash = recipientHash(notificationId, recipient);
  const { Item: item } = await dynamo.send(
    new GetCommand({
      TableName: config.notificationsTableName,
      Key: recipientsKey(notificationId, bucketOf(hash, buckets)),
      ProjectionExpression: 'hashes',
    }),
  );
  // Bytes since hashes were packed (6 per recipient); hex text in items written before.
  const hashes: unknown = item?.hashes;
  const stored =
    hashes instanceof Uint8Array
      ? Buffer.from(hashes).toString('hex')
      : typeof hashes === 'string'
        ? hashes
        : '';
  return bucketHolds(stored, hash);
}
