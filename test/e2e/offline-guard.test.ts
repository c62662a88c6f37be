import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_ID, call } from './offline-client';
import { freePort, type Offline, startOffline } from './offline-process';

/** A raw request, so `Host` and `Origin` can be anything a browser or a rebinding page would send. */
function raw(
  offline: Offline,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: string }> {
  const url = new URL(offline.base);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: url.hostname, port: url.port, method, path, headers: { host: url.host, ...headers } },
      (response) => {
        let text = '';
        response.on('data', (chunk) => {
          text += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

const code = (answer: { body: string }) =>
  (JSON.parse(answer.body) as { error?: { code?: string } }).error?.code;

describe('the offline routes and the dashboard refuse other web pages', () => {
  let offline: Offline;
  beforeAll(async () => {
    offline = await startOffline();
  }, 120_000);
  afterAll(() => offline?.stop());

  it('a text/plain write (what a cross-site form or no-cors fetch can send) is refused and does nothing', async () => {
    const job = JSON.stringify({ appId: APP_ID, to: { userIds: ['alice'] }, aps: { alert: 'x' } });
    const sent = await raw(offline, 'POST', '/_local/send', { 'content-type': 'text/plain' }, job);
    expect(sent.status).toBe(415);
    expect(code(sent)).toBe('JsonRequired');
    const faults = await raw(
      offline,
      'POST',
      '/_local/apns/faults',
      { 'content-type': 'text/plain;charset=UTF-8' },
      '{"connection":{"resetEvery":1}}',
    );
    expect(faults.status).toBe(415);
    expect((await call(offline, 'GET', '/_local/apns/faults')).body.script).toEqual({});
    expect((await call(offline, 'GET', '/_local/notifications')).body.total).toBe(0);
  });

  it('a foreign Origin, or a browser saying cross-site, is refused — on writes and reads alike', async () => {
    const json = { 'content-type': 'application/json' };
    for (const headers of [
      { origin: 'http://evil.example', ...json },
      { origin: 'null', ...json },
      { origin: `http://127.0.0.1:${Number(new URL(offline.base).port) + 1}`, ...json },
      { 'sec-fetch-site': 'cross-site', ...json },
      { 'sec-fetch-site': 'Cross-Site', ...json },
      { 'sec-fetch-site': 'same-site', ...json },
      { 'sec-fetch-site': 'cross-site, same-origin', ...json },
    ]) {
      const minted = await raw(offline, 'POST', '/_local/tokens', headers, '{"sub":"mallory"}');
      expect(minted.status).toBe(403);
      expect(code(minted)).toBe('ForeignOrigin');
      expect((await raw(offline, 'GET', '/_local/state', headers)).status).toBe(403);
    }
  });

  it('a foreign Host (DNS rebinding) can read neither the state nor the dashboard', async () => {
    const port = new URL(offline.base).port;
    for (const host of [`rebind.example:${port}`, 'localhost', `127.0.0.1:${Number(port) + 1}`]) {
      const state = await raw(offline, 'GET', '/_local/state', { host });
      expect(state.status).toBe(403);
      expect(code(state)).toBe('ForeignHost');
      expect((await raw(offline, 'GET', '/', { host })).status).toBe(403);
    }
  });

  it('a request target in absolute form must name the loopback host too, whatever Host says', async () => {
    const port = new URL(offline.base).port;
    for (const target of [
      `http://rebind.example:${port}/_local/state`,
      `http://127.0.0.1:${Number(port) + 1}/`,
    ]) {
      const answer = await raw(offline, 'GET', target, {});
      expect(answer.status).toBe(403);
      expect(code(answer)).toBe('ForeignHost');
    }
    expect((await raw(offline, 'GET', `http://127.0.0.1:${port}/_local/state`, {})).status).toBe(200);
  });

  it('the loopback origins pass, and API routes still serve clients that send no Origin', async () => {
    const port = new URL(offline.base).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
      const minted = await raw(
        offline,
        'POST',
        '/_local/tokens',
        {
          host,
          origin: `http://${host}`,
          'sec-fetch-site': 'same-origin',
          'content-type': 'application/json',
        },
        '{"sub":"alice"}',
      );
      expect(minted.status).toBe(200);
      expect((await raw(offline, 'GET', '/', { host })).status).toBe(200);
    }
    const sent = await raw(
      offline,
      'POST',
      '/v1/notifications',
      { authorization: `Bearer ${offline.adminKey}`, 'content-type': 'application/json' },
      JSON.stringify({ appId: APP_ID, to: { userIds: ['alice'] }, aps: { alert: 'curl' } }),
    );
    expect(sent.status).toBe(202);
  });
});

describe('the admin key and dev JWTs outlive a restart on another port', () => {
  it('keeps the admin key in the offline home and accepts a JWT minted before', async () => {
    const home = mkdtempSync(join(tmpdir(), 'pushgate-identity-'));
    const first = await startOffline({ home, adminKey: false, memory: false });
    let second: Offline | undefined;
    try {
      const jwt = (await call(first, 'POST', '/_local/tokens', { body: { sub: 'ivy' } })).body.token;
      const token = randomBytes(32).toString('hex');
      const registered = await call(first, 'PUT', `/v1/devices/${token}`, {
        bearer: jwt,
        body: { appId: APP_ID, environment: 'sandbox' },
      });
      expect(registered.status).toBe(201);
      await first.stop();
      second = await startOffline({ home, adminKey: false, memory: false, port: await freePort() });
      expect(second.adminKey).toBe(first.adminKey);
      expect(second.output()).toContain(join(home, 'admin-key'));
      const listed = await call(second, 'GET', '/v1/devices', { bearer: jwt });
      expect(listed.status).toBe(200);
      expect(listed.body.devices.map((d: { token: string }) => d.token)).toEqual([token]);
      const backend = await call(second, 'GET', '/v1/users/ivy/devices', { bearer: second.adminKey });
      expect(backend.status).toBe(200);
    } finally {
      // stop() signals a group still running: the first may have stopped above.
      if (first.process.exitCode === null && first.process.signalCode === null) await first.stop();
      await second?.stop();
    }
  }, 240_000);
});
