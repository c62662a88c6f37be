import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { userOfKey } from '../lambda/adapters/secondary/devices-keys';
import { listDeliveries } from '../lambda/adapters/secondary/tracking-table';
import { isCurrentGeneration } from '../lambda/domain/device';
import { ENVIRONMENT } from '../lambda/environment';
import type { LocalStack } from './stack';

/** What the dashboard shows: devices by user, recent notifications per device, the inbox, DLQ depth. */
export async function dashboardState(stack: LocalStack, appId: string) {
  const dynamo = new DynamoDBClient({});
  try {
    const devices: Record<string, unknown>[] = [];
    let start: Record<string, never> | undefined;
    do {
      const page = await dynamo.send(
        new ScanCommand({
          TableName: process.env[ENVIRONMENT.devicesTable],
          ExclusiveStartKey: start,
          Limit: 500,
        }),
      );
      devices.push(...(page.Items ?? []).map((item) => unmarshall(item)));
      start = page.LastEvaluatedKey as typeof start;
    } while (start && devices.length < 2_000);
    const byUser: Record<
      string,
      { token: string; kind: string; environment: string; lastSeenAt: string; for?: string }[]
    > = {};
    // Users' device generations (devices-keys.ts `userKey`): an erase makes older records inert.
    const generations = new Map<string, number>();
    for (const item of devices) {
      const userId = userOfKey(item);
      if (userId !== undefined) generations.set(userId, Number(item.generation ?? 0));
    }
    for (const device of devices) {
      if (userOfKey(device) !== undefined) continue;
      if (device.kind === 'activity') continue; // an activity id's owner, not a token
      if (
        device.kind === undefined &&
        !isCurrentGeneration(device.generation as number | undefined, generations.get(String(device.userId)))
      )
        continue;
      // Live Activity tokens share the table under kind-prefixed keys, owned by `ownerId`.
      const liveActivity = typeof device.kind === 'string';
      const userId = String(liveActivity ? device.ownerId : device.userId);
      const list = byUser[userId] ?? [];
      byUser[userId] = list;
      const target = device.attributesType ?? device.activityId;
      list.push({
        token: String(liveActivity ? device.apnsToken : device.token),
        kind: liveActivity ? String(device.kind) : 'device',
        environment: String(device.environment),
        lastSeenAt: String(device.lastSeenAt),
        ...(target === undefined ? {} : { for: String(target) }),
      });
    }
    const inbox = (stack.simulator?.inbox ?? []).slice(-200);
    const inboxTotal = stack.simulator?.received.total ?? 0;
    const notifications = new Map<
      string,
      { notificationId: string; devices: { token: string; receivedAt: string }[]; title: string }
    >();
    for (const entry of inbox) {
      const payload = entry.payload as { pushgate?: { id?: string }; aps?: { alert?: unknown } };
      const id = payload.pushgate?.id ?? '(none)';
      const alert = payload.aps?.alert;
      const title =
        typeof alert === 'string' ? alert : String((alert as { title?: string } | undefined)?.title ?? '');
      const record = notifications.get(id) ?? { notificationId: id, devices: [], title };
      record.devices.push({ token: entry.token, receivedAt: entry.receivedAt });
      notifications.set(id, record);
    }
    const { Attributes = {} } = await stack.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: stack.queues.deadLetterQueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    const recent = await Promise.all(
      [...notifications.values()]
        .reverse()
        .slice(0, 20)
        .map(async (notification) => {
          const tracked = await listDeliveries(notification.notificationId);
          return {
            ...notification,
            deliveries: tracked.map(({ token, status, reason }) => ({ token, status, reason })),
          };
        }),
    );
    return {
      appId,
      devicesByUser: byUser,
      notifications: recent,
      inbox: inbox.slice(-20).reverse(),
      inboxTotal,
      deadLetterQueueDepth: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    };
  } finally {
    dynamo.destroy();
  }
}
