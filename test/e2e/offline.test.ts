import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type Offline, startOffline } from './offline-process';

const token = () => randomBytes(32).toString('hex');

async function call(
  offline: Offline,
  method: string,
  path: string,
  options: { bearer?: string; body?: unknown } = {},
) {
  const response = await fetch(`${offline.base}${path}`, {
    method,
    headers: {
      ...(options.bearer ? { authorization: `Bearer ${options.bearer}` } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** Sends `head` as raw bytes (no client normalises it) and returns the status code of the answer. */
async function rawStatus(offline: Offline, head: string): Promise<number> {
  const { hostname, port } = new URL(offline.base);
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(Buffer.from(head, 'latin1')));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
  });
  const status = /^HTTP\/1\.1 (\d{3}) /.exec(answer)?.[1];
  if (status === undefined) throw new Error(`no HTTP answer: ${JSON.stringify(answer.slice(0, 200))}`);
  return Number(status);
}

async function jwtFor(offline: Offline, sub: string): Promise<string> {
  return (await call(offline, 'POST', '/_local/tokens', { body: { sub } })).body.token;
}

async function inboxTokens(offline: Offline, expected: number): Promise<string[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { body } = await call(offline, 'GET', '/_local/apns/inbox');
    const tokens = (body.notifications as { token: string }[]).map((n) => n.token);
    if (tokens.length >= expected || Date.now() > deadline) return tokens;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('npm start, walked through as docs/offline.md says', () => {
  let offline: Offline;
  beforeAll(async () => {
    offline = await startOffline();
  }, 120_000);
  afterAll(async () => {
    await offline?.stop();
  });

  it('registers devices, sends to alice, and the simulator receives exactly her two devices', async () => {
    const alice = await jwtFor(offline, 'alice');
    const bob = await jwtFor(offline, 'bob');
    const [a1, a2, b1] = [token(), token(), token()];
    const registration = { appId: 'com.example.app', environment: 'sandbox' };
    for (const [jwt, t] of [
      [alice, a1],
      [alice, a2],
      [bob, b1],
    ] as const) {
      expect(
        (await call(offline, 'PUT', `/v1/devices/${t}`, { bearer: jwt, body: registration })).status,
      ).toBe(201);
    }
    const sent = await call(offline, 'POST', '/v1/notifications', {
      bearer: offline.adminKey,
      body: {
        appId: 'com.example.app',
        to: { userIds: ['alice'] },
        aps: { alert: { title: 'Hi', body: 'Shipped' } },
      },
    });
    expect(sent.status).toBe(202);
    const received = await inboxTokens(offline, 2);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await inboxTokens(offline, 2)).sort()).toEqual([a1, a2].sort());
    expect(received).not.toContain(b1);

    expect((await call(offline, 'DELETE', `/v1/devices/${a1}`, { bearer: bob })).status).toBe(404);
    expect((await call(offline, 'GET', '/v1/devices', { bearer: alice })).body.devices).toHaveLength(2);
  });

  it('an Android device with a 4 096-character FCM token registers, is pushed to and signs out over HTTP', async () => {
    const dana = await jwtFor(offline, 'dana-long-token');
    const pixel =
      `${randomBytes(8).toString('base64url')}:APA91b${randomBytes(4096).toString('base64url')}`.slice(
        0,
        4096,
      );
    const registration = { appId: 'com.example.app', platform: 'android' };
    const tooLong = await call(offline, 'PUT', `/v1/devices/${pixel}x`, { bearer: dana, body: registration });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.code).toBe('InvalidDeviceToken');
    expect(
      (await call(offline, 'PUT', `/v1/devices/${pixel}`, { bearer: dana, body: registration })).status,
    ).toBe(201);
    expect((await call(offline, 'GET', '/v1/devices', { bearer: dana })).body.devices).toEqual([
      expect.objectContaining({ token: pixel, platform: 'android' }),
    ]);
    const sent = await call(offline, 'POST', '/v1/notifications', {
      bearer: offline.adminKey,
      body: { appId: 'com.example.app', to: { userIds: ['dana-long-token'] }, aps: { alert: 'Hi' } },
    });
    expect(sent.status).toBe(202);
    const deadline = Date.now() + 20_000;
    let tokens: string[] = [];
    while (!tokens.includes(pixel) && Date.now() < deadline) {
      const { body } = await call(offline, 'GET', '/_local/fcm/inbox');
      tokens = (body.notifications as { token: string }[]).map((entry) => entry.token);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(tokens.filter((token) => token === pixel)).toHaveLength(1);
    expect((await call(offline, 'DELETE', `/v1/devices/${pixel}`, { bearer: dana })).status).toBe(204);
    expect((await call(offline, 'DELETE', `/v1/devices/${pixel}`, { bearer: dana })).status).toBe(404);
  });

  it('answers bad requests with a clear 4xx', async () => {
    const alice = await jwtFor(offline, 'alice');
    const bad = await call(offline, 'PUT', '/v1/devices/not-a-token', {
      bearer: alice,
      body: { appId: 'com.example.app' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('InvalidDeviceToken');
    expect((await call(offline, 'GET', '/v1/devices')).status).toBe(401);
    expect((await call(offline, 'GET', '/v1/users/alice/devices', { bearer: 'wrong' })).status).toBe(403);
    expect((await call(offline, 'GET', '/v2/nothing')).status).toBe(404);
  });

  it('answers a malformed request target or SigV4 header with a 4xx, never a 500', async () => {
    for (const target of ['//[', 'http://[::1']) {
      expect(
        await rawStatus(offline, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`),
      ).toBe(400);
    }
    const amzDate = new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}Z$/, 'Z');
    const signed = (signedHeaders: string, signature: string) =>
      [
        'POST /v1/notifications HTTP/1.1',
        'Host: 127.0.0.1',
        `X-Amz-Date: ${amzDate}`,
        `Authorization: AWS4-HMAC-SHA256 Credential=local/${amzDate.slice(0, 8)}/us-east-1/execute-api/aws4_request, SignedHeaders=${signedHeaders}, Signature=${signature}`,
        'Content-Type: application/json',
        'Content-Length: 2',
        'Connection: close',
        '',
        '{}',
      ].join('\r\n');
    const hex = '0'.repeat(64);
    expect(await rawStatus(offline, signed('host;x-amz-date;constructor', hex))).toBe(403);
    expect(await rawStatus(offline, signed('host;x-amz-date;__proto__', hex))).toBe(403);
    // 64 characters, one of them not ASCII (0xe9): more bytes than the expected signature.
    expect(await rawStatus(offline, signed('host;x-amz-date', `${'0'.repeat(63)}\u00e9`))).toBe(403);
  });

  it('refuses bytes that are not UTF-8 (400 InvalidEncoding), a key twice and an unknown query parameter; delivers nothing of them', async () => {
    const carol = await jwtFor(offline, 'carol');
    const device = token();
    const registration = { appId: 'com.example.app', environment: 'sandbox' };
    expect(
      (await call(offline, 'PUT', `/v1/devices/${device}`, { bearer: carol, body: registration })).status,
    ).toBe(201);
    const post = async (body: Uint8Array | string) => {
      const response = await fetch(`${offline.base}/v1/notifications`, {
        method: 'POST',
        headers: { authorization: `Bearer ${offline.adminKey}`, 'content-type': 'application/json' },
        body,
      });
      return { status: response.status, body: (await response.json()) as { error: { code: string } } };
    };
    const withAlert = (alert: Buffer) =>
      Buffer.concat([
        Buffer.from('{"appId":"com.example.app","to":{"userIds":["carol"]},"aps":{"alert":"a'),
        alert,
        Buffer.from('b"}}'),
      ]);

    const notUtf8 = await post(withAlert(Buffer.from([0xff, 0xfe, 0xc3])));
    expect([notUtf8.status, notUtf8.body.error.code]).toEqual([400, 'InvalidEncoding']);
    const twice = await post(
      `{"appId":"com.example.app","to":{"tokens":["${token()}"]},"to":{"userIds":["carol"]},"aps":{"alert":"x"}}`,
    );
    expect([twice.status, twice.body.error.code]).toEqual([400, 'DuplicateKey']);
    const listing = await call(offline, 'GET', '/v1/devices?userId=bob', { bearer: carol });
    expect([listing.status, listing.body.error.code]).toEqual([400, 'UnknownQueryParameter']);

    // The same bytes path with UTF-8 in it is delivered as sent: only the refusals sent nothing.
    const utf8 = await post(withAlert(Buffer.from('ü 😀', 'utf8')));
    expect(utf8.status).toBe(202);
    const alertsFor = async (to: string) => {
      const { body } = await call(offline, 'GET', '/_local/apns/inbox');
      return (body.notifications as { token: string; payload: { aps: { alert: string } } }[])
        .filter((entry) => entry.token === to)
        .map((entry) => entry.payload.aps.alert);
    };
    const deadline = Date.now() + 60_000;
    while ((await alertsFor(device)).length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const alerts = await alertsFor(device);
    expect(alerts).toEqual(['aü 😀b']);
  });

  it('a second instance on the same port says the port is busy, without a stack trace', async () => {
    const port = new URL(offline.base).port;
    const second = spawn('npm', ['start', '--', '--memory'], {
      // Its SQS port is free, so the API port is what it finds busy.
      env: { ...process.env, PORT: port, PUSHGATE_SQS_PORT: String(await freePort()) },
      stdio: 'pipe',
    });
    let output = '';
    second.stdout.on('data', (chunk) => {
      output += chunk;
    });
    second.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const code = await new Promise((resolve) => second.once('exit', resolve));
    expect(code).toBe(1);
    expect(output).toContain(`Port ${port} is already in use`);
    expect(output).not.toMatch(/\n\s+at /);
  });
});

describe('Ctrl-C', () => {
  it('stops cleanly and the devices are still there after a restart', async () => {
    const first = await startOffline({ memory: false });
    const alice = await jwtFor(first, 'alice');
    const t = token();
    await call(first, 'PUT', `/v1/devices/${t}`, {
      bearer: alice,
      body: { appId: 'com.example.app', environment: 'sandbox' },
    });
    await first.stop('SIGINT');
    // npm itself dies of the signal, as in a terminal; pushgate underneath shuts down in order.
    expect(first.output()).toContain('stopped; data kept in');

    const second = await startOffline({
      memory: false,
      home: first.home,
      port: Number(new URL(first.base).port),
    });
    try {
      const devices = (await call(second, 'GET', '/v1/devices', { bearer: alice })).body.devices;
      expect(devices.map((d: { token: string }) => d.token)).toEqual([t]);
    } finally {
      await second.stop();
    }
  }, 120_000);
});
