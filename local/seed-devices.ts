import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { type Device, deviceExpiry } from '../lambda/domain/device';

/**
 * Writes many devices straight into the Devices table, with a client of its own so
 * set-up traffic is never counted as the system's — for large-audience tests and
 * benchmarks, where registering through the API would only slow them down. By
 * default the table named by DEVICES_TABLE_NAME at the SDK's configured endpoint.
 */
export async function seedDevices(
  userIds: readonly string[],
  perUser: number,
  appId: string,
  target: { client?: DynamoDBClient; tableName?: string } = {},
): Promise<Device[]> {
  const client = target.client ?? new DynamoDBClient({});
  const db = DynamoDBDocumentClient.from(client);
  const now = new Date();
  const items: Device[] = userIds.flatMap((userId) =>
    Array.from({ length: perUser }, () => ({
      token: randomBytes(32).toString('hex'),
      userId,
      appId,
      environment: 'production' as const,
      registeredAt: now.toISOString(),
      lastSeenAt: now.toISOString(),
      expiresAt: deviceExpiry(now),
    })),
  );
  const table = target.tableName ?? process.env.DEVICES_TABLE_NAME ?? '';
  let next = 0;
  const writer = async () => {
    for (let start = next; start < items.length; start = next) {
      next += 25;
      let requests = items.slice(start, start + 25).map((Item) => ({ PutRequest: { Item } })) as
        | never[]
        | undefined;
      while (requests?.length) {
        const result: BatchWriteCommandOutput = await db.send(
          new BatchWriteCommand({ RequestItems: { [table]: requests } }),
        );
        requests = result.UnprocessedItems?.[table] as never[] | undefined;
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, writer));
  if (target.client === undefined) client.destroy();
  return items;
}
