import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, paginateQuery, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../../clients';
import { config } from '../../config';
import {
  IDEMPOTENCY_WINDOW_DAYS,
  NOTIFICATIONS_TABLE,
  notificationPk,
  PROGRESS_TTL_DAYS,
  progressKey,
  progressPrefix,
  requestKey,
} from './notifications-keys';

/**
 * The chunks of one part of a job already completed at this attempt. SQS delivers at
 * least once and the DLQ can be redriven: these let a repeated job skip what it did.
 */
export async function completedChunks(
  notificationId: string,
  part: string,
  attempt: number,
): Promise<Set<number>> {
  const prefix = progressPrefix(part, attempt);
  const pages = paginateQuery(
    { client: dynamo },
    {
      TableName: config.notificationsTableName,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: {
        '#pk': NOTIFICATIONS_TABLE.partitionKey,
        '#sk': NOTIFICATIONS_TABLE.sortKey,
      },
      ExpressionAttributeValues: { ':pk': notificationPk(notificationId), ':prefix': prefix },
      ProjectionExpression: '#sk, completedAt',
    },
  );
  const done = new Set<number>();
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      if (item.completedAt !== undefined) done.add(Number(String(item.sk).slice(prefix.length)));
    }
  }
  return done;
}

/**
 * What claiming a chunk found: `claimed` — this invocation holds it now;
 * `completed` — an earlier delivery finished it; `held` — another invocation holds
 * an unexpired lease and has not finished (a concurrent duplicate delivery, or one
 * that crashed: only the lease's end tells them apart).
 */
export type ChunkClaim = 'claimed' | 'completed' | 'held';

/**
 * Claims a chunk for this invocation for `leaseMs`. The lease is shorter than the
 * queue's visibility timeout, so a crashed invocation's chunks are free again when
 * SQS redelivers its message.
 */
export async function claimChunk(
  notificationId: string,
  part: string,
  attempt: number,
  chunk: number,
  leaseMs: number,
  now = new Date(),
): Promise<ChunkClaim> {
  const key = progressKey(notificationId, part, attempt, chunk);
  try {
    await dynamo.send(
      new UpdateCommand({
        TableName: config.notificationsTableName,
        Key: key,
        UpdateExpression: 'SET claimedUntil = :until, #ttl = :ttl',
        ConditionExpression:
          'attribute_not_exists(completedAt) AND (attribute_not_exists(claimedUntil) OR claimedUntil < :now)',
        ExpressionAttributeNames: { '#ttl': NOTIFICATIONS_TABLE.ttlAttribute },
        ExpressionAttributeValues: {
          ':until': now.getTime() + leaseMs,
          ':now': now.getTime(),
          ':ttl': progressExpiry(now),
        },
      }),
    );
    return 'claimed';
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
  // Which condition failed (the embedded DynamoDB has no ReturnValuesOnConditionCheckFailure).
  const { Item } = await dynamo.send(
    new GetCommand({
      TableName: config.notificationsTableName,
      Key: key,
      ConsistentRead: true,
      ProjectionExpression: 'completedAt',
    }),
  );
  return Item?.completedAt === undefined ? 'held' : 'completed';
}

/**
 * Gives up a claim before its lease ends: the chunk's job went to the dead-letter
 * queue, and a redrive must be able to send it at once, not after the lease.
 */
export async function releaseChunk(
  notificationId: string,
  part: string,
  attempt: number,
  chunk: number,
): Promise<void> {
  try {
    await dynamo.send(
      new UpdateCommand({
        TableName: config.notificationsTableName,
        Key: progressKey(notificationId, part, attempt, chunk),
        UpdateExpression: 'REMOVE claimedUntil',
        ConditionExpression: 'attribute_exists(claimedUntil) AND attribute_not_exists(completedAt)',
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

/** Records that every device of a chunk ended accepted, pruned, re-queued or dead-lettered. */
export async function markChunkCompleted(
  notificationId: string,
  part: string,
  attempt: number,
  chunk: number,
  now = new Date(),
): Promise<void> {
  await dynamo.send(
    new UpdateCommand({
      TableName: config.notificationsTableName,
      Key: progressKey(notificationId, part, attempt, chunk),
      UpdateExpression: 'SET completedAt = :now, #ttl = :ttl REMOVE claimedUntil',
      ExpressionAttributeNames: { '#ttl': NOTIFICATIONS_TABLE.ttlAttribute },
      ExpressionAttributeValues: { ':now': now.toISOString(), ':ttl': progressExpiry(now) },
    }),
  );
}

function progressExpiry(now: Date): number {
  return Math.floor(now.getTime() / 1000) + PROGRESS_TTL_DAYS * 86_400;
}

export interface SendRequestRecord {
  notificationId: string;
  /** What the API answered (202 body). */
  answer: Record<string, unknown>;
  /** `pending` until every job of the request is on the queue. */
  status: 'pending' | 'enqueued';
  createdAt: string;
  /** The job's fingerprint: a repeat must ask for exactly the same (absent on records from before it existed). */
  jobFingerprint?: string;
}

/**
 * Takes a notification id for a send request: a conditional put, so two racing
 * requests with one id cannot both win. Returns the existing record when the id
 * was already taken.
 */
export async function takeNotificationId(
  record: SendRequestRecord,
  now = new Date(),
): Promise<{ taken: true } | { taken: false; existing: SendRequestRecord }> {
  try {
    await dynamo.send(
      new PutCommand({
        TableName: config.notificationsTableName,
        Item: {
          ...requestKey(record.notificationId),
          ...record,
          [NOTIFICATIONS_TABLE.ttlAttribute]:
            Math.floor(now.getTime() / 1000) + IDEMPOTENCY_WINDOW_DAYS * 86_400,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return { taken: true };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
  const { Item } = await dynamo.send(
    new GetCommand({
      TableName: config.notificationsTableName,
      Key: requestKey(record.notificationId),
      ConsistentRead: true,
    }),
  );
  if (Item === undefined) throw new Error('notification id taken but its record is gone');
  return { taken: false, existing: Item as SendRequestRecord };
}

export async function markRequestEnqueued(notificationId: string): Promise<void> {
  await dynamo.send(
    new UpdateCommand({
      TableName: config.notificationsTableName,
      Key: requestKey(notificationId),
      UpdateExpression: 'SET #status = :enqueued',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':enqueued': 'enqueued' },
    }),
  );
}

export async function findSendRequest(notificationId: string): Promise<SendRequestRecord | undefined> {
  const { Item } = await dynamo.send(
    new GetCommand({ TableName: config.notificationsTableName, Key: requestKey(notificationId) }),
  );
  return Item as SendRequestRecord | undefined;
}
