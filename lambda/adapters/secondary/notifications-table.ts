import { PutCommand, paginateQuery } from '@aws-sdk/lib-dynamodb';
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
 * The chunks of one part of a job already handled at this attempt. SQS delivers at
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
      ProjectionExpression: '#sk',
    },
  );
  const done = new Set<number>();
  for await (const page of pages) {
    for (const item of page.Items ?? []) done.add(Number(String(item.sk).slice(prefix.length)));
  }
  return done;
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
    new PutCommand({
      TableName: config.notificationsTableName,
      Item: {
        ...progressKey(notificationId, part, attempt, chunk),
        completedAt: now.toISOString(),
        [NOTIFICATIONS_TABLE.ttlAttribute]: Math.floor(now.getTime() / 1000) + PROGRESS_TTL_DAYS * 86_400,
      },
    }),
  );
}
