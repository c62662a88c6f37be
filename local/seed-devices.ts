import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { retryUnprocessed } from '../lambda/adapters/secondary/retry-unprocessed';
import { type Device, deviceExpiry } from '../lambda/domain/device';
import { ENVIRONMENT } from '../lambda/environment';
import { mapConcurrent } from '../lambda/use-cases/delivery/concurrency';

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
  const table = target.tableName ?? process.env[ENVIRONMENT.devicesTable];
  if (table === undefined || table === '') {
    throw new Error(
      `seedDevices needs the Devices table: pass target.tableName or set ${ENVIRONMENT.devicesTable}.`,
    );
  }
  const batches = Array.from({ length: Math.ceil(items.length / 25) }, (_, index) =>
    items.slice(index * 25, index * 25 + 25),
  );
  await mapConcurrent(batches, 8, (batch) =>
    retryUnprocessed(
      batch.map((Item) => ({ PutRequest: { Item } })),
      async (requests) => {
        const result: BatchWriteCommandOutput = await db.send(
          new BatchWriteCommand({ RequestItems: { [table]: [...requests] } }),
        );
        return result.UnprocessedItems?.[table] as { PutRequest: { Item: Device } }[] | undefined;
      },
      {
        attempts: 8,
        firstPauseMs: 25,
        failure: (undone) => `DynamoDB left ${undone} device writes to ${table} unprocessed`,
      },
    ),
  );
  if (target.client === undefined) client.destroy();
  return items;
}
