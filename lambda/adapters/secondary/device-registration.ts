import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../../clients';
import { config } from '../../config';
import {
  type Device,
  type DeviceRegistration,
  deviceExpiry,
  type RegistrationResult,
} from '../../domain/device';
import type { SavedDevice } from '../../domain/device-set';
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
import { RegistrationConflictError } from '../../domain/errors';
import { conditional } from './conditional-write';
import { pauseBeforeAttempt, readRecord, recordUnchanged } from './device-records';
import { addToSet, markMovedAway, readDeviceSet, rewriteEntry } from './device-sets';
import { DEVICES_TABLE, deviceItem, setEntryBytes } from './devices-keys';

/*
 * Device tokens: a record per token (who registered it last, for what is asked by
 * token) and an entry in its user's device set (device-sets.ts), which alone decides
 * who the device belongs to. Every writer orders its writes so that a crash between
 * two of them leaves the device in no set rather than in two
 * (docs/decisions/device-sets.md).
 */

/** Registering a device token: create it, refresh it, or move it from the user who held it. */

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
  let result: RegistrationResult | undefined;
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
      return { device: refused.device, result: refused.result, evicted: [] };
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
      return { device, result: result ?? 'refreshed', evicted: [] };
    }
    // A record of the caller's that a concurrent registration of theirs just wrote, or one
    // written before sets (version-less, not migrated yet), is a refresh.
    result ??=
      record === undefined
        ? 'created'
        : record.userId !== userId
          ? 'moved'
          : entry !== undefined || raced || record.version === undefined
            ? 'refreshed'
            : 'created';
    const saved = await addDevice(registration, record, set, result, now, maxDevices);
    if ('evicted' in saved) return { ...saved, result };
    refused = { ...saved, result, readVersion: record === undefined ? undefined : (record.version ?? 0) };
    // Once its record is written, the registration keeps the result it found first.
    if (saved.at === 'record') {
      result = undefined;
      raced = true;
    }
  }
}

/** An attempt of a registration that a condition refused: at which write, and what it wrote or tried to. */
interface RefusedAttempt {
  at: 'record' | 'set';
  device: Device;
  result: RegistrationResult;
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
  result: RegistrationResult,
  now: Date,
  maxDevices: number,
): Promise<Omit<SavedDevice, 'result'> | { at: 'record' | 'set'; device: Device }> {
  const { token, userId } = registration;
  const device: Device = {
    ...registration,
    platform: registration.platform ?? 'ios',
    registeredAt: result === 'refreshed' && record !== undefined ? record.registeredAt : now.toISOString(),
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
