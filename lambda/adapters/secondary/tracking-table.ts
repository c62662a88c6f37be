import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, paginateQuery, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../../clients';
import { config } from '../../config';
import { NotFoundError } from '../../domain/errors';
import {
  type DeliveryStatus,
  type DeviceDelivery,
  type ReceiptEvent,
  trackingExpiry,
} from '../../domain/tracking';
import { batchGetAll } from './batch-get';
import { DELIVERY_PREFIX, deliveryKey, NOTIFICATIONS_TABLE, notificationPk } from './notifications-keys';

const FORWARD_FROM: Record<DeliveryStatus, DeliveryStatus[]> = {
  queued: ['queued'],
  accepted: ['queued', 'accepted'],
  received: ['queued', 'accepted', 'received'],
  opened: ['queued', 'accepted', 'received', 'opened'],
  pruned: ['queued', 'accepted'],
  failed: ['queued', 'accepted'],
};

/**
 * Records what happened to one recipient device. Statuses only move forward, so
 * an app's receipt that raced ahead of the sender's own write is never undone:
 * when the status may not move, the other fields are still recorded.
 */
export async function recordDelivery(
  notificationId: string,
  delivery: Omit<DeviceDelivery, 'updatedAt'>,
  now = new Date(),
): Promise<void> {
  const { token, status, ...fields } = delivery;
  const names: Record<string, string> = { '#ttl': NOTIFICATIONS_TABLE.ttlAttribute };
  const values: Record<string, unknown> = { ':now': now.toISOString(), ':ttl': trackingExpiry(now) };
  const sets = ['updatedAt = :now', '#ttl = :ttl'];
  for (const [name, value] of Object.entries({ token, ...fields })) {
    if (value === undefined) continue;
    // Attribute names go through placeholders: `token` is a DynamoDB reserved word.
    sets.push(`#${name} = :${name}`);
    names[`#${name}`] = name;
    values[`:${name}`] = value;
  }
  const key = { TableName: config.notificationsTableName, Key: deliveryKey(notificationId, token) };
  const allowed = FORWARD_FROM[status];
  try {
    await dynamo.send(
      new UpdateCommand({
        ...key,
        UpdateExpression: `SET ${[...sets, '#status = :status'].join(', ')}`,
        ConditionExpression: `attribute_not_exists(#status) OR #status IN (${allowed.map((_, i) => `:from${i}`).join(', ')})`,
        ExpressionAttributeNames: { ...names, '#status': 'status' },
        ExpressionAttributeValues: {
          ...values,
          ':status': status,
          ...Object.fromEntries(allowed.map((from, i) => [`:from${i}`, from])),
        },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    await dynamo.send(
      new UpdateCommand({
        ...key,
        UpdateExpression: `SET ${sets.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }
}

/**
 * An app's receipt: only for a device of the caller that was a recipient of this
 * tracked notification (else NotFound, the same for every other case). Repeats are
 * idempotent; `opened` after `received` upgrades, `received` after `opened` keeps it.
 */
export async function recordReceipt(
  notificationId: string,
  token: string,
  userId: string,
  event: ReceiptEvent,
  now = new Date(),
): Promise<void> {
  const stamp = event === 'opened' ? 'openedAt = if_not_exists(openedAt, :now), ' : '';
  try {
    await dynamo.send(
      new UpdateCommand({
        TableName: config.notificationsTableName,
        Key: deliveryKey(notificationId, token),
        UpdateExpression: `SET ${stamp}receivedAt = if_not_exists(receivedAt, :now), #status = :status, updatedAt = :now, #ttl = :ttl`,
        ConditionExpression: `attribute_exists(pk) AND userId = :userId AND #status IN (${event === 'opened' ? ':queued, :accepted, :received, :opened' : ':queued, :accepted, :received'})`,
        ExpressionAttributeNames: { '#status': 'status', '#ttl': NOTIFICATIONS_TABLE.ttlAttribute },
        ExpressionAttributeValues: {
          ':now': now.toISOString(),
          ':ttl': trackingExpiry(now),
          ':status': event,
          ':userId': userId,
          ':queued': 'queued',
          ':accepted': 'accepted',
          ':received': 'received',
          ...(event === 'opened' ? { ':opened': 'opened' } : {}),
        },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const current = await findDelivery(notificationId, token);
    // A `received` after `opened` is a repeat, not an error.
    if (current?.userId === userId && current.status === 'opened') return;
    throw new NotFoundError(
      'ReceiptNotFound',
      'No tracked notification with this id was sent to this device of yours (or it was pruned).',
    );
  }
}

export async function findDelivery(
  notificationId: string,
  token: string,
): Promise<DeviceDelivery | undefined> {
  const { Item } = await dynamo.send(
    new GetCommand({
      TableName: config.notificationsTableName,
      Key: deliveryKey(notificationId, token),
      ConsistentRead: true,
    }),
  );
  return Item as DeviceDelivery | undefined;
}

/** Every tracked device of a notification. */
export async function listDeliveries(notificationId: string): Promise<DeviceDelivery[]> {
  const pages = paginateQuery(
    { client: dynamo },
    {
      TableName: config.notificationsTableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': notificationPk(notificationId), ':prefix': DELIVERY_PREFIX },
    },
  );
  const deliveries: DeviceDelivery[] = [];
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      const { pk: _pk, sk: _sk, expiresAt: _ttl, ...delivery } = item;
      deliveries.push(delivery as DeviceDelivery);
    }
  }
  return deliveries;
}

/** The current statuses of some recipient devices (absent ones are simply missing). */
export async function deliveryStatuses(
  notificationId: string,
  tokens: readonly string[],
): Promise<Map<string, DeliveryStatus>> {
  const items = await batchGetAll(
    config.notificationsTableName,
    tokens.map((token) => deliveryKey(notificationId, token)),
    { expression: '#token, #status', names: { '#token': 'token', '#status': 'status' } },
  );
  return new Map(items.map((item) => [String(item.token), item.status as DeliveryStatus]));
}
