import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Device } from '../../lambda/domain/device';
import { startDynamo } from '../../local/dynamodb';
import { seedDevices } from '../../local/seed-devices';
import { OFFLINE_TABLES } from '../../local/stack';
import { devicesTableDefinition, ensureTable } from '../../local/tables';
import type { Offline } from './offline-process';

export const APP_ID = 'com.example.app';

export async function call(
  offline: Offline,
  method: string,
  path: string,
  options: { bearer?: string; body?: unknown } = {},
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are read freely by tests
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${offline.base}${path}`, {
    method,
    headers: {
      ...(options.bearer ? { authorization: `Bearer ${options.bearer}` } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** Polls until `check` returns a value (not undefined), or fails with what it last saw. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 90_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export interface InboxNotification {
  seq: number;
  token: string;
  payload: { pushgate?: { id?: string } };
}

/** Every notification in the simulator's inbox, read page by page. */
export async function readInbox(
  offline: Offline,
  limit = 10_000,
): Promise<{ total: number; notifications: InboxNotification[] }> {
  const notifications: InboxNotification[] = [];
  let after: number | undefined = 0;
  let total = 0;
  while (after !== undefined) {
    const { body } = await call(offline, 'GET', `/_local/apns/inbox?after=${after}&limit=${limit}`);
    notifications.push(...body.notifications);
    total = body.total;
    after = body.next;
  }
  return { total, notifications };
}

/** Seeds devices into an offline home's persisted DynamoDB before `npm start` opens it. */
export async function seedOfflineHome(
  home: string,
  userIds: readonly string[],
  perUser: number,
): Promise<Device[]> {
  const path = join(home, 'dynamodb');
  mkdirSync(path, { recursive: true });
  const dynamo = await startDynamo({ path });
  const client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    await ensureTable(client, devicesTableDefinition(OFFLINE_TABLES.devices));
    return await seedDevices(userIds, perUser, APP_ID, { client, tableName: OFFLINE_TABLES.devices });
  } finally {
    client.destroy();
    await dynamo.stop();
  }
}
