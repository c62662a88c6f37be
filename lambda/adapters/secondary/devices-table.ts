import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, paginateQuery, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../../clients';
import { config } from '../../config';
import {
  type ApnsEnvironment,
  type Device,
  type DeviceRegistration,
  deviceExpiry,
  type RegistrationOutcome,
} from '../../domain/device';
import type { HeldDevice, SavedDevice } from '../../domain/device-set';
import {
  type DeviceSet,
  type DeviceSetEntry,
  devicesToEvict,
  entryNeedsRewrite,
  isLiveEntry,
  movedAwayMark,
  nextRecordVersion,
  staleMovedAway,
} from '../../domain/device-set';
import { DeviceNotFoundError, RegistrationConflictError } from '../../domain/errors';
import { hasExpired } from '../../domain/expiry';
import { contentionPauseMs } from '../../domain/retry-policy';
import { batchGetAll } from './batch-get';
import {
  addToSet,
  clearSet,
  correctEntryEnvironment,
  markMovedAway,
  moveSetVersionOn,
  readDeviceSet,
  readDeviceSets,
  removeFromSet,
  rewriteEntry,
} from './device-sets';
import {
  DEVICES_TABLE,
  deviceItem,
  deviceKey,
  deviceOfItem,
  FULL_TOKEN_ATTRIBUTE,
  setEntryBytes,
} from './devices-keys';

/*
 * Device tokens: a record per token (who registered it last, for what is asked by
 * token) and an entry in its user's device set (device-sets.ts), which alone decides
 * who the device belongs to. Every writer orders its writes so that a crash between
 * two of them leaves the device in no set rather than in two
 * (docs/decisions/device-sets.md).
 */

/**
 * A registration racing others for the same token or user tries again, after a random
 * pause that grows (so that contenders spread out rather than collide again). It starts
 * a new attempt for this long; then it answers 409 RegistrationConflict with
 * Retry-After. Every round of a burst lets at least one registration through, so only
 * a burst of dozens of users on one token waits this long.
 */
const REGISTRATION_PATIENCE_MS = 4_000;
/**
 * A registration whose own record write landed and whose set write was refused (the
 * user's set changed meanwhile) keeps going past the patience, up to this: stopping
 * there would leave its token in no set. Within the route functions' 10 s timeout
 * (infra/constructs/pushgate-function.ts), with room for a cold start.
 */
const REGISTRATION_LIMIT_MS = 7_000;
/** A sign-out, racing registrations (or the migration) of the same token, tries this many times. */
const SIGN_OUT_ATTEMPTS = 6;

function pauseBeforeAttempt(attempt: number): Promise<void> {
  const ms = contentionPauseMs(attempt);
  return ms === 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}

const fromItem = deviceOfItem;

async function readRecord(token: string): Promise<Device | undefined> {
  const { Item } = await dynamo.send(
    new GetCommand({ TableName: config.devicesTableName, Key: deviceKey(token), ConsistentRead: true }),
  );
  return Item === undefined ? undefined : fromItem(Item);
}

/** The condition that a token record is still as it was read. */
function recordUnchanged(record: Device | undefined) {
  if (record === undefined)
    return { ConditionExpression: 'attribute_not_exists(#token)', ExpressionAttributeValues: undefined };
  if (record.version === undefined)
    return {
      ConditionExpression: '#userId = :previousOwner AND attribute_not_exists(#version)',
      ExpressionAttributeValues: { ':previousOwner': record.userId },
    };
  return {
    ConditionExpression: '#userId = :previousOwner AND #version = :previousVersion',
    ExpressionAttributeValues: { ':previousOwner': record.userId, ':previousVersion': record.version },
  };
}

