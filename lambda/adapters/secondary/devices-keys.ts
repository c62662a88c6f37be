import { ITEM_KEY_PREFIXES } from '../../domain/fcm-token';

/**
 * The shape of the Devices table, shared by the adapter, the CDK stack and the
 * offline stack so the three can never disagree.
 *
 * - partition key `token`: a token is unique and belongs to one user at a time, so
 *   moving it between users is a single conditional write;
 * - GSI `byUser` (`userId`, `appId`): every device of a user — or of a user for one
 *   app — in one Query;
 * - GSI `byLiveActivity` (`liveActivityTarget`): Live Activity tokens, which live in
 *   this table under kind-prefixed keys (live-activity-keys.ts), by what a send
 *   addresses — a user's push-to-start tokens of one attributes type, or an
 *   activity's update tokens. Device items lack the attribute, Live Activity items
 *   lack `userId`, so neither index sees the other kind;
 * - one item per user, under the key `user:<userId>` (canonical hex has no `:`, and no
 *   FCM token starts with `user:`: domain/fcm-token.ts): the
 *   user's device set — one attribute `device:<token>` per device the user holds
 *   now, `moved:<token>` per token that recently left for another user, and
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
  return { [DEVICES_TABLE.partitionKey]: token };
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
  /** `device:<token>`: one device the user holds now (domain/device-set.ts `DeviceSetEntry`). */
  entryPrefix: 'device:',
  /** `moved:<token>`: a token that left for another user (`MovedAway`). */
  movedPrefix: 'moved:',
  version: 'setVersion',
} as const;
