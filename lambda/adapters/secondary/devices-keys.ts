import type { Device } from '../../domain/device';
import type { DeviceSetEntry, MovedAway } from '../../domain/device-set';
import { ITEM_KEY_PREFIXES, tokenKey } from '../../domain/fcm-token';

/**
 * The shape of the Devices table, shared by the adapter, the CDK stack and the
 * offline stack so the three can never disagree.
 *
 * - partition key `token`: a token is unique and belongs to one user at a time, so its
 *   one record says who holds it. Moving a device token to another user takes three
 *   conditional writes, each on condition that what was read still stands
 *   (device-registration.ts `saveDevice`): it leaves the old user's set with a
 *   moved-away mark, its record is written for the new user at a new version, and it
 *   joins the new user's set; a crash between them leaves it in no set until the app
 *   registers again. (A Live Activity token, in no set, moves in one put:
 *   owned-record.ts.) The key is the token's `tokenKey` (domain/fcm-token.ts): the
 *   token itself, or the digest of one too long to key the tables, whose item then
 *   keeps the token in `fullToken`;
 * - GSI `byUser` (`userId`, `appId`): every device of a user — or of a user for one
 *   app — in one Query;
 * - GSI `byLiveActivity` (`liveActivityTarget`): Live Activity tokens, which live in
 *   this table under kind-prefixed keys (live-activity-keys.ts), by what a send
 *   addresses — a user's push-to-start tokens of one attributes type, or an
 *   activity's update tokens. Device items lack the attribute, Live Activity items
 *   lack `userId`, so neither index sees the other kind;
 * - one item per user, under the key `user:<userId>` (canonical hex has no `:`, and no
 *   FCM token starts with `user:`: domain/fcm-token.ts): the
 *   user's device set — one attribute `device:<token key>` per device the user holds
 *   now (holding the token itself in `fullToken` when the key is its digest),
 *   `moved:<token key>` per token that recently left for another user, and
 *   `setVersion` (docs/decisions/device-sets.md) — and the user's device
 *   generation, which Live Activity tokens are checked against — see `userKey`;
 * - TTL attribute `expiresAt`.
 */
export const DEVICES_TABLE = {
  partitionKey: 'token',
  userIndex: { name: 'byUser', partitionKey: 'userId', sortKey: 'appId' },
  liveActivityIndex: { name: 'byLiveActivity', partitionKey: 'liveActivityTarget' },
  ttlAttribute: 'expiresAt',
} as const;

export function deviceKey(token: string) {
  return { [DEVICES_TABLE.partitionKey]: tokenKey(token) };
}

/**
 * Where an item keyed by a token's digest keeps the token itself (a token record, a
 * set entry, a receipt): absent when the token is its own key, as on every item
 * written before tokens longer than MAX_KEYED_TOKEN_LENGTH were accepted.
 */
export const FULL_TOKEN_ATTRIBUTE = 'fullToken';

/** The token an item keyed by `key` holds: its `fullToken`, or the key itself. */
function tokenOf(key: string, item: Record<string, unknown>): string {
  const full = item[FULL_TOKEN_ATTRIBUTE];
  return typeof full === 'string' ? full : key;
}

/** `item` with the token itself beside it when `token` is not its own key. */
function withFullToken<T extends object>(token: string, item: T): T {
  return tokenKey(token) === token ? item : { ...item, [FULL_TOKEN_ATTRIBUTE]: token };
}

/** A device's token record as the table holds it (the token's key, and the token when they differ). */
export function deviceItem(device: Device): Record<string, unknown> {
  return withFullToken(device.token, { ...device, ...deviceKey(device.token) });
}

/** A token record read back (deviceItem), with its token as the app registered it. */
export function deviceOfItem(item: Record<string, unknown>): Device {
  const { [FULL_TOKEN_ATTRIBUTE]: _full, ...device } = item;
  return { ...device, token: tokenOf(String(item[DEVICES_TABLE.partitionKey]), item) } as unknown as Device;
}

/**
 * The item that holds a user's device set and device generation
 * (docs/decisions/device-sets.md, docs/decisions/device-generations.md). It has no
 * `userId` attribute, so the `byUser` index never lists it.
 */
export function userKey(userId: string) {
  return { [DEVICES_TABLE.partitionKey]: `${USER_KEY_PREFIX}${userId}` };
}

const USER_KEY_PREFIX = ITEM_KEY_PREFIXES.userSet;

/** The user whose device generation an item holds, or undefined for any other item. */
export function userOfKey(item: Record<string, unknown>): string | undefined {
  const key = item[DEVICES_TABLE.partitionKey];
  return typeof key === 'string' && key.startsWith(USER_KEY_PREFIX)
    ? key.slice(USER_KEY_PREFIX.length)
    : undefined;
}

/** The attributes of a user's item that hold the device set. */
export const DEVICE_SET = {
  /** `device:<token key>`: one device the user holds now (domain/device-set.ts `DeviceSetEntry`). */
  entryPrefix: 'device:',
  /** `moved:<token key>`: a token that left for another user (`MovedAway`). */
  movedPrefix: 'moved:',
  version: 'setVersion',
} as const;

/** The attribute of a user's set item that holds the device of this token. */
export function setEntryName(token: string): string {
  return `${DEVICE_SET.entryPrefix}${tokenKey(token)}`;
}

/** A set entry as the item holds it (with the token itself when the name holds its digest). */
export function setEntryValue(token: string, entry: DeviceSetEntry): Record<string, unknown> {
  return withFullToken(token, { ...entry });
}

/**
 * What a device's entry takes in its set's item, by DynamoDB's item size rules: the
 * attribute's name, and its value — a map (3 bytes, and 1 a field) of strings (their
 * UTF-8 bytes) and numbers (about a byte per two digits, and 1).
 */
export function setEntryBytes(token: string, entry: DeviceSetEntry): number {
  const valueBytes = (value: unknown) =>
    typeof value === 'string' ? Buffer.byteLength(value) : Math.ceil(String(value).length / 2) + 1;
  return Object.entries(setEntryValue(token, entry)).reduce(
    (bytes, [name, value]) => bytes + Buffer.byteLength(name) + valueBytes(value) + 1,
    Buffer.byteLength(setEntryName(token)) + 3,
  );
}

/**
 * The attribute of a user's set item that marks a token moved away, by the token's
 * key: a mark is looked up by the token it is asked about, never listed as a token, so
 * it keeps no token (a long token's mark stays ~70 bytes, whatever the token's length).
 */
export function movedMarkName(key: string): string {
  return `${DEVICE_SET.movedPrefix}${key}`;
}

/** What a user's set item holds, by the attribute: a device (with its token), a moved-away mark (by key), or neither. */
export function readSetAttribute(
  name: string,
  value: unknown,
):
  | { kind: 'entry'; token: string; entry: DeviceSetEntry }
  | { kind: 'moved'; key: string; mark: MovedAway }
  | undefined {
  if (name.startsWith(DEVICE_SET.entryPrefix)) {
    const stored = value as Record<string, unknown>;
    const { [FULL_TOKEN_ATTRIBUTE]: _full, ...entry } = stored;
    return {
      kind: 'entry',
      token: tokenOf(name.slice(DEVICE_SET.entryPrefix.length), stored),
      entry: entry as unknown as DeviceSetEntry,
    };
  }
  if (name.startsWith(DEVICE_SET.movedPrefix))
    return { kind: 'moved', key: name.slice(DEVICE_SET.movedPrefix.length), mark: value as MovedAway };
  return undefined;
}
