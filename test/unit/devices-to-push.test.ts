import { describe, expect, it } from 'vitest';
import { type DeviceOwner, isCurrentGeneration } from '../../lambda/domain/device';
import {
  confirmDevices,
  dropReason,
  MAX_DEVICES_PER_USER,
  newestDevicesPerUser,
} from '../../lambda/domain/devices-to-push';

const APP = 'com.example.app';
const owners = (...list: DeviceOwner[]) => new Map(list.map((owner) => [owner.token, owner]));
const held = (token: string, userId: string, extra: Partial<DeviceOwner> = {}): DeviceOwner => ({
  token,
  userId,
  appId: APP,
  environment: 'production',
  ...extra,
});

describe('who a push may leave for (the privacy rule)', () => {
  it("keeps a device still held by the user the jobPart is for, for the job's app", () => {
    expect(confirmDevices([{ token: 't1', userId: 'alice' }], owners(held('t1', 'alice')), APP)).toEqual({
      devices: [{ token: 't1', userId: 'alice', appId: APP, environment: 'production' }],
      dropped: [],
    });
  });

  it('drops a device that moved to another user since the jobPart was planned or the index was read', () => {
    expect(dropReason({ token: 't1', userId: 'alice' }, held('t1', 'bob'), APP)).toBe('DeviceMoved');
  });

  it('drops a device no one holds any more (signed out, erased, pruned or expired)', () => {
    expect(dropReason({ token: 't1', userId: 'alice' }, undefined, APP)).toBe('NotRegistered');
    expect(dropReason({ token: 't1' }, undefined, APP)).toBe('NotRegistered');
  });

  it('drops a device the same user registered again for another app', () => {
    expect(
      dropReason({ token: 't1', userId: 'alice' }, held('t1', 'alice', { appId: 'com.example.other' }), APP),
    ).toBe('NotRegisteredForApp');
  });

  it('a first push to a token reaches whoever holds it for the app, and names that holder', () => {
    const { devices, dropped } = confirmDevices(
      [{ token: 't1' }, { token: 't2' }],
      owners(held('t1', 'bob'), held('t2', 'carol', { appId: 'com.example.other' })),
      APP,
    );
    expect(devices).toEqual([{ token: 't1', userId: 'bob', appId: APP, environment: 'production' }]);
    expect(dropped).toEqual([{ candidate: { token: 't2' }, reason: 'NotRegisteredForApp' }]);
  });

  it('takes the environment from the current record, not from the jobPart', () => {
    const { devices } = confirmDevices(
      [{ token: 't1', userId: 'alice' }],
      owners(held('t1', 'alice', { environment: 'sandbox' })),
      APP,
    );
    expect(devices[0]?.environment).toBe('sandbox');
  });

  it('a stale index listing one token under its old and new owner sends it once, to the new owner', () => {
    const { devices, dropped } = confirmDevices(
      [
        { token: 't1', userId: 'alice' },
        { token: 't1', userId: 'bob' },
      ],
      owners(held('t1', 'bob')),
      APP,
    );
    expect(devices.map((r) => r.userId)).toEqual(['bob']);
    expect(dropped).toEqual([{ candidate: { token: 't1', userId: 'alice' }, reason: 'DeviceMoved' }]);
  });

  it('every candidate ends in exactly one of devices or dropped', () => {
    const candidates = [
      { token: 'a', userId: 'u1' },
      { token: 'b', userId: 'u1' },
      { token: 'c', userId: 'u2' },
      { token: 'd', userId: 'u2' },
      { token: 'e' },
    ];
    const { devices, dropped } = confirmDevices(
      candidates,
      owners(held('a', 'u1'), held('b', 'u9'), held('d', 'u2', { appId: 'x' }), held('e', 'u3')),
      APP,
    );
    expect(devices.map((r) => r.token)).toEqual(['a', 'e']);
    expect(dropped.map((d) => [d.candidate.token, d.reason])).toEqual([
      ['b', 'DeviceMoved'],
      ['c', 'NotRegistered'],
      ['d', 'NotRegisteredForApp'],
    ]);
    expect(devices.length + dropped.length).toBe(candidates.length);
  });
});

describe('device generations (what an erase takes)', () => {
  it('a record of the user’s current or a newer generation is theirs; an older one is not', () => {
    expect(isCurrentGeneration(undefined, undefined)).toBe(true); // never erased, record from before generations
    expect(isCurrentGeneration(undefined, 0)).toBe(true);
    expect(isCurrentGeneration(2, 2)).toBe(true);
    expect(isCurrentGeneration(3, 2)).toBe(true); // written after an erase the reader has not seen yet
    expect(isCurrentGeneration(undefined, 1)).toBe(false); // registered before the first erase
    expect(isCurrentGeneration(1, 2)).toBe(false);
  });
});

describe('devices per user a notification reaches', () => {
  it('keeps each user’s most recently seen devices up to the limit, and returns the rest apart', () => {
    const seen = (user: string, n: number) => ({
      userId: user,
      token: `${user}-${n}`,
      lastSeenAt: new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString(),
    });
    const many = Array.from({ length: MAX_DEVICES_PER_USER + 3 }, (_, n) => seen('heavy', n));
    const few = [seen('light', 1), seen('light', 2)];
    const { kept, over } = newestDevicesPerUser([...few, ...many]);
    expect(kept).toHaveLength(MAX_DEVICES_PER_USER + 2);
    expect(kept).toEqual(expect.arrayContaining(few));
    expect(over.map((d) => d.token).sort()).toEqual(['heavy-0', 'heavy-1', 'heavy-2']);
  });
});
