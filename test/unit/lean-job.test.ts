import { describe, expect, it } from 'vitest';
import { partsOf } from '../../lambda/domain/job-part';
import {
  isLeanDelivery,
  isLeanJob,
  LEAN_MAX_TOKENS,
  LEAN_MAX_USERS,
  leanDoneSummary,
} from '../../lambda/domain/lean-job';
import type { SendJob } from '../../lambda/domain/send-job';

const users = (count: number) => Array.from({ length: count }, (_, i) => `user-${i}`);
const tokens = (count: number) => Array.from({ length: count }, (_, i) => String(i).padStart(64, 'a'));
const job = (extra: Partial<SendJob> = {}): SendJob =>
  ({
    notificationId: 'n-1',
    appId: 'com.example.app',
    to: { userIds: ['ann'] },
    aps: { alert: 'hi' },
    ...extra,
  }) as SendJob;

describe('which jobs take the lean path', () => {
  it('an untracked job to a few users or tokens, each counted once', () => {
    expect(isLeanJob(job())).toBe(true);
    expect(isLeanJob(job({ to: { userIds: users(LEAN_MAX_USERS) } }))).toBe(true);
    expect(isLeanJob(job({ to: { userIds: users(LEAN_MAX_USERS + 1) } }))).toBe(false);
    expect(isLeanJob(job({ to: { userIds: [...users(LEAN_MAX_USERS), 'user-0'] } }))).toBe(true);
    expect(isLeanJob(job({ to: { tokens: tokens(LEAN_MAX_TOKENS) } }))).toBe(true);
    expect(isLeanJob(job({ to: { tokens: tokens(LEAN_MAX_TOKENS + 1) } }))).toBe(false);
  });

  it('never a tracked job or a Live Activity push', () => {
    expect(isLeanJob(job({ track: { receipts: true } }))).toBe(false);
    expect(
      isLeanJob(
        job({
          to: { activities: [{ userId: 'ann', activityId: 'game-1' }] },
          apns: { pushType: 'liveactivity' },
        } as Partial<SendJob>),
      ),
    ).toBe(false);
  });

  it('only its first delivery: not a retry, a re-push round or a part carrying devices', () => {
    const [first] = partsOf(job());
    if (first === undefined) throw new Error('no part');
    expect(isLeanDelivery(first)).toBe(true);
    expect(isLeanDelivery({ ...first, attempt: 1 })).toBe(false);
    expect(isLeanDelivery({ ...first, repush: { round: 1, dueAt: 0 } })).toBe(false);
    expect(
      isLeanDelivery({
        ...first,
        devices: [
          { token: 'a'.repeat(64), userId: 'ann', appId: 'com.example.app', environment: 'production' },
        ],
      }),
    ).toBe(false);
  });

  it('a lean job listed as done reports every planned device accepted, as its chunk would', () => {
    expect(leanDoneSummary({ users: 1, usersWithoutDevices: 0, devices: 2 })).toEqual({
      users: 1,
      usersWithoutDevices: 0,
      devices: 2,
      outcomes: { accepted: 2 },
      reasons: {},
    });
    expect(leanDoneSummary({ users: 1, usersWithoutDevices: 1, devices: 0 }).outcomes).toEqual({});
  });
});