async function conditional(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

function entryOf(device: Device, now: Date): DeviceSetEntry {
  return {
    appId: device.appId,
    environment: device.environment,
    platform: device.platform ?? 'ios',
    lastSeenAt: now.toISOString(),
    expiresAt: device.expiresAt,
    version: device.version ?? 0,
  };
}

/**
 * Registers or refreshes a token for a user.
 *
 * - Known device (in the user's set at the record's version): one write, the
 *   record's refresh — the set entry is rewritten too only when what sending reads
 *   changed or the entry is a day old.
 * - Otherwise (new, moved from another user, or the user's record outside the set —
 *   after an erase, an eviction or a crash): (1) if another user holds the token, it
 *   leaves that user's set, marked moved away; (2) the record is written for the
 *   caller at a new version, on condition it is still as read; (3) the token joins
 *   the caller's set, on condition the set is as read and no move overtook this
 *   version — evicting the least recently seen devices beyond `maxDevices`.
 *   A crash after (1) or (2) leaves the token in no set; the app's next
 *   registration adds it. A refused condition starts again from the reads.
 */
export async function saveDevice(
  registration: DeviceRegistration,
  now: Date,
  maxDevices = config.maxDevicesPerUser,
): Promise<SavedDevice> {
  const { token, userId } = registration;
  let outcome: RegistrationOutcome | undefined;
  let raced = false;
  /** This registration's last attempt, when a condition refused one of its writes. */
  let refused: RefusedAttempt | undefined;
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    const waited = Date.now() - started;
    if (waited >= REGISTRATION_LIMIT_MS || (refused?.at !== 'set' && waited >= REGISTRATION_PATIENCE_MS))
      throw new RegistrationConflictError();
    await pauseBeforeAttempt(attempt);
    const [record, set] = await Promise.all([readRecord(token), readDeviceSet(userId)]);
    if (refused !== undefined && takenOnAfter(refused, record, set))
      return { device: refused.device, outcome: refused.outcome, evicted: [] };
    refused = undefined;
    const entry = set.devices.get(token);
    const known =
      record !== undefined &&
      record.userId === userId &&
      entry !== undefined &&
      entry.version === (record.version ?? 0) &&
      isLiveEntry(entry, now);
    if (known) {
      const device = await refreshRecord(record, registration, now);
      if (device === undefined) continue;
      const next = entryOf(device, now);
      if (entryNeedsRewrite(entry, next, now) && !(await rewriteEntry(userId, token, next))) continue;
      return { device, outcome: outcome ?? 'refreshed', evicted: [] };
    }
    // A record of the caller's that a concurrent registration of theirs just wrote, or one
    // written before sets (version-less, not migrated yet), is a refresh.
    outcome ??=
      record === undefined
        ? 'created'
        : record.userId !== userId
          ? 'moved'
          : entry !== undefined || raced || record.version === undefined
            ? 'refreshed'
            : 'created';
    const saved = await addDevice(registration, record, set, outcome, now, maxDevices);
    if ('evicted' in saved) return { ...saved, outcome };
    refused = { ...saved, outcome, readVersion: record === undefined ? undefined : (record.version ?? 0) };
    // Once its record is written, the registration keeps the outcome it found first.
    if (saved.at === 'record') {
      outcome = undefined;
      raced = true;
    }
  }
}

/** An attempt of a registration that a condition refused: at which write, and what it wrote or tried to. */
interface RefusedAttempt {
  at: 'record' | 'set';
  device: Device;
  outcome: RegistrationOutcome;
  /** The version of the record the attempt read (undefined: there was none). */
  readVersion: number | undefined;
}

/**
 * Whether another user's registration took the token after this one read it: it wrote
 * the record for its user after this one's read (which refused this one's record
 * write), or it read the record this one wrote and marked this user's set moved away
 * (which refused this one's set write). The two calls were under way at once; this one
 * is answered as made, and the other as made after it — the order the table shows. (In
 * a burst of registrations of one token by many users, each would otherwise be refused
 * by the next, and few would finish.) A record of the caller's own written meanwhile is
 * not this case: that registration goes on.
 */
function takenOnAfter(refused: RefusedAttempt, record: Device | undefined, set: DeviceSet): boolean {
  const takenFrom = refused.at === 'record' ? (refused.readVersion ?? 0) : (refused.device.version ?? 0);
  const mark = movedAwayMark(set, refused.device.token);
  if (refused.at === 'set' && mark !== undefined && mark.version >= takenFrom) return true;
  return record !== undefined && record.userId !== refused.device.userId && (record.version ?? 0) > takenFrom;
}

