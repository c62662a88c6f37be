import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, paginateQuery, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../../clients';
import { config } from '../../config';
import {
  type ApnsEnvironment,
  type Device,
  type DeviceOwner,
  type DeviceRegistration,
  deviceExpiry,
  isCurrentGeneration,
  type RegistrationOutcome,
} from '../../domain/device';
import { DeviceNotFoundError } from '../../domain/errors';
import { hasExpired } from '../../domain/expiry';
import { batchGetAll } from './batch-get';
import { DEVICES_TABLE, deviceKey, userKey, userOfKey } from './devices-keys';
import { pruneOwnedRecord, saveOwnedRecord } from './owned-record';
import { startNewGeneration, userGeneration, userGenerations } from './user-generations';

function fromItem(item: Record<string, unknown>): Device {
  return item as unknown as Device;
}

/**
 * Registers or refreshes a token for a user, in the user's current device
 * generation (read first, strongly consistent), by the rules of `saveOwnedRecord`.
 * A registration that overlaps an erase of the same user may land in the erased
 * generation: it counts as registered before the erase, and the app's next
 * registration brings it back.
 */
export async function saveDevice(
  registration: DeviceRegistration,
  now: Date,
): Promise<{ device: Device; outcome: RegistrationOutcome }> {
  const generation = await userGeneration(registration.userId);
  const expiresAt = deviceExpiry(now);
  const { token, userId, ...attributes } = registration;
  const { registeredAt, outcome } = await saveOwnedRecord(
    {
      key: deviceKey(token),
      ownerAttribute: 'userId',
      ownerId: userId,
      generation,
      expiresAt,
      attributes: { locale: undefined, appVersion: undefined, ...attributes },
    },
    now,
  );
  const device: Device = {
    ...registration,
    registeredAt,
    lastSeenAt: now.toISOString(),
    expiresAt,
    generation,
  };
  return { device, outcome };
}

