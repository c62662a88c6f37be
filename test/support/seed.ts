import { BatchWriteCommand, type BatchWriteCommandOutput } from '@aws-sdk/lib-dynamodb';
import { type Device, deviceExpiry } from '../../lambda/domain/device';
import { newToken } from './api';
import { TEST_APP_ID } from './embedded-services';
import { db } from './sender-harness';

/**
 * Writes many devices straight into the Devices table — test set-up for large
 * audiences, where 20 000 registrations through the API would only slow the suite.
 */
export async function seedDevices(userIds: readonly string[], devicesPerUser: number): Promise<Device[]> {
  const now = new Date();
  const devices: Device[] = userIds.flatMap((userId) =>
    Array.from({ length: devicesPerUser }, () => ({
      token: newToken(),
      userId,
      appId: TEST_APP_ID,
      environment: 'production' as const,
      registeredAt: now.toISOString(),
      lastSeenAt: now.toISOString(),
      expiresAt: deviceExpiry(now),
    })),
  );
  const batches = Array.from({ length: Math.ceil(devices.length / 25) }, (_, i) =>
    devices.slice(i * 25, i * 25 + 25),
  );
  const tableName = process.env.DEVICES_TABLE_NAME ?? '';
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++] ?? [];
      let requests = batch.map((device) => ({ PutRequest: { Item: device } })) as
        | Record<string, unknown>[]
        | undefined;
      while (requests?.length) {
        const result: BatchWriteCommandOutput = await db.send(
          new BatchWriteCommand({ RequestItems: { [tableName]: requests as never } }),
        );
        requests = result.UnprocessedItems?.[tableName] as Record<string, unknown>[] | undefined;
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return devices;
}
