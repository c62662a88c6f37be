import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../../clients';
import { config } from '../../config';
import type { ApnsEnvironment } from '../../domain/device';
import {
  type DeviceSet,
  type DeviceSetEntry,
  emptyDeviceSet,
  MOST_MARKS_DROPPED_PER_WRITE,
  type MovedAway,
} from '../../domain/device-set';
import { epochSeconds } from '../../domain/expiry';
import { tokenKey } from '../../domain/fcm-token';
import { batchGetAll } from './batch-get';
import { conditional } from './conditional-write';
import {
  DEVICE_SET,
  movedMarkName,
  readSetAttribute,
  setEntryName,
  setEntryValue,
  userKey,
  userOfKey,
} from './devices-keys';

/*
 * Users' device sets (docs/decisions/device-sets.md): the item `user:<userId>` of the
 * Devices table lists every device the user holds now. Each write here touches that
 * one item; the token records are written by device-registration.ts and
 * devices-table.ts, in the order that leaves a crash between two writes fail-closed.
 */

const entryName = setEntryName;
/** A token's moved-away mark (marks are named by the token's key: devices-keys.ts). */
const movedName = (token: string) => movedMarkName(tokenKey(token));

/** A user's device set from its item (an absent item is an empty set). */
export function deviceSetOf(userId: string, item: Record<string, unknown> | undefined): DeviceSet {
  const set = emptyDeviceSet(userId);
  if (item === undefined) return set;
  for (const [name, value] of Object.entries(item)) {
    const held = readSetAttribute(name, value);
    if (held?.kind === 'entry') set.devices.set(held.token, held.entry);
    else if (held?.kind === 'moved') set.movedAway.set(held.key, held.mark);
  }
  const version = item[DEVICE_SET.version];
  if (typeof version === 'number') set.setVersion = version;
  if (typeof item.generation === 'number') set.generation = item.generation;
  return set;
}

/** One user's device set, read strongly consistent. */
export async function readDeviceSet(userId: string): Promise<DeviceSet> {
  const { Item } = await dynamo.send(
    new GetCommand({ TableName: config.devicesTableName, Key: userKey(userId), ConsistentRead: true }),
  );
  return deviceSetOf(userId, Item);
}

/**
 * The device sets of these users, strongly consistent: one BatchGetItem per 100
 * users (the sender's only read of a chunk of a job to users). Users without an item
 * get an empty set.
 */
export async function readDeviceSets(userIds: readonly string[]): Promise<Map<string, DeviceSet>> {
  const unique = [...new Set(userIds)];
  const sets = new Map(unique.map((userId) => [userId, emptyDeviceSet(userId)]));
  if (unique.length === 0) return sets;
  const items = await batchGetAll(config.devicesTableName, unique.map(userKey), undefined, true);
  for (const item of items) {
    const userId = userOfKey(item);
    if (userId !== undefined) sets.set(userId, deviceSetOf(userId, item));
  }
  return sets;
}

/** The condition that the set is still as it was read (no device added nor erase since). */
function unchangedSince(set: DeviceSet, values: Record<string, unknown>): string {
  if (set.setVersion === undefined) return 'attribute_not_exists(#setVersion)';
  values[':setVersion'] = set.setVersion;
  return '#setVersion = :setVersion';
}

/**
 * Adds (or replaces) a device in the set, removing `evict` (the cap) and the stale
 * moved-away marks `dropMarks` (by token key, as `DeviceSet.movedAway` holds them) in
 * the same write. Refused (false) when the set changed since it was read, or when the
 * token moved away from this user at this entry's version or later — a registration
 * overtaken by a move must not bring the token back.
 */
