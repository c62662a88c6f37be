import { paginateQuery, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../../clients';
import { config } from '../../config';
import type { ApnsEnvironment, Device } from '../../domain/device';
import type { HeldDevice } from '../../domain/device-set';
import { type DeviceSet, isLiveEntry } from '../../domain/device-set';
import { DeviceNotFoundError, RegistrationConflictError } from '../../domain/errors';
import { hasExpired } from '../../domain/expiry';
import { batchGetAll } from './batch-get';
import { conditional } from './conditional-write';
import { deleteRecordOf, pauseBeforeAttempt, readRecord } from './device-records';
import {
  clearSet,
  correctEntryEnvironment,
  moveSetVersionOn,
  readDeviceSet,
  readDeviceSets,
  removeFromSet,
} from './device-sets';
import { DEVICES_TABLE, deviceKey, deviceOfItem, FULL_TOKEN_ATTRIBUTE } from './devices-keys';

/*
 * Device tokens: a record per token (who registered it last, for what is asked by
 * token) and an entry in its user's device set (device-sets.ts), which alone decides
 * who the device belongs to. Every writer orders its writes so that a crash between
 * two of them leaves the device in no set rather than in two
 * (docs/decisions/device-sets.md).
 */

/**
 * The rest of the Devices table's device operations: sign-out, the reads the API and
 * the sender make, the erase's two writes, pruning and correcting an environment.
 * Registering is device-registration.ts; what the writers share is device-records.ts.
 */

/** A sign-out, racing registrations (or the migration) of the same token, tries this many times. */
const SIGN_OUT_ATTEMPTS = 6;

/**
 * Signs a device out: it leaves the user's set (the write that counts), then its
 * record is deleted if still the user's at the same version. A crash between the two
 * leaves an inert record. A token neither in the user's set nor recorded as theirs:
 * DeviceNotFoundError.
 */
export async function deleteDevice(userId: string, token: string): Promise<void> {
  for (let attempt = 0; attempt < SIGN_OUT_ATTEMPTS; attempt++) {
    const removed = await removeFromSet(userId, token);
    if (removed !== undefined) {
      await deleteRecordOf(userId, token, removed.version);
      return;
    }
    // The caller's record outside their set — written before sets and not migrated yet,
    // left by a writer that stopped, or written by a registration of theirs still on its
    // way to the set — goes too, so a later backfill cannot bring it back. Only a record
    // written by a registration that read the set as it is now may still join it: then the
    // set version moves on first, so that registration is refused at its set write (and
    // reads again, finding no record). A registration that reads the set after keeps its record.
    const [record, set] = await Promise.all([readRecord(token), readDeviceSet(userId)]);
    // It joined the set since (a registration, or the migration): take it out from there.
    if (set.devices.has(token)) continue;
    if (record === undefined || record.userId !== userId) throw new DeviceNotFoundError();
    const current = set.setVersion ?? 0;
    let setVersion = current;
    if (record.setVersionSeen !== undefined && record.setVersionSeen >= current) {
      // Its writer read the set at this version and may not have written it yet: move the
      // version on so that write is refused — only from the version read, since a set
      // written meanwhile (by that writer, say) may hold the token now: then read again.
      const moved = await moveSetVersionOn(userId, current);
      if (moved === undefined) continue;
      setVersion = moved;
    }
    if (await deleteRecordOf(userId, token, record.version, setVersion)) return;
    // Refused: since the read, a registration or the migration stamped the record with the
    // set version it read, and may have put the token in the set by now. Start again: it is
    // taken out of the set, or its record is read as it is now.
    await pauseBeforeAttempt(attempt + 1);
  }
  throw new RegistrationConflictError(
    'Registrations of this device token kept changing it while it was being signed out; try again in a second.',
  );
}

/**
 * Every device of a user, optionally only those of one app: the devices in the user's
 * set (read strongly consistent), as their records describe them.
 */
export async function listDevices(userId: string, appId?: string): Promise<Device[]> {
  const set = await readDeviceSet(userId);
  const now = new Date();
  const tokens = [...set.devices.entries()]
    .filter(([, entry]) => isLiveEntry(entry, now) && (appId === undefined || entry.appId === appId))
    .map(([token]) => token);
  if (tokens.length === 0) return [];
  const records = await batchGetAll(config.devicesTableName, tokens.map(deviceKey), undefined, true);
  return records
    .map(deviceOfItem)
    .filter((device) => device.userId === userId && !hasExpired(device.expiresAt, now));
}

/**
 * What the `byUser` index lists for a user — unchecked: it may still list a token
 * that moved or was erased a moment ago, and miss one just registered. Only the erase
 * reads it, to find records to delete; who holds a device is the sets' answer.
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
    for (const item of page.Items ?? []) devices.push(deviceOfItem(item));
  }
  return devices;
}

/**
 * Empties the user's device set as it is now, in one write that also moves the user's
 * device generation on (taking the Live Activity tokens): undefined when a device was
 * added between the read and the write. Returns the set version the write gave the set.
 */
export async function emptyDeviceSet(userId: string, now: Date): Promise<{ setVersion: number } | undefined> {
  const set = await readDeviceSet(userId);
  if ((await clearSet(set, now)) === undefined) return undefined;
  return { setVersion: (set.setVersion ?? 0) + 1 };
}

/**
 * Deletes the records the `byUser` index lists for the user, each only if still the
 * user's at the version it had and written by a registration that read the user's set
 * before it reached `erasedSetVersion` (`Device.setVersionSeen`). How many it deleted.
 */
export async function deleteRecordsErasedFrom(userId: string, erasedSetVersion: number): Promise<number> {
  let deleted = 0;
  for (const device of await indexedDevicesOf(userId)) {
    if (await deleteRecordOf(userId, device.token, device.version, erasedSetVersion)) deleted++;
  }
  return deleted;
}

/** The device sets of these users, strongly consistent (one BatchGetItem per 100 users). */
export function deviceSetsOf(userIds: readonly string[]): Promise<Map<string, DeviceSet>> {
  return readDeviceSets(userIds);
}

/** The token as a live device of `userId`'s set, read strongly consistent, or undefined. */
export async function heldBy(userId: string, token: string): Promise<HeldDevice | undefined> {
  const entry = (await readDeviceSets([userId])).get(userId)?.devices.get(token);
  return entry !== undefined && isLiveEntry(entry, new Date()) ? { token, userId, entry } : undefined;
}

/**
 * Who holds each of these tokens right now: the user a token's record names, only
 * while the token is in that user's set (live). Two strongly consistent reads: the
 * records, then their users' sets. Tokens nobody holds are absent from the result.
 */
export async function holdersOf(tokens: readonly string[]): Promise<Map<string, HeldDevice>> {
  const unique = [...new Set(tokens)];
  if (unique.length === 0) return new Map();
  const records = await batchGetAll(
    config.devicesTableName,
    unique.map(deviceKey),
    {
      expression: '#token, #fullToken, #userId',
      names: {
        '#token': DEVICES_TABLE.partitionKey,
        '#fullToken': FULL_TOKEN_ATTRIBUTE,
        '#userId': 'userId',
      },
    },
    true,
  );
  const owners = new Map<string, string>();
  for (const record of records.map(deviceOfItem)) owners.set(record.token, record.userId);
  const sets = await readDeviceSets([...new Set(owners.values())]);
  const now = new Date();
  const held = new Map<string, HeldDevice>();
  for (const [token, userId] of owners) {
    const entry = sets.get(userId)?.devices.get(token);
    if (entry !== undefined && isLiveEntry(entry, now)) held.set(token, { token, userId, entry });
  }
  return held;
}

/**
 * Removes a token APNs called invalid — only while its record is still the same
 * user's, for the same app, and (for a 410) was not registered again after APNs's
 * `timestamp`: (1) a consistent read of the record decides; (2) the device leaves the
 * user's set, if still there at that version; (3) the record is deleted, if still at
 * that version. A crash after (2) leaves an inert record, in no set. Returns whether
 * the device left the set; false means it is kept (registered again since, or gone).
 */
export async function pruneDevice(
  device: { token: string; userId: string; appId: string },
  invalidSince?: Date,
): Promise<boolean> {
  const record = await readRecord(device.token);
  if (record !== undefined) {
    if (record.userId !== device.userId || record.appId !== device.appId) return false;
    if (invalidSince !== undefined && record.lastSeenAt >= invalidSince.toISOString()) return false;
  }
  const version = record === undefined ? undefined : (record.version ?? 0);
  const removed = await removeFromSet(device.userId, device.token, {
    appId: device.appId,
    ...(version === undefined ? {} : { version }),
  });
  if (removed === undefined) return false;
  if (record !== undefined) await deleteRecordOf(device.userId, device.token, record.version);
  return true;
}

/** The token turned out to belong to the other APNs environment: correct the record and the set entry. */
export async function correctDeviceEnvironment(
  device: Pick<Device, 'token' | 'userId'>,
  environment: ApnsEnvironment,
): Promise<void> {
  await conditional(() =>
    dynamo.send(
      new UpdateCommand({
        TableName: config.devicesTableName,
        Key: deviceKey(device.token),
        UpdateExpression: 'SET environment = :environment',
        ConditionExpression: '#userId = :userId',
        ExpressionAttributeNames: { '#userId': 'userId' },
        ExpressionAttributeValues: { ':environment': environment, ':userId': device.userId },
      }),
    ),
  );
  await correctEntryEnvironment(device.userId, device.token, environment);
}