/** Deletes the token only if it belongs to the user; otherwise DeviceNotFoundError. */
export async function deleteDevice(userId: string, token: string): Promise<void> {
  try {
    await dynamo.send(
      new DeleteCommand({
        TableName: config.devicesTableName,
        Key: deviceKey(token),
        ConditionExpression: '#userId = :userId',
        ExpressionAttributeNames: { '#userId': 'userId' },
        ExpressionAttributeValues: { ':userId': userId },
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw new DeviceNotFoundError();
    throw error;
  }
}

/**
 * Every device of a user, optionally only those of one app: the `byUser` index (which
 * may lag a registration or a move by a moment), less what an erase of the user took
 * (a record of an earlier device generation).
 */
export async function listDevices(userId: string, appId?: string): Promise<Device[]> {
  const [indexed, generation] = await Promise.all([indexedDevicesOf(userId, appId), userGeneration(userId)]);
  const now = new Date();
  return indexed.filter(
    (device) => isCurrentGeneration(device.generation, generation) && !hasExpired(device.expiresAt, now),
  );
}

/**
 * What the `byUser` index lists for a user — unchecked: it may still list a token
 * that moved or was erased a moment ago, and miss one just registered. Only a
 * candidate list for `currentOwners` to confirm.
 */
export async function indexedDevicesOf(userId: string, appId?: string): Promise<Device[]> {
  const { name, partitionKey, sortKey } = DEVICES_TABLE.userIndex;
  const pages = paginateQuery(
    { client: dynamo },
    {
      TableName: config.devicesTableName,
      IndexName: name,
      KeyConditionExpression: appId === undefined ? '#pk = :pk' : '#pk = :pk AND #sk = :sk',
      ExpressionAttributeNames:
        appId === undefined ? { '#pk': partitionKey } : { '#pk': partitionKey, '#sk': sortKey },
      ExpressionAttributeValues: appId === undefined ? { ':pk': userId } : { ':pk': userId, ':sk': appId },
    },
  );
  const devices: Device[] = [];
  for await (const page of pages) {
    for (const item of page.Items ?? []) devices.push(fromItem(item));
  }
  return devices;
}

/**
 * Erases every device of a user ("log out everywhere"). First the user's device
 * generation moves on — from that write on, no record of the user written before
 * counts (sends, receipts and lists all check it), including one the lagging index
 * does not list yet. Then the records the index lists are deleted, each only if it
 * still belongs to the user and to an earlier generation, so neither a token that
 * moved to someone else nor one registered again since is touched. A record the
 * index missed stays inert until the token is registered again or expires.
 * Returns how many records were deleted.
 */
export async function deleteDevicesOfUser(userId: string, now: Date): Promise<number> {
  const generation = await startNewGeneration(userId, now);
  let deleted = 0;
  for (const device of await indexedDevicesOf(userId)) {
    if (isCurrentGeneration(device.generation, generation)) continue;
    try {
      await dynamo.send(
        new DeleteCommand({
          TableName: config.devicesTableName,
          Key: deviceKey(device.token),
          ConditionExpression:
            '#userId = :userId AND (attribute_not_exists(generation) OR generation < :generation)',
          ExpressionAttributeNames: { '#userId': 'userId' },
          ExpressionAttributeValues: { ':userId': userId, ':generation': generation },
        }),
      );
      deleted++;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
  return deleted;
}

/**
 * Who holds each of these tokens right now, for which app and environment: a
 * strongly consistent read of the table itself (never the `byUser` index, which
 * lags), so a move, sign-out, prune or erase acknowledged before the call is seen.
 * A token whose record belongs to an erased generation of its user, or is past its
 * expiry (DynamoDB's TTL deletes late), counts as unregistered, like an unknown
 * one: all are absent from the result.
 * `expectedUsers` (the users the caller means the tokens for) lets the owners'
 * generations come in the same read; any other owner's is read after.
 */
export async function currentOwners(
  tokens: readonly string[],
  expectedUsers: readonly string[] = [],
): Promise<Map<string, DeviceOwner>> {
  const users = [...new Set(expectedUsers)];
  const items = await batchGetAll(
    config.devicesTableName,
    [...[...new Set(tokens)].map(deviceKey), ...users.map(userKey)],
    {
      expression: '#token, #userId, appId, environment, generation, expiresAt',
      names: { '#token': DEVICES_TABLE.partitionKey, '#userId': 'userId' },
    },
    true,
  );
  const generations = new Map<string, number>(users.map((userId) => [userId, 0]));
  const devices: (DeviceOwner & { generation?: number; expiresAt?: number })[] = [];
  for (const item of items) {
    const user = userOfKey(item);
    if (user !== undefined) generations.set(user, Number(item.generation ?? 0));
    else devices.push(item as unknown as DeviceOwner & { generation?: number; expiresAt?: number });
  }
  const unread = [...new Set(devices.map((device) => device.userId))].filter(
    (userId) => !generations.has(userId),
  );
  for (const [userId, generation] of await userGenerations(unread)) generations.set(userId, generation);
  const now = new Date();
  return new Map(
    devices
      .filter(
        (device) =>
          isCurrentGeneration(device.generation, generations.get(device.userId)) &&
          !hasExpired(device.expiresAt, now),
      )
      .map(({ token, userId, appId, environment }) => [token, { token, userId, appId, environment }]),
  );
}

/** Removes a token APNs called invalid, by the rules of `pruneOwnedRecord`. */
export function pruneDevice(
  device: Pick<Device, 'token' | 'userId' | 'appId'>,
  invalidSince?: Date,
): Promise<boolean> {
  return pruneOwnedRecord(
    { key: deviceKey(device.token), ownerAttribute: 'userId', ownerId: device.userId, appId: device.appId },
    invalidSince,
  );
}

/** The token turned out to belong to the other APNs environment: correct the record. */
export async function correctDeviceEnvironment(
  device: Pick<Device, 'token' | 'userId'>,
  environment: ApnsEnvironment,
): Promise<void> {
  try {
    await dynamo.send(
      new UpdateCommand({
        TableName: config.devicesTableName,
        Key: deviceKey(device.token),
        UpdateExpression: 'SET environment = :environment',
        ConditionExpression: '#userId = :userId',
        ExpressionAttributeNames: { '#userId': 'userId' },
        ExpressionAttributeValues: { ':environment': environment, ':userId': device.userId },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}
