import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { TOKENS_PER_PART, USERS_PER_PART } from '../../lambda/domain/job-part';
import { logger } from '../../lambda/observability';
import { api, newUser } from '../support/api';
import { TEST_APP_ID } from '../support/embedded-services';
import { alertJob, registerDevices, SenderHarness } from '../support/sender-harness';

const harness = new SenderHarness();
beforeAll(() => harness.start(), 30_000);
afterAll(() => harness.stop());
beforeEach(() => harness.purge());

const status = async (id: string) => {
  const answer = await api('GET', `/v1/notifications/${id}`, { backend: true });
  expect(answer.status).toBe(200);
  return answer.body;
};

async function send(job: Record<string, unknown>) {
  const answer = await api('POST', '/v1/notifications', { backend: true, body: job });
  expect(answer.status).toBe(202);
  await harness.source.idle();
  return answer.body;
}

describe('every accepted notification has a status, tracked or not', () => {
  it('a send to a user with no device says so: 0 devices, the user counted, a reason — tracked or not', async () => {
    for (const track of [undefined, { receipts: true }]) {
      const nobody = newUser('nobody');
      const id = `no-device-${track === undefined ? 'untracked' : 'tracked'}`;
      const answer = await send(
        alertJob({ userIds: [nobody] }, { notificationId: id, ...(track ? { track } : {}) }),
      );
      expect(answer).toEqual({
        notificationId: id,
        recipients: { users: 1 },
        parts: 1,
        jobs: 1,
        tracked: track !== undefined,
      });
      const report = await status(id);
      expect(report).toMatchObject({
        notificationId: id,
        tracked: track !== undefined,
        recipients: { users: 1, usersWithoutDevices: 1 },
        parts: 1,
        jobs: 1,
        counts: { devices: 0, accepted: 0, queued: 0, failed: 0, pruned: 0 },
        progress: { parts: 1, partsDone: 1, complete: true },
      });
      expect(report.reason).toBe(
        `The user this notification names has no device registered for app ${TEST_APP_ID}.`,
      );
    }
  });

  it('a user or token named twice across a part boundary is pushed once and counted once', async () => {
    const twice = newUser('twice');
    const [device] = (await registerDevices(twice, 1)) as [string];
    const fillers = Array.from({ length: USERS_PER_PART - 1 }, (_, i) => `filler-${i}`);
    await send(alertJob({ userIds: [twice, ...fillers, twice] }, { notificationId: 'named-twice-users' }));
    expect(harness.inboxTokens()).toEqual([device]);
    expect(await status('named-twice-users')).toMatchObject({
      recipients: { users: USERS_PER_PART, usersWithoutDevices: USERS_PER_PART - 1 },
      counts: { devices: 1, accepted: 1 },
    });

    harness.simulator.clearInbox();
    const tokens = Array.from({ length: TOKENS_PER_PART - 1 }, (_, i) => i.toString(16).padStart(64, '0'));
    await send(
      alertJob(
        { tokens: [device, ...tokens, device.toUpperCase()] },
        { notificationId: 'named-twice-tokens' },
      ),
    );
    expect(harness.inboxTokens().filter((token) => token === device)).toEqual([device]);
  });

  it('an untracked send counts its devices by outcome and reason, without per-device records', async () => {
    const [alice, bob, carol] = [newUser('alice'), newUser('bob'), newUser('carol')];
    const [gone] = (await registerDevices(alice, 2)) as [string];
    await registerDevices(bob, 1);
    harness.simulator.failToken(gone, { status: 410, reason: 'Unregistered', timestamp: Date.now() + 1000 });
    const logged = vi.spyOn(logger, 'info');
    await send(alertJob({ userIds: [alice, bob, carol] }, { notificationId: 'untracked-counts' }));
    const lines = logged.mock.calls.filter(([message]) => message === 'delivered');
    logged.mockRestore();
    const report = await status('untracked-counts');
    expect(report).toMatchObject({
      tracked: false,
      recipients: { users: 3, usersWithoutDevices: 1 },
      counts: { devices: 3, accepted: 2, pruned: 1, failed: 0, queued: 0, received: 0, opened: 0 },
      reasons: { 'pruned:Unregistered': 1 },
      devices: [],
    });
    expect(report.reason).toBeUndefined();
    // One INFO line for the job part: who it named, what each device came to and why.
    expect(lines).toHaveLength(1);
    expect(lines[0]?.[1]).toMatchObject({
      notificationId: 'untracked-counts',
      part: '0',
      users: 3,
      usersWithoutDevices: 1,
      devices: 3,
      accepted: 2,
      pruned: 1,
      reasons: { 'pruned:Unregistered': 1 },
    });
  });

  it('a device whose every push is refused gives a reason naming the refusal', async () => {
    const dora = newUser('dora');
    const [token] = (await registerDevices(dora, 1)) as [string];
    harness.simulator.failToken(token, { status: 410, reason: 'Unregistered', timestamp: Date.now() + 1000 });
    await send(alertJob({ userIds: [dora] }, { notificationId: 'all-pruned' }));
    const report = await status('all-pruned');
    expect(report.counts).toMatchObject({ devices: 1, pruned: 1, accepted: 0 });
    expect(report.reason).toBe('No device accepted it: 1 pruned (Unregistered).');
  });

  it('a dead-lettered job shows its reason on the notification, also one published to the queue', async () => {
    const erin = newUser('erin');
    const [token] = (await registerDevices(erin, 1)) as [string];
    harness.simulator.failToken(token, { status: 400, reason: 'TopicDisallowed' });
    await send(alertJob({ userIds: [erin] }, { notificationId: 'dead-lettered' }));
    const report = await status('dead-lettered');
    expect(report.deadLettered).toEqual([
      expect.objectContaining({ part: '0', attempt: 0, reason: 'TopicDisallowed' }),
    ]);
    expect(report.reason).toMatch(/^The job was moved to the dead-letter queue \(TopicDisallowed: .+\)/);
    expect(report.progress).toMatchObject({ partsDone: 0, complete: false });

    // Unknown app: dead-lettered before its id is taken; the status still says why.
    await harness.deliver({
      ...alertJob({ userIds: [erin] }),
      appId: 'com.example.unknown',
      notificationId: 'dl-app',
    });
    const published = await status('dl-app');
    expect(published.deadLettered).toEqual([expect.objectContaining({ reason: 'UnknownApp' })]);
    expect(published.reason).toContain('UnknownApp');
  });

  it('an untracked receipt is refused with a message that says receipts need track.receipts', async () => {
    const fay = newUser('fay');
    const [token] = (await registerDevices(fay, 1)) as [string];
    await send(alertJob({ userIds: [fay] }, { notificationId: 'untracked-receipt' }));
    const answer = await api('POST', '/v1/notifications/untracked-receipt/receipts', {
      as: fay,
      body: { token, event: 'received' },
    });
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('ReceiptNotFound');
    expect(answer.body.error.message).toContain('"track": {"receipts": true}');
  });
});
