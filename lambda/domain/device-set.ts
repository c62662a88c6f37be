import type { ApnsEnvironment, Device, RegistrationResult } from './device';
import { DAY_SECONDS, epochSeconds, hasExpired } from './expiry';
import { tokenKey } from './fcm-token';
import type { Platform } from './platform';

/**
 * A user's device set (docs/decisions/device-sets.md): every device the user holds
 * now, in one item of the Devices table. It alone decides who receives a user's
 * pushes; a token record says who last registered a token, and counts only while
 * the token is in that user's set.
 */

/** What kind of device a token belongs to: iOS (APNs) or Android (FCM). */
export type DevicePlatform = Platform;

/** One device of a set: what sending, listing and the per-user cap need. */
export interface DeviceSetEntry {
  appId: string;
  environment: ApnsEnvironment;
  platform: DevicePlatform;
  /** Written when the entry is (a refresh rewrites it at most once a day: SET_ENTRY_REFRESH_SECONDS). */
  lastSeenAt: string;
  /** Epoch seconds after which the entry no longer counts (at most a day before the record's own TTL). */
  expiresAt: number;
  /** The token record's version this entry was added with (see `nextRecordVersion`). */
  version: number;
}

/**
 * A token that left this user's set for another user's, with the token record's
 * version at that moment: an entry of that version or an earlier one can no longer be
 * added to this set (a registration of this user still on its way), and a retry or
 * re-push carrying the token for this user is dropped as `DeviceMoved`.
 */
export interface MovedAway {
  version: number;
  /** Epoch seconds; kept MOVED_AWAY_KEEP_SECONDS, then removed with the next new device. */
  at: number;
}

export interface DeviceSet {
  userId: string;
  /** By token (as the app registered it). */
  devices: Map<string, DeviceSetEntry>;
  /** By the token's key (`tokenKey`): look a token up with `movedAwayMark`. */
  movedAway: Map<string, MovedAway>;
  /** Moved on by every write that adds devices or erases them; absent on a set never written so. */
  setVersion?: number;
  /** The user's device generation (moved on by each erase; 0 for a user never erased). */
  generation: number;
}

/** A user's set before any device was added. */
export function emptyDeviceSet(userId: string): DeviceSet {
  return { userId, devices: new Map(), movedAway: new Map(), generation: 0 };
}

/**
 * The most devices a user's set holds, unless the deployment says otherwise
 * (`MAX_DEVICES_PER_USER`). A person has a handful; a user id with more is a test
 * account, a leak of tokens or someone registering made-up tokens, and must not make
 * a chunk of a job (its pushes, its tracking record, the message that retries it)
 * unbounded.
 */
export const DEFAULT_MAX_DEVICES_PER_USER = 32;

/**
 * The highest cap a deployment may set. An erase takes every device out of the set in
 * one write, and a registration after the cap was lowered evicts the surplus in one:
 * one `REMOVE` name per device, and DynamoDB refuses an expression over 4 KB (the
 * embedded databases do not). 300 names fit with room to spare
 * (test/integration/device-set-expressions.test.ts measures them).
 */
export const MOST_DEVICES_PER_USER = 300;

/** Moved-away marks one registration clears besides its own; the rest go with later ones. */
export const MOST_MARKS_DROPPED_PER_WRITE = 100;

/** A refresh rewrites the set entry only when the entry's `lastSeenAt` is older than this. */
export const SET_ENTRY_REFRESH_SECONDS = DAY_SECONDS;

/**
 * How long a moved-away mark stays: longer than any registration takes (its writes
 * are seconds apart) and than any retry or re-push round waits on the queue, so that
 * those report `DeviceMoved` rather than `NotRegistered`.
 */
export const MOVED_AWAY_KEEP_SECONDS = 7 * DAY_SECONDS;

/** Whether an entry still counts at `now` (its TTL has not passed). */
export function isLiveEntry(entry: DeviceSetEntry, now: Date): boolean {
  return !hasExpired(entry.expiresAt, now);
}

/**
 * The version a token record gets when it is (re)written for an owner: above the one
 * it had, and above any it had before it was deleted (a clock in milliseconds), so a
 * moved-away mark never blocks a later registration of the same token.
 */