/** The known device's one write: its record, still the caller's at the version read. */
async function refreshRecord(
  record: Device,
  registration: DeviceRegistration,
  now: Date,
): Promise<Device | undefined> {
  const device: Device = {
    ...registration,
    platform: registration.platform ?? 'ios',
    registeredAt: record.registeredAt,
    lastSeenAt: now.toISOString(),
    expiresAt: deviceExpiry(now),
    ...(record.version === undefined ? {} : { version: record.version }),
    ...(record.setVersionSeen === undefined ? {} : { setVersionSeen: record.setVersionSeen }),
  };
  const { ConditionExpression, ExpressionAttributeValues } = recordUnchanged(record);
  const written = await conditional(() =>
    dynamo.send(
      new PutCommand({
        TableName: config.devicesTableName,
        Item: deviceItem(withoutUndefined(device)),
        ConditionExpression,
        ExpressionAttributeNames: { '#userId': 'userId', '#version': 'version' },
        ExpressionAttributeValues,
      }),
    ),
  );
  return written ? device : undefined;
}

/** Steps (1)–(3) of `saveDevice`; which write was refused when one was (read again, try again). */
async function addDevice(
  registration: DeviceRegistration,
  record: Device | undefined,
  set: DeviceSet,
  outcome: RegistrationOutcome,
  now: Date,
  maxDevices: number,
): Promise<Omit<SavedDevice, 'outcome'> | { at: 'record' | 'set'; device: Device }> {
  const { token, userId } = registration;
  const device: Device = {
    ...registration,
    platform: registration.platform ?? 'ios',
    registeredAt: outcome === 'refreshed' && record !== undefined ? record.registeredAt : now.toISOString(),
    lastSeenAt: now.toISOString(),
    expiresAt: deviceExpiry(now),
    version: nextRecordVersion(record?.version, now),
    setVersionSeen: set.setVersion ?? 0,
  };
  // The old owner registered the token again since it was read: the record changed too.
  if (
    record !== undefined &&
    record.userId !== userId &&
    !(await markMovedAway(record.userId, token, record.version ?? 0, now))
  )
    return { at: 'record', device };
  const { ConditionExpression, ExpressionAttributeValues } = recordUnchanged(record);
  const written = await conditional(() =>
    dynamo.send(
      new PutCommand({
        TableName: config.devicesTableName,
        Item: deviceItem(withoutUndefined(device)),
        ConditionExpression,
        ExpressionAttributeNames:
          record === undefined
            ? { '#token': DEVICES_TABLE.partitionKey }
            : { '#userId': 'userId', '#version': 'version' },
        ExpressionAttributeValues,
      }),
    ),
  );
  if (!written) return { at: 'record', device };
  const entry = entryOf(device, now);
  const evicted = devicesToEvict(set, token, maxDevices, now, {
    joining: setEntryBytes(token, entry),
    of: setEntryBytes,
  });
  if (!(await addToSet(set, token, entry, evicted, staleMovedAway(set, now)))) return { at: 'set', device };
  return {
    device,
    evicted: evicted.filter((other) => {
      const entry = set.devices.get(other);
      return entry !== undefined && isLiveEntry(entry, now);
    }),
  };
}

function withoutUndefined<T extends object>(item: T): T {
  return Object.fromEntries(Object.entries(item).filter(([, value]) => value !== undefined)) as T;
}

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
 * Deletes a token record still held by `userId` at `version` (absent version: a record
 * from before sets) and, when `setVersionAbove` is given, written by a registration
 * that read the user's set before it reached that version (`Device.setVersionSeen`).
 */
async function deleteRecordOf(
  userId: string,
  token: string,
  version: number | undefined,
  setVersionAbove?: number,
): Promise<boolean> {
  const legacy = version === undefined || version === 0;
  const conditions = [
    '#userId = :userId',
    legacy ? '(attribute_not_exists(#version) OR #version = :zero)' : '#version = :version',
  ];
  const names: Record<string, string> = { '#userId': 'userId', '#version': 'version' };
  const values: Record<string, unknown> = legacy
    ? { ':userId': userId, ':zero': 0 }
    : { ':userId': userId, ':version': version };
  if (setVersionAbove !== undefined) {
    conditions.push('(attribute_not_exists(#seen) OR #seen < :setVersion)');
    names['#seen'] = 'setVersionSeen';
    values[':setVersion'] = setVersionAbove;
  }
  return conditional(() =>
    dynamo.send(
      new DeleteCommand({
        TableName: config.devicesTableName,
        Key: deviceKey(token),
        ConditionExpression: conditions.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    ),
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
    .map(fromItem)
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
    for (const item of page.Items ?? []) devices.push(fromItem(item));
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
  for (const record of records.map(fromItem)) owners.set(record.token, record.userId);
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
