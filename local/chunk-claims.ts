import { type DynamoDBClient, paginateScan, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { NOTIFICATIONS_TABLE } from '../lambda/adapters/secondary/notifications-keys';

/**
 * Ends the chunk leases (`claimedUntil` on progress records) the previous offline run
 * still held. The sender claims a chunk for five minutes, less than the send queue's
 * visibility timeout, so in AWS a crashed invocation's chunks are free again when SQS
 * redelivers its message. Offline, the restored queue redelivers at once (the
 * consumer died with the process), so its leases must end at once too — or the
 * redelivered job would skip those chunks as another invocation's, and they would
 * never be sent.
 */
export async function releaseChunkClaims(client: DynamoDBClient, tableName: string): Promise<number> {
  const names = { '#pk': NOTIFICATIONS_TABLE.partitionKey, '#sk': NOTIFICATIONS_TABLE.sortKey };
  const pages = paginateScan(
    { client },
    {
      TableName: tableName,
      FilterExpression: 'attribute_exists(claimedUntil) AND attribute_not_exists(completedAt)',
      ProjectionExpression: '#pk, #sk',
      ExpressionAttributeNames: names,
    },
  );
  let released = 0;
  for await (const page of pages) {
    for (const key of page.Items ?? []) {
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression: 'REMOVE claimedUntil',
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#pk': NOTIFICATIONS_TABLE.partitionKey },
        }),
      );
      released++;
    }
  }
  return released;
}