export function nextRecordVersion(previous: number | undefined, now: Date): number {
  return Math.max((previous ?? 0) + 1, now.getTime());
}

/**
 * The most bytes a set's device entries may take, as its item stores them: DynamoDB
 * caps an item at 400 KB, and the set's item also holds its moved-away marks. With the
 * tokens Google and Apple issue (~300 bytes a device) the cap on devices decides long
 * before this; with FCM tokens of 4 096 characters (~4.3 KB a device,
 * docs/decisions/long-fcm-tokens.md) this does, after about 80 devices — the least
 * recently seen leave, as at the cap, rather than the registration failing.
 */
export const MAX_SET_ENTRY_BYTES = 340 * 1024;

/** What the set's entries take in its item, by DynamoDB's item size rules (the adapter knows its layout). */
export interface EntrySizes {
  /** The joining device's entry. */
  joining: number;
  of: (token: string, entry: DeviceSetEntry) => number;
}

/**
 * The devices that leave the set when `joining` is added, so that it holds at most
 * `max` devices and, when `sizes` are given, entries of at most MAX_SET_ENTRY_BYTES:
 * the least recently seen, and any that expired.
 */
export function devicesToEvict(
  set: DeviceSet,
  joining: string,
  max: number,
  now: Date,
  sizes?: EntrySizes,
): string[] {
  const others = [...set.devices.entries()].filter(([token]) => token !== joining);
  const expired = others.filter(([, entry]) => !isLiveEntry(entry, now)).map(([token]) => token);
  const live = others
    .filter(([, entry]) => isLiveEntry(entry, now))
    .sort(([, a], [, b]) => b.lastSeenAt.localeCompare(a.lastSeenAt));
  let kept = Math.min(live.length, Math.max(0, max - 1));
  if (sizes !== undefined) {
    let bytes = sizes.joining;
    for (let i = 0; i < kept; i++) {
      const [token, entry] = live[i] as [string, DeviceSetEntry];
      bytes += sizes.of(token, entry);
      if (bytes > MAX_SET_ENTRY_BYTES) kept = i;
    }
  }
  return [...expired, ...live.slice(kept).map(([token]) => token)];
}

/** The mark of `token` having moved away from this set, if there is one. */
export function movedAwayMark(set: DeviceSet, token: string): MovedAway | undefined {
  return set.movedAway.get(tokenKey(token));
}

/**
 * The tokens (by key) that left this user's set for another user's within
 * MOVED_AWAY_KEEP_SECONDS and have not come back: what a send to the user no longer
 * reaches because the device changed hands, counted as `DeviceMoved`.
 */
export function recentlyMovedAway(set: DeviceSet, now: Date): string[] {
  const stale = new Set(staleMovedAway(set, now));
  const held = new Set([...set.devices.keys()].map(tokenKey));
  return [...set.movedAway.keys()].filter((key) => !stale.has(key) && !held.has(key));
}

/** Moved-away marks old enough to drop (MOVED_AWAY_KEEP_SECONDS), by token key. */
export function staleMovedAway(set: DeviceSet, now: Date): string[] {
  const before = epochSeconds(now) - MOVED_AWAY_KEEP_SECONDS;
  return [...set.movedAway.entries()].filter(([, mark]) => mark.at < before).map(([token]) => token);
}

/**
 * Whether a refresh must rewrite the set entry too: what sending reads changed, or the
 * entry's `lastSeenAt` (which orders the cap) is more than a day old.
 */
export function entryNeedsRewrite(
  entry: DeviceSetEntry,
  next: Pick<DeviceSetEntry, 'appId' | 'environment' | 'platform'>,
  now: Date,
): boolean {
  return (
    entry.appId !== next.appId ||
    entry.environment !== next.environment ||
    entry.platform !== next.platform ||
    epochSeconds(now) - epochSeconds(new Date(entry.lastSeenAt)) >= SET_ENTRY_REFRESH_SECONDS
  );
}

/** What registering a device did: its record, the result, and who left the full set for it. */
export interface SavedDevice {
  device: Device;
  result: RegistrationResult;
  /** Devices that left the user's set because it held the most it may (least recently seen first out). */
  evicted: string[];
}

/** A device in a set, as the sender reads it. */
export interface HeldDevice {
  token: string;
  userId: string;
  entry: DeviceSetEntry;
}
