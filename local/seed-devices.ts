import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import {
  DEVICE_SET,
  deviceItem,
  setEntryName,
  setEntryValue,
  userKey,
} from '../lambda/adapters/secondary/devices-keys';
import { retryUnprocessed } from '../lambda/adapters/secondary/retry-unprocessed';
import { mapConcurrent } from '../lambda/domain/concurrency';
import { type Device, deviceExpiry } from '../lambda/domain/device';
import type { DevicePlatform, DeviceSetEntry } from '../lambda/domain/device-set';
import { ENVIRONMENT } from '../lambda/environment';

/**
 * Writes many devices straight into the Devices table — each user's token records
 * and the user's device set (all the user's seeded devices, whatever the cap: the
 * sender cuts a set larger than its cap) — with a client of its own so set-up traffic
 * is never counted as the system's, for large-audience tests and benchmarks, where
 * registering through the API would only slow them down. The users must be new (their
 * sets are written whole). By default the table named by DEVICES_TABLE_NAME at the
 * SDK's configured endpoint. iOS devices unless `platform` says otherwise; Android
 * tokens of `fcmTokenLength` characters when given (FCM's are ~160 today; MAX_FCM_TOKEN_LENGTH accepted).
 */
export async function seedDevices(
  userIds: readonly string[],
  perUser: number,
  appId: string,
  target: { client?: DynamoDBClient; tableName?: string } = {},
  platform: DevicePlatform = 'ios',
  fcmTokenLength?: number,
): Promise<Device[]> {
  const client = target.client ?? new DynamoDBClient({});
  const db = DynamoDBDocumentClient.from(client);
  const now = new Date();
  const items: Device[] = userIds.flatMap((userId) =>
    Array.from({ length: perUser }, () => ({
      token: platform === 'android' ? fcmToken(fcmTokenLength) : randomBytes(32).toString('hex'),
      userId,
      appId,
      environment: 'production' as const,
      registeredAt: now.toISOString(),
      lastSeenAt: now.toISOString(),
      expiresAt: deviceExpiry(now),
      platform,
      version: 0,
    })),
  );
  const sets = userIds.map((userId) => {
    const set: Record<string, unknown> = { ...userKey(userId), [DEVICE_SET.version]: 1 };
    for (const device of items) {
      if (device.userId !== userId) continue;
      const entry: DeviceSetEntry = {
        appId: device.appId,
        environment: device.environment,
        platform,
        lastSeenAt: device.lastSeenAt,
        expiresAt: device.expiresAt,
        version: 0,
      };
      set[setEntryName(device.token)] = setEntryValue(device.token, entry);
    }
    return set;
  });
  const table = target.tableName ?? process.env[ENVIRONMENT.devicesTable];
  if (table === undefined || table === '') {
    throw new Error(
      `seedDevices needs the Devices table: pass target.tableName or set ${ENVIRONMENT.devicesTable}.`,
    );
  }
  const all: object[] = [...items.map(deviceItem), ...sets];
  const batches = Array.from({ length: Math.ceil(all.length / 25) }, (_, index) =>
    all.slice(index * 25, index * 25 + 25),
  );
  await mapConcurrent(batches, 8, (batch) =>
    retryUnprocessed(
      batch.map((Item) => ({ PutRequest: { Item } })),
      async (requests) => {
        const result: BatchWriteCommandOutput = await db.send(
          new BatchWriteCommand({ RequestItems: { [table]: [...requests] } }),
        );
        return result.UnprocessedItems?.[table] as { PutRequest: { Item: object } }[] | undefined;
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

/** A token in the form FCM issues them, `<instance id>:APA91b<key>`, of `length` characters when given. */
function fcmToken(length?: number): string {
  const head = `${randomBytes(8).toString('base64url')}:APA91b`;
  if (length === undefined) return `${head}${randomBytes(105).toString('base64url')}`;
  return `${head}${randomBytes(length).toString('base64url')}`.slice(0, length);
}
