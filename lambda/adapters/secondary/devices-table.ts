import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, paginateQuery, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../../clients';
import { config } from '../../config';
import {
  type ApnsEnvironment,
  type Device,
  type DeviceOwner,
  type DeviceRegistration,
  deviceExpiry,
  type RegistrationOutcome,
} from '../../domain/device';
import { DeviceNotFoundError } from '../../domain/errors';
import { batchGetAll } from './batch-get';
import { DEVICES_TABLE, deviceKey } from './devices-keys';

function fromItem(item: Record<string, unknown>): Device {
  return item as unknown as Device;
}

/**
 * Registers or refreshes a token for a user. New or already the caller's: one
 * conditional update that keeps `registeredAt`. Held by another user: one put that
 * replaces the record — the move is a single atomic write, and it needs no
 * condition, so registrations racing for one token all succeed and the last write
 * decides the owner (no retry loop that could run out).
 */
export async function saveDevice(
  registration: DeviceRegistration,
  now: Date,
): Promise<{ device: Device; outcome: RegistrationOutcome }> {
  try {
    return await refreshOrCreate(registration, now);
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
  return takeOver(registration, now);
}

async function refreshOrCreate(registration: DeviceRegistration, now: Date) {
  const optional = (['locale', 'appVersion'] as const).filter((name) => registration[name] !== undefined);
  const removed = (['locale', 'appVersion'] as const).filter((name) => registration[name] === undefined);
  const set = [
    '#userId = :userId',
    'appId = :appId',
    'environment = :environment',
    'lastSeenAt = :now',
    'expiresAt = :expiresAt',
    'registeredAt = if_not_exists(registeredAt, :now)',
    ...optional.map((name) => `${name} = :${name}`),
  ];
  const result = await dynamo.send(
    new UpdateCommand({
      TableName: config.devicesTableName,
      Key: deviceKey(registration.token),
      UpdateExpression: `SET ${set.join(', ')}${removed.length ? ` REMOVE ${removed.join(', ')}` : ''}`,
      ConditionExpression: 'attribute_not_exists(#token) OR #userId = :userId',
      ExpressionAttributeNames: { '#token': DEVICES_TABLE.partitionKey, '#userId': 'userId' },
      ExpressionAttributeValues: {
        ':userId': registration.userId,
        ':appId': registration.appId,
        ':environment': registration.environment,
        ':now': now.toISOString(),
        ':expiresAt': deviceExpiry(now),
        ...Object.fromEntries(optional.map((name) => [`:${name}`, registration[name]])),
      },
      ReturnValues: 'ALL_OLD',
    }),
  );
  const previous = result.Attributes === undefined ? undefined : fromItem(result.Attributes);
  const device: Device = {
    ...registration,
    registeredAt: previous?.registeredAt ?? now.toISOString(),
    lastSeenAt: now.toISOString(),
    expiresAt: deviceExpiry(now),
  };
  const outcome: RegistrationOutcome = previous === undefined ? 'created' : 'refreshed';
  return { device, outcome };
}

/**
 * Writes the device over whatever record the token has. What it replaced tells the
 * outcome: another user's (moved), nothing (created: deleted meanwhile), or the
 * caller's own (refreshed: a concurrent registration of the caller won the race a
 * moment ago, so `registeredAt` is as good as unchanged).
 */
async function takeOver(
  registration: DeviceRegistration,
  now: Date,
): Promise<{ device: Device; outcome: RegistrationOutcome }> {
  const device: Device = {
    ...registration,
    registeredAt: now.toISOString(),
    lastSeenAt: now.toISOString(),
    expiresAt: deviceExpiry(now),
  };
  const { Attributes } = await dynamo.send(
    new PutCommand({ TableName: config.devicesTableName, Item: device, ReturnValues: 'ALL_OLD' }),
  );
  const previous = Attributes === undefined ? undefined : fromItem(Attributes);
  const outcome: RegistrationOutcome =
    previous === undefined ? 'created' : previous.userId === registration.userId ? 'refreshed' : 'moved';
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

/** Every device of a user, optionally only those of one app. */
export async function listDevices(userId: string, appId?: string): Promise<Device[]> {
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
 * Removes every device of a user. Each delete is conditional on the owner, so a
 * token that moved to someone else between the query and the delete survives.
 */
export async function deleteDevicesOfUser(userId: string): Promise<number> {
  let deleted = 0;
  for (const device of await listDevices(userId)) {
    try {
      await deleteDevice(userId, device.token);
      deleted++;
    } catch (error) {
      if (!(error instanceof DeviceNotFoundError)) throw error;
    }
  }
  return deleted;
}

/**
 * Who holds each of these tokens right now, for which app and environment: a
 * strongly consistent read of the table itself (never the `byUser` index, which
 * lags), so a move, sign-out or prune acknowledged before the call is seen.
 * Unknown tokens are simply absent.
 */
export async function currentOwners(tokens: readonly string[]): Promise<Map<string, DeviceOwner>> {
  const items = await batchGetAll(
    config.devicesTableName,
    [...new Set(tokens)].map(deviceKey),
    {
      expression: '#token, #userId, appId, environment',
      names: { '#token': DEVICES_TABLE.partitionKey, '#userId': 'userId' },
    },
    true,
  );
  return new Map(items.map((item) => [String(item.token), fromItem(item)]));
}

/**
 * Removes a token APNs called invalid — only if it still belongs to the same user
 * and app and, for a 410, was not registered again after APNs's `timestamp`
 * (the app may have re-registered it since). Returns whether it was removed.
 */
export async function pruneDevice(
  device: Pick<Device, 'token' | 'userId' | 'appId'>,
  invalidSince?: Date,
): Promise<boolean> {
  const conditions = ['#userId = :userId', 'appId = :appId'];
  const values: Record<string, unknown> = { ':userId': device.userId, ':appId': device.appId };
  if (invalidSince !== undefined) {
    conditions.push('lastSeenAt < :invalidSince');
    values[':invalidSince'] = invalidSince.toISOString();
  }
  try {
    await dynamo.send(
      new DeleteCommand({
        TableName: config.devicesTableName,
        Key: deviceKey(device.token),
        ConditionExpression: conditions.join(' AND '),
        ExpressionAttributeNames: { '#userId': 'userId' },
        ExpressionAttributeValues: values,
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
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
