import { describe, expect, it } from 'vitest';
import {
  type DeviceSet,
  type DeviceSetEntry,
  devicesToEvict,
  emptyDeviceSet,
  entryNeedsRewrite,
  MAX_SET_ENTRY_BYTES,
  nextRecordVersion,
  staleMovedAway,
} from '../../lambda/domain/device-set';
import { confirmDevicesInSets } from '../../lambda/domain/devices-to-push';

const APP = 'com.example.app';
const NOW = new Date('2026-12-06T12:00:00Z');
const seconds = (date: Date) => Math.floor(date.getTime() / 1000);
const entry = (lastSeenAt: string, extra: Partial<DeviceSetEntry> = {}): DeviceSetEntry => ({
  appId: APP,
  environment: 'production',
  platform: 'ios',
  lastSeenAt,
  expiresAt: seconds(NOW) + 86_400,
  version: 1,
  ...extra,
});
const setOf = (userId: string, devices: Record<string, DeviceSetEntry>, moved: string[] = []): DeviceSet => ({
  ...emptyDeviceSet(userId),
  devices: new Map(Object.entries(devices)),
  movedAway: new Map(moved.map((token) => [token, { version: 1, at: seconds(NOW) }])),
});

describe('the per-user cap, kept at registration', () => {
  it('a new device joining a full set makes the least recently seen leave, and only it', () => {
    const set = setOf('alice', {
      a: entry('2026-12-01T00:00:00Z'),
      b: entry('2026-12-05T00:00:00Z'),
      c: entry('2026-12-03T00:00:00Z'),
    });
    expect(devicesToEvict(set, 'new', 3, NOW)).toEqual(['a']);
    expect(devicesToEvict(set, 'new', 2, NOW).sort()).toEqual(['a', 'c']);
    expect(devicesToEvict(set, 'new', 4, NOW)).toEqual([]);
  });

  it('a device already in the set never evicts another, nor itself', () => {
    const set = setOf('alice', { a: entry('2026-12-01T00:00:00Z'), b: entry('2026-12-05T00:00:00Z') });
    expect(devicesToEvict(set, 'a', 2, NOW)).toEqual([]);
  });

  it("the least recently seen also leave when the entries would take more than MAX_SET_ENTRY_BYTES of the set's item", () => {
    const set = setOf('alice', {
      a: entry('2026-12-01T00:00:00Z'),
      b: entry('2026-12-05T00:00:00Z'),
      c: entry('2026-12-03T00:00:00Z'),
      d: entry('2026-12-04T00:00:00Z'),
    });
    const third = Math.floor(MAX_SET_ENTRY_BYTES / 3);
    // Room for the new entry and two others: the two most recently seen stay.
    expect(devicesToEvict(set, 'new', 1000, NOW, { joining: third, of: () => third }).sort()).toEqual([
      'a',
      'c',
    ]);
    // Small entries: only the cap decides.
    expect(devicesToEvict(set, 'new', 1000, NOW, { joining: 300, of: () => 300 })).toEqual([]);
    expect(devicesToEvict(set, 'new', 4, NOW, { joining: 300, of: () => 300 })).toEqual(['a']);
  });

  it('expired entries leave first, whatever the cap', () => {
    const set = setOf('alice', {
      gone: entry('2026-12-05T00:00:00Z', { expiresAt: seconds(NOW) - 1 }),
      b: entry('2026-12-01T00:00:00Z'),
    });
    expect(devicesToEvict(set, 'new', 32, NOW)).toEqual(['gone']);
  });
});

describe('a refresh of a known device is one write', () => {
  it('the set entry is rewritten only when what sending reads changed, or once a day', () => {
    const current = entry('2026-12-06T08:00:00Z');
    expect(entryNeedsRewrite(current, current, NOW)).toBe(false);
    expect(entryNeedsRewrite(current, { ...current, environment: 'sandbox' }, NOW)).toBe(true);
    expect(entryNeedsRewrite(current, { ...current, appId: 'com.example.other' }, NOW)).toBe(true);
    expect(entryNeedsRewrite(entry('2026-12-05T11:59:59Z'), current, NOW)).toBe(true);
  });
});

describe('record versions and moved-away marks', () => {
  it('a new version is above the last one and above any the token had before it was deleted', () => {
    expect(nextRecordVersion(undefined, NOW)).toBe(NOW.getTime());
    expect(nextRecordVersion(NOW.getTime() + 5, NOW)).toBe(NOW.getTime() + 6);
  });

  it('marks are dropped after a week', () => {
    const set = emptyDeviceSet('alice');
    set.movedAway.set('old', { version: 1, at: seconds(NOW) - 8 * 86_400 });
    set.movedAway.set('recent', { version: 1, at: seconds(NOW) - 86_400 });
    expect(staleMovedAway(set, NOW)).toEqual(['old']);
  });
});

describe('who a retried or re-pushed device may still reach (the privacy rule against sets)', () => {
  const sets = new Map([
    [
      'alice',
      setOf(
        'alice',
        {
          kept: entry('2026-12-06T00:00:00Z', { environment: 'sandbox' }),
          other: entry('2026-12-06T00:00:00Z', { appId: 'com.example.other' }),
          expired: entry('2026-12-06T00:00:00Z', { expiresAt: seconds(NOW) }),
        },
        ['moved'],
      ),
    ],
  ]);
  const candidates = ['kept', 'other', 'expired', 'moved', 'unknown'].map((token) => ({
    token,
    userId: 'alice',
  }));

  it('keeps a device in its user’s set for the job’s app, with the set’s environment; drops every other with its reason', () => {
    const { devices, dropped } = confirmDevicesInSets(candidates, sets, APP, NOW);
    expect(devices).toEqual([{ token: 'kept', userId: 'alice', appId: APP, environment: 'sandbox' }]);
    expect(dropped.map(({ candidate, reason }) => [candidate.token, reason])).toEqual([
      ['other', 'NotRegisteredForApp'],
      ['expired', 'NotRegistered'],
      ['moved', 'DeviceMoved'],
      ['unknown', 'NotRegistered'],
    ]);
  });

  it('a device in another user’s set reaches nobody as this user’s', () => {
    const { devices } = confirmDevicesInSets([{ token: 'kept', userId: 'bob' }], sets, APP, NOW);
    expect(devices).toEqual([]);
  });
});
