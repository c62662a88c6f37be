import { describe, expect, it } from 'vitest';
import {
  DEVICES_TABLE,
  deviceItem,
  deviceKey,
  deviceOfItem,
  movedMarkName,
  readSetAttribute,
  setEntryBytes,
  setEntryName,
  setEntryValue,
  userKey,
} from '../../lambda/adapters/secondary/devices-keys';
import { liveActivityTokenKey } from '../../lambda/adapters/secondary/live-activity-keys';
import { receiptKey } from '../../lambda/adapters/secondary/notifications-keys';
import type { Device } from '../../lambda/domain/device';
import {
  DEFAULT_MAX_DEVICES_PER_USER,
  type DeviceSetEntry,
  MAX_SET_ENTRY_BYTES,
} from '../../lambda/domain/device-set';
import {
  checkFcmToken,
  ITEM_KEY_PREFIXES,
  MAX_FCM_TOKEN_LENGTH,
  MAX_KEYED_TOKEN_LENGTH,
  tokenKey,
} from '../../lambda/domain/fcm-token';

/** DynamoDB's limits on what a token keys or names (partition key, sort key). */
const PARTITION_KEY_BYTES = 2048;
const SORT_KEY_BYTES = 1024;
const bytes = (key: unknown) => Buffer.byteLength(String(key));
const fcmToken = (length: number, fill = 'x') => `a:${fill.repeat(length - 2)}`;

describe('tokenKey: what a token is stored under', () => {
  it('a token up to MAX_KEYED_TOKEN_LENGTH characters is its own key, as before long tokens (no migration)', () => {
    const apns = 'ab'.repeat(32);
    expect(tokenKey(apns)).toBe(apns);
    expect(tokenKey('ab'.repeat(200))).toBe('ab'.repeat(200));
    const longestKeyed = fcmToken(MAX_KEYED_TOKEN_LENGTH);
    expect(tokenKey(longestKeyed)).toBe(longestKeyed);
    expect(deviceKey(longestKeyed)).toEqual({ [DEVICES_TABLE.partitionKey]: longestKeyed });
  });

  it('a longer token is keyed by its SHA-256, behind a prefix no token may start with', () => {
    const token = fcmToken(MAX_KEYED_TOKEN_LENGTH + 1);
    const key = tokenKey(token);
    expect(key).toMatch(/^fcm-sha256:[A-Za-z0-9_-]{43}$/);
    expect(key.startsWith(ITEM_KEY_PREFIXES.longToken)).toBe(true);
    expect(tokenKey(token)).toBe(key);
    // No registered token can be that key: the prefix is refused at registration.
    expect(() => checkFcmToken(key)).toThrow(/does not start with "fcm-sha256:"/);
  });

  it('is injective: tokens sharing their first 1 000 characters, and tokens of every kind of key, get distinct keys', () => {
    const shared = 'a:'.padEnd(MAX_KEYED_TOKEN_LENGTH, 'y');
    const tokens = [
      `${shared}1`,
      `${shared}2`,
      `${shared}${'z'.repeat(MAX_FCM_TOKEN_LENGTH - MAX_KEYED_TOKEN_LENGTH)}`,
      fcmToken(MAX_FCM_TOKEN_LENGTH),
      fcmToken(MAX_FCM_TOKEN_LENGTH, 'X'),
      fcmToken(MAX_KEYED_TOKEN_LENGTH),
      'ab'.repeat(32),
    ];
    const keys = tokens.map(tokenKey);
    expect(new Set(keys).size).toBe(tokens.length);
    // Nor does a token's key name another kind of item of the Devices table.
    const otherItems = [
      Object.values(userKey('alice'))[0],
      Object.values(liveActivityTokenKey('push-to-start', 'ab'.repeat(32)))[0],
      Object.values(liveActivityTokenKey('update', 'ab'.repeat(32)))[0],
    ];
    for (const other of otherItems) expect(keys).not.toContain(other);
  });

  it('every key and attribute name a token makes stays within DynamoDB limits, up to MAX_FCM_TOKEN_LENGTH', () => {
    for (const length of [MAX_KEYED_TOKEN_LENGTH, MAX_KEYED_TOKEN_LENGTH + 1, MAX_FCM_TOKEN_LENGTH]) {
      const token = fcmToken(length);
      expect(bytes(Object.values(deviceKey(token))[0])).toBeLessThanOrEqual(PARTITION_KEY_BYTES);
      const receipt = receiptKey('n'.repeat(128), token);
      expect(bytes(receipt.pk)).toBeLessThanOrEqual(PARTITION_KEY_BYTES);
      expect(bytes(receipt.sk)).toBeLessThanOrEqual(SORT_KEY_BYTES);
      // Attribute names have no tighter limit than 64 KB, but a long token's stay short.
      expect(bytes(setEntryName(token))).toBeLessThanOrEqual(MAX_KEYED_TOKEN_LENGTH + 16);
      expect(bytes(movedMarkName(tokenKey(token)))).toBeLessThanOrEqual(MAX_KEYED_TOKEN_LENGTH + 16);
    }
  });

  it("a long token's record and set entry keep the token itself, and read back as it", () => {
    const token = fcmToken(MAX_FCM_TOKEN_LENGTH);
    const device: Device = {
      token,
      userId: 'alice',
      appId: 'app',
      environment: 'production',
      platform: 'android',
      registeredAt: '2026-12-06T00:00:00.000Z',
      lastSeenAt: '2026-12-06T00:00:00.000Z',
      expiresAt: 1,
      version: 3,
    };
    const item = deviceItem(device);
    expect(item[DEVICES_TABLE.partitionKey]).toBe(tokenKey(token));
    expect(item.fullToken).toBe(token);
    expect(deviceOfItem(item)).toEqual(device);
    const entry: DeviceSetEntry = {
      appId: 'app',
      environment: 'production',
      platform: 'android',
      lastSeenAt: '2026-12-06T00:00:00.000Z',
      expiresAt: 1,
      version: 3,
    };
    expect(readSetAttribute(setEntryName(token), setEntryValue(token, entry))).toEqual({
      kind: 'entry',
      token,
      entry,
    });
    // A short token's items are as they always were: no extra attribute.
    const short = { ...device, token: 'ab'.repeat(32) };
    expect(deviceItem(short)).toEqual(short);
    expect(setEntryValue(short.token, entry)).toEqual(entry);
  });

  it("a set item keeps the default cap of devices with 4 096-character tokens well within DynamoDB's 400 KB", () => {
    const entry: DeviceSetEntry = {
      appId: 'com.example.chat',
      environment: 'production',
      platform: 'android',
      lastSeenAt: '2026-12-06T07:45:48.123Z',
      expiresAt: 1_796_000_000,
      version: 1_765_000_000_000,
    };
    const perDevice = setEntryBytes(fcmToken(MAX_FCM_TOKEN_LENGTH), entry);
    expect(perDevice).toBe(4297);
    expect(perDevice * DEFAULT_MAX_DEVICES_PER_USER).toBeLessThan(140 * 1024);
    expect(Math.floor(MAX_SET_ENTRY_BYTES / perDevice)).toBe(81);
    expect(setEntryBytes(fcmToken(160), entry)).toBe(297);
  });
});
