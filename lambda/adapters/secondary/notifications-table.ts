import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { paginateQuery, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../../clients';
import { config } from '../../config';
import {
  NOTIFICATIONS_TABLE,
  notificationPk,
  PROGRESS_TTL_DAYS,
  progressKey,
  progressPrefix,
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
 * Claims a chunk for this invocation for `leaseMs`: false when it is completed or
 * another invocation (a concurrent duplicate delivery of the same message) holds
 * it. The lease is shorter than the queue's visibility timeout, so a crashed
 * invocation's chunks are free again when SQS redelivers its message.
 */
export async function claimChunk(
  notificationId: string,
  part: string,
  attempt: number,
  chunk: number,
  leaseMs: number,
  now = new Date(),
): Promise<boolean> {
  try {
    await dynamo.send(
      new UpdateCommand({
        TableName: config.notificationsTableName,
        Key: progressKey(notificationId, part, attempt, chunk),
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
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
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