export function addToSet(
  set: DeviceSet,
  token: string,
  entry: DeviceSetEntry,
  evict: readonly string[],
  dropMarks: readonly string[],
): Promise<boolean> {
  const names: Record<string, string> = {
    '#entry': entryName(token),
    '#moved': movedName(token),
    '#setVersion': DEVICE_SET.version,
  };
  const values: Record<string, unknown> = {
    ':entry': setEntryValue(token, entry),
    ':version': entry.version,
    ':nextSetVersion': (set.setVersion ?? 0) + 1,
  };
  const removed = [
    ...evict.map((other, i) => {
      names[`#v${i}`] = entryName(other);
      return `#v${i}`;
    }),
    ...dropMarks
      .filter((key) => key !== tokenKey(token))
      .slice(0, MOST_MARKS_DROPPED_PER_WRITE)
      .map((key, i) => {
        names[`#m${i}`] = movedMarkName(key);
        return `#m${i}`;
      }),
  ];
  const condition = `${unchangedSince(set, values)} AND (attribute_not_exists(#moved) OR #moved.version < :version)`;
  return conditional(() =>
    dynamo.send(
      new UpdateCommand({
        TableName: config.devicesTableName,
        Key: userKey(set.userId),
        UpdateExpression: `SET #entry = :entry, #setVersion = :nextSetVersion${removed.length ? ` REMOVE ${removed.join(', ')}` : ''}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    ),
  );
}

/** Rewrites a device's entry while it is still in the set at the same version (a refresh). */
export function rewriteEntry(userId: string, token: string, entry: DeviceSetEntry): Promise<boolean> {
  return conditional(() =>
    dynamo.send(
      new UpdateCommand({
        TableName: config.devicesTableName,
        Key: userKey(userId),
        UpdateExpression: 'SET #entry = :entry',
        ConditionExpression: '#entry.version = :version',
        ExpressionAttributeNames: { '#entry': entryName(token) },
        ExpressionAttributeValues: { ':entry': setEntryValue(token, entry), ':version': entry.version },
      }),
    ),
  );
}

/**
 * Moves the user's set version on from `from` (the version just read) without adding a
 * device: a registration that read the set before this write can no longer add to it
 * (it reads again), and a record written by one is older than the version returned
 * (see `Device.setVersionSeen`). Refused (undefined) when the set was written since it
 * was read at `from`: that writer may have added the very token the caller is about to
 * treat as outside the set, so the caller reads again.
 */
export async function moveSetVersionOn(userId: string, from: number): Promise<number | undefined> {
  try {
    const { Attributes } = await dynamo.send(
      new UpdateCommand({
        TableName: config.devicesTableName,
        Key: userKey(userId),
        UpdateExpression: 'ADD #setVersion :one',
        ConditionExpression:
          from === 0 ? 'attribute_not_exists(#setVersion) OR #setVersion = :from' : '#setVersion = :from',
        ExpressionAttributeNames: { '#setVersion': DEVICE_SET.version },
        ExpressionAttributeValues: { ':one': 1, ':from': from },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const version = Attributes?.[DEVICE_SET.version];
    if (typeof version !== 'number') throw new Error('DynamoDB did not return the new set version');
    return version;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    throw error;
  }
}

/**
 * Takes a token out of a user's set because another user is taking it, and marks it
 * moved away at the token record's `version`: from this write on, no registration of
 * this user that read that version (or an earlier one) can add it back. Refused
 * (false) when the set holds the token, or a mark, at a later version: the user
 * registered it again since the record was read, and that entry must stay.
 */
export function markMovedAway(userId: string, token: string, version: number, now: Date): Promise<boolean> {
  const mark: MovedAway = { version, at: epochSeconds(now) };
  return conditional(() =>
    dynamo.send(
      new UpdateCommand({
        TableName: config.devicesTableName,
        Key: userKey(userId),
        UpdateExpression: 'SET #moved = :mark REMOVE #entry',
        ConditionExpression:
          '(attribute_not_exists(#entry) OR #entry.version <= :version) AND (attribute_not_exists(#moved) OR #moved.version <= :version)',
        ExpressionAttributeNames: { '#entry': entryName(token), '#moved': movedName(token) },
        ExpressionAttributeValues: { ':mark': mark, ':version': version },
      }),
    ),
  );
}

/**
 * Takes a token out of a user's set if it is there (and, when given, for this app and
 * at this version). Returns the entry it removed, or undefined when there was none.
 */
export async function removeFromSet(
  userId: string,
  token: string,
  expected: { appId?: string; version?: number } = {},
): Promise<DeviceSetEntry | undefined> {
  const conditions = ['attribute_exists(#entry)'];
  const values: Record<string, unknown> = {};
  if (expected.appId !== undefined) {
    conditions.push('#entry.appId = :appId');
    values[':appId'] = expected.appId;
  }
  if (expected.version !== undefined) {
    conditions.push('#entry.version = :version');
    values[':version'] = expected.version;
  }
  try {
    const { Attributes } = await dynamo.send(
      new UpdateCommand({
        TableName: config.devicesTableName,
        Key: userKey(userId),
        UpdateExpression: 'REMOVE #entry',
        ConditionExpression: conditions.join(' AND '),
        ExpressionAttributeNames: { '#entry': entryName(token) },
        ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
        ReturnValues: 'UPDATED_OLD',
      }),
    );
    const stored = Attributes?.[entryName(token)];
    const removed = stored === undefined ? undefined : readSetAttribute(entryName(token), stored);
    return removed?.kind === 'entry' ? removed.entry : undefined;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    throw error;
  }
}

/** Corrects the environment of a device's entry, if it is still in the set. */
export function correctEntryEnvironment(userId: string, token: string, environment: ApnsEnvironment) {
  return conditional(() =>
    dynamo.send(
      new UpdateCommand({
        TableName: config.devicesTableName,
        Key: userKey(userId),
        UpdateExpression: 'SET #entry.environment = :environment',
        ConditionExpression: 'attribute_exists(#entry)',
        ExpressionAttributeNames: { '#entry': entryName(token) },
        ExpressionAttributeValues: { ':environment': environment },
      }),
    ),
  );
}

/**
 * Erases the set as it was read — every device leaves it in one write — and moves the
 * user's device generation on (which takes the user's Live Activity tokens). Refused
 * (undefined) when a device was added since the read; otherwise the new generation.
 */
export async function clearSet(set: DeviceSet, now: Date): Promise<number | undefined> {
  const names: Record<string, string> = { '#setVersion': DEVICE_SET.version };
  const values: Record<string, unknown> = {
    ':one': 1,
    ':now': now.toISOString(),
    ':nextSetVersion': (set.setVersion ?? 0) + 1,
  };
  const removed = [...set.devices.keys()].map((token, i) => {
    names[`#e${i}`] = entryName(token);
    return `#e${i}`;
  });
  try {
    const { Attributes } = await dynamo.send(
      new UpdateCommand({
        TableName: config.devicesTableName,
        Key: userKey(set.userId),
        UpdateExpression: `ADD generation :one SET erasedAt = :now, #setVersion = :nextSetVersion${removed.length ? ` REMOVE ${removed.join(', ')}` : ''}`,
        ConditionExpression: unchangedSince(set, values),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    if (typeof Attributes?.generation !== 'number')
      throw new Error('DynamoDB did not return the new device generation');
    return Attributes.generation;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    throw error;
  }
}
