import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { deviceOfItem, userOfKey } from '../lambda/adapters/secondary/devices-keys';
import { isCurrentGeneration } from '../lambda/domain/device';
import { ENVIRONMENT } from '../lambda/environment';
import { peekDeadLetters } from './dead-letters';
import type { LocalStack } from './stack';

/**
 * What the dashboard refreshes every second: devices by user (with their platform),
 * the latest of each simulator's inbox (APNs with its headers, FCM with its message), and the dead-letter queue — each job
 * with its reason. Notifications come from the tables (dashboard-notifications.ts).
 */
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
      {
        token: string;
        kind: string;
        platform: string;
        environment: string;
        lastSeenAt: string;
        for?: string;
      }[]
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
        token: String(liveActivity ? device.apnsToken : deviceOfItem(device).token),
        kind: liveActivity ? String(device.kind) : 'device',
        // Records written before Android existed have no platform: iOS ones.
        platform: String(device.platform ?? 'ios'),
        environment: device.platform === 'android' ? '—' : String(device.environment),
        lastSeenAt: String(device.lastSeenAt),
        ...(target === undefined ? {} : { for: String(target) }),
      });
    }
    const inbox = (stack.simulator?.inbox ?? []).slice(-20).reverse();
    const fcmInbox = (stack.fcmSimulator?.received.entries ?? []).slice(-20).reverse();
    const { depth, deadLetters } = await peekDeadLetters(stack.sqs, stack.queues.deadLetterQueueUrl);
    return {
      appId,
      devicesByUser: byUser,
      inbox: inbox.map(({ seq, token, topic, headers, payload, receivedAt }) => ({
        seq,
        token,
        topic,
        headers,
        payload,
        receivedAt,
      })),
      inboxTotal: stack.simulator?.received.total ?? 0,
      fcmInbox: fcmInbox.map(({ seq, token, projectId, message, receivedAt }) => ({
        seq,
        token,
        projectId,
        message,
        receivedAt,
      })),
      fcmInboxTotal: stack.fcmSimulator?.received.total ?? 0,
      deadLetterQueueDepth: depth,
      deadLetters,
    };
  } finally {
    dynamo.destroy();
  }
}
