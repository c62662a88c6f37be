import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { deviceExpiry } from '../lambda/domain/device';

/** Seeds devices with a separate client, so set-up traffic is not counted as the system's. */
export async function seedDevicesDirect(
  userIds: readonly string[],
  perUser: number,
  appId: string,
): Promise<void> {
  const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  const now = new Date();
  const items = userIds.flatMap((userId) =>
    Array.from({ length: perUser }, () => ({
      token: randomBytes(32).toString('hex'),
      userId,
      appId,
      environment: 'production',
      registeredAt: now.toISOString(),
      lastSeenAt: now.toISOString(),
      expiresAt: deviceExpiry(now),
    })),
  );
  const table = process.env.DEVICES_TABLE_NAME ?? '';
  for (let start = 0; start < items.length; start += 25) {
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
  db.destroy();
}
