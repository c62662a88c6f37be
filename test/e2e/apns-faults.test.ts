import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { call as callOffline, waitFor } from './offline-client';
import { type Offline, startOffline } from './offline-process';

let offline: Offline;
beforeAll(async () => {
  offline = await startOffline();
}, 120_000);
afterAll(async () => {
  await offline?.stop();
});

const call = (method: string, path: string, options?: { bearer?: string; body?: unknown }) =>
  callOffline(offline, method, path, options);

it('a fault script makes the simulator misbehave as asked, and the sender copes as the rules say', async () => {
  const jwt = (await call('POST', '/_local/tokens', { body: { sub: 'carol' } })).body.token;
  const [gone, fine] = [randomBytes(32).toString('hex'), randomBytes(32).toString('hex')];
  for (const token of [gone, fine]) {
    const registered = await call('PUT', `/v1/devices/${token}`, {
      bearer: jwt,
      body: { appId: 'com.example.app', environment: 'sandbox' },
    });
    expect(registered.status).toBe(201);
  }
  const script = {
    connection: { goawayEvery: 1 },
    tokens: { [gone]: { status: 410, reason: 'Unregistered', timestamp: Date.now() + 60_000 } },
  };
  const posted = await call('POST', '/_local/apns/faults', { body: script });
  expect(posted).toEqual({
    status: 200,
    body: { script, done: { goaways: 0, resets: 0, stalls: 0, tokenFaults: 0 } },
  });

  const sent = await call('POST', '/v1/notifications', {
    bearer: offline.adminKey,
    body: { appId: 'com.example.app', to: { userIds: ['carol'] }, aps: { alert: 'Hi' } },
  });
  expect(sent.status).toBe(202);
  const devices = await waitFor('the scripted outcome', async () => {
    const { body } = await call('GET', '/v1/devices', { bearer: jwt });
    return body.devices.length === 1 ? (body.devices as { token: string }[]) : undefined;
  });
  expect(devices.map((device) => device.token)).toEqual([fine]);
  const inbox = await waitFor('the scripted outcome', async () => {
    const { body } = await call('GET', '/_local/apns/inbox');
    const tokens = (body.notifications as { token: string }[]).map((n) => n.token);
    return tokens.includes(fine) ? tokens : undefined;
  });
  expect(inbox.filter((token) => token === fine)).toHaveLength(1);
  const report = await call('GET', '/_local/apns/faults');
  expect(report.body.script).toEqual(script);
  expect(report.body.done.tokenFaults).toBe(1);
  expect(report.body.done.goaways).toBeGreaterThanOrEqual(2);

  const refused = await call('POST', '/_local/apns/faults', { body: { connection: { goawayEvery: 0 } } });
  expect(refused.status).toBe(400);
  expect(refused.body.error.code).toBe('InvalidFaultScript');
  expect((await call('DELETE', '/_local/apns/faults')).status).toBe(204);
  expect((await call('GET', '/_local/apns/faults')).body).toEqual({
    script: {},
    done: { goaways: 0, resets: 0, stalls: 0, tokenFaults: 0 },
  });
});
