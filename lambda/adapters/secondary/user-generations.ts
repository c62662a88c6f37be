import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../../clients';
import { config } from '../../config';
import { batchGetAll } from './batch-get';
import { DEVICES_TABLE, userKey, userOfKey } from './devices-keys';

/*
 * Users' device generations (docs/decisions/device-generations.md): one small item
 * per user in the Devices table, moved on by each erase. Device and Live Activity
 * token records carry the generation they were written in.
 */

/** A user's current device generation (0 for a user never erased), read strongly consistent. */
export async function userGeneration(userId: string): Promise<number> {
  const { Item } = await dynamo.send(
    new GetCommand({
      TableName: config.devicesTableName,
      Key: userKey(userId),
      ConsistentRead: true,
      ProjectionExpression: 'generation',
    }),
  );
  return typeof Item?.generation === 'number' ? Item.generation : 0;
}

/** Moves the user's device generation on by one; returns the new one. */
export async function startNewGeneration(userId: string, now: Date): Promise<number> {
  const { Attributes } = await dynamo.send(
    new UpdateCommand({
      TableName: config.devicesTableName,
      Key: userKey(userId),
      UpdateExpression: 'ADD generation :one SET erasedAt = :now',
      ExpressionAttributeValues: { ':one': 1, ':now': now.toISOString() },
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  if (typeof Attributes?.generation !== 'number')
    throw new Error('DynamoDB did not return the new device generation');
  return Attributes.generation;
}

/** The device generation of each of these users (0 for users never erased), read strongly consistent. */
export async function userGenerations(userIds: readonly string[]): Promise<Map<string, number>> {
  const generations = new Map<string, number>(userIds.map((userId) => [userId, 0]));
  if (userIds.length === 0) return generations;
  const items = await batchGetAll(
    config.devicesTableName,
    userIds.map(userKey),
    { expression: '#token, generation', names: { '#token': DEVICES_TABLE.partitionKey } },
    true,
  );
  for (const item of items) {
    const userId = userOfKey(item);
    if (userId !== undefined) generations.set(userId, Number(item.generation ?? 0));
  }
  return generations;
}
