import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_ID, call, readInbox, seedOfflineHome, waitFor } from './offline-client';
import { freePort, type Offline, startOffline } from './offline-process';

const USERS = Array.from({ length: 1_500 }, (_, i) => `user-${i}`);
const DEVICES = USERS.length * 2;

/**
 * `npm start` with its data kept, treated roughly: killed with SIGKILL mid-send, and
 * stopped with Ctrl-C while the sender is busy. What was accepted must still be
 * delivered to every device after a restart.
 */
describe('offline mode keeps queued jobPart across a crash and a busy Ctrl-C', () => {
  let home: string;
  let port: number;
  let sqsPort: number;
  let offline: Offline | undefined;

  const start = async () => {
    offline = await startOffline({ home, port, sqsPort, memory: false });
    return offline;
  };
  const running = async () => offline ?? start();
  const report = async (instance: Offline, id: string) =>
    (await call(instance, 'GET', `/v1/notifications/${id}`, { bearer: instance.adminKey })).body;
  const allAccepted = (instance: Offline, id: string) =>
    waitFor(
      `all ${DEVICES} devices of ${id} accepted`,
      async () => {
        const body = await report(instance, id);
        return body.counts?.accepted === DEVICES ? body : undefined;
      },
      120_000,
      // Each report reads every tracked device: polled often, it would slow the sender it watches.
      2_000,
    );
  const notifyEveryone = async (instance: Offline, title: string): Promise<string> => {
    const sent = await call(instance, 'POST', '/v1/notifications', {
      bearer: instance.adminKey,
      body: { appId: APP_ID, to: { userIds: USERS }, aps: { alert: { title } }, track: { receipts: true } },
    });
    expect(sent.status).toBe(202);
    return sent.body.notificationId;
  };
  const inboxTotal = async (instance: Offline): Promise<number> =>
    (await call(instance, 'GET', '/_local/apns/inbox?limit=1')).body.total;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'pushgate-durable-'));
    [port, sqsPort] = [await freePort(), await freePort()];
    await seedOfflineHome(home, USERS, 2);
  }, 120_000);

  afterAll(async () => {
    await offline?.stop('SIGINT');
    await offline?.groupGone();
  }, 120_000);

  it(`kill -9 of the whole npm start mid-send: after a restart every one of ${DEVICES} devices is delivered`, async () => {
    const first = await running();
    const id = await notifyEveryone(first, 'Before the crash');
    const seenBeforeKill = await waitFor(
      'the first deliveries',
      async () => {
        const total = await inboxTotal(first);
        return total > 0 ? total : undefined;
      },
      90_000,
      20,
    );
    await first.stop('SIGKILL');
    await first.groupGone();
    offline = undefined;
    // The kill came mid-send (if this fails, the sender finished before it could be killed).
    expect(seenBeforeKill).toBeLessThan(DEVICES);

    const second = await start();
    expect(second.output()).toMatch(/restored\s+\d+ messages? from the queue journal/);
    const done = await allAccepted(second, id);
    expect(done.counts).toMatchObject({
      devices: DEVICES,
      accepted: DEVICES,
      queued: 0,
      failed: 0,
      pruned: 0,
    });
  }, 300_000);

  it('Ctrl-C while the sender is busy: it stops by itself, in order; the send and a scheduled re-push round resume', async () => {
    const first = await running();
    // A tracked notification whose re-push round is scheduled before the stop and due after it.
    const carol = (await call(first, 'POST', '/_local/tokens', { body: { sub: 'carol' } })).body.token;
    const carolTokens = [randomBytes(32).toString('hex'), randomBytes(32).toString('hex')];
    for (const token of carolTokens) {
      const registered = await call(first, 'PUT', `/v1/devices/${token}`, {
        bearer: carol,
        body: { appId: APP_ID, environment: 'sandbox' },
      });
      expect(registered.status).toBe(201);
    }
    const repushed = await call(first, 'POST', '/v1/notifications', {
      bearer: first.adminKey,
      body: {
        appId: APP_ID,
        to: { userIds: ['carol'] },
        aps: { alert: 'Re-push me' },
        track: { receipts: true, repushAfterSeconds: 8, maxRepushes: 1 },
      },
    });
    expect(repushed.status).toBe(202);
    const repushId: string = repushed.body.notificationId;
    await waitFor('carol’s first delivery', async () => {
      const body = await report(first, repushId);
      return body.counts?.accepted === 2 ? true : undefined;
    });

    const before = await inboxTotal(first);
    const id = await notifyEveryone(first, 'Before Ctrl-C');
    await waitFor(
      'the sender to be busy',
      async () => ((await inboxTotal(first)) > before ? true : undefined),
      90_000,
      20,
    );
    await first.stop('SIGINT');
    // npm itself dies of the signal; pushgate under it must finish stopping on its own.
    await first.groupGone(90_000);
    offline = undefined;
    expect(first.output()).toContain('stopped; data kept in');
    expect(first.output()).not.toContain('did not stop within');

    const second = await start();
    const done = await allAccepted(second, id);
    expect(done.counts).toMatchObject({ devices: DEVICES, accepted: DEVICES, queued: 0, failed: 0 });
    // The round scheduled before the stop runs after it: carol's devices get the notification again.
    const again = await waitFor(
      'the re-push round after the restart',
      async () => {
        const { notifications } = await readInbox(second);
        const repushes = notifications.filter((entry) => entry.payload.pushgate?.id === repushId);
        return repushes.length >= 2 ? repushes : undefined;
      },
      90_000,
      250,
    );
    expect(again.map((entry) => entry.token).sort()).toEqual([...carolTokens].sort());
    const tracked = await report(second, repushId);
    expect(tracked.devices.map((device: { repushes?: number }) => device.repushes)).toEqual([1, 1]);
    // Everything else is intact: the devices, and the notification sent before the crash test.
    const devices = await call(second, 'GET', '/v1/users/user-0/devices', { bearer: second.adminKey });
    expect(devices.body.devices).toHaveLength(2);
  }, 300_000);
});
