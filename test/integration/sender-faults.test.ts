import { createPrivateKey } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { closeApnsConnections } from '../../lambda/adapters/secondary/apns/apns-gateway';
import { mintProviderToken, providerKeyName } from '../../lambda/adapters/secondary/apns/provider-token';
import { providerTokenTable } from '../../lambda/adapters/secondary/provider-token-table';
import { MAX_DEVICES_PER_USER } from '../../lambda/domain/devices-to-push';
import { ENVIRONMENT } from '../../lambda/environment';
import { logger } from '../../lambda/observability';
import { api, newUser } from '../support/api';
import { TEST_APP_ID } from '../support/embedded-services';
import { seedDevices as seedDevicesFor } from '../support/seed';
import {
  alertJob,
  deviceRecord,
  registerDevices,
  SenderHarness,
  senderMetrics,
  sendQueueUrl,
  sqs,
} from '../support/sender-harness';

const harness = new SenderHarness();
beforeAll(() => harness.start(), 30_000);
afterAll(() => harness.stop());
beforeEach(() => harness.purge());

async function oneDevice(environment: 'sandbox' | 'production' = 'production') {
  const user = newUser();
  const [token] = await registerDevices(user, 1, environment);
  return { user, token: token as string };
}

describe('invalid tokens', () => {
  it('410 Unregistered after the last registration prunes the token', async () => {
    const { user, token } = await oneDevice();
    harness.simulator.failToken(token, { status: 410, reason: 'Unregistered', timestamp: Date.now() + 1000 });
    await harness.deliver(alertJob({ userIds: [user] }));
    expect(await deviceRecord(token)).toBeUndefined();
    expect(harness.simulator.inbox).toEqual([]);
    expect(await harness.deadLetters()).toEqual([]);
  });

  it('410 with a timestamp before the token was registered again keeps the token', async () => {
    const { user, token } = await oneDevice();
    const lastSeen = Date.parse((await deviceRecord(token))?.lastSeenAt);
    harness.simulator.failToken(token, { status: 410, reason: 'ExpiredToken', timestamp: lastSeen - 60_000 });
    await harness.deliver(alertJob({ userIds: [user] }));
    expect(await deviceRecord(token)).toBeDefined();
  });

  it('400 BadDeviceToken in both environments prunes the token', async () => {
    const { user, token } = await oneDevice();
    harness.simulator.failToken(token, { status: 400, reason: 'BadDeviceToken' }, 2);
    await harness.deliver(alertJob({ userIds: [user] }));
    expect(await deviceRecord(token)).toBeUndefined();
  });

  it('a token registered with the wrong environment is delivered in the other one and corrected', async () => {
    const { user, token } = await oneDevice('production');
    harness.simulator.tokenOnlyIn(token, 'sandbox');
    await harness.deliver(alertJob({ userIds: [user] }));
    expect(harness.simulator.inbox.map((entry) => [entry.token, entry.environment])).toEqual([
      [token, 'sandbox'],
    ]);
    expect((await deviceRecord(token))?.environment).toBe('sandbox');
  });

  it('400 DeviceTokenNotForTopic prunes the token', async () => {
    const { user, token } = await oneDevice();
    harness.simulator.failToken(token, { status: 400, reason: 'DeviceTokenNotForTopic' });
    await harness.deliver(alertJob({ userIds: [user] }));
    expect(await deviceRecord(token)).toBeUndefined();
  });
});

describe('retryable failures', () => {
  it.each([
    ['429 TooManyRequests with retry-after', { status: 429, reason: 'TooManyRequests', retryAfter: 1 }],
    ['500 InternalServerError', { status: 500, reason: 'InternalServerError' }],
    ['503 ServiceUnavailable', { status: 503, reason: 'ServiceUnavailable' }],
    ['a connection reset', { kind: 'reset' as const }],
    ['a stalled response (timeout)', { kind: 'stall' as const }],
  ])('%s: retried, then accepted exactly once, token kept', async (_name, fault) => {
    const { user, token } = await oneDevice();
    harness.simulator.failToken(token, fault, 2);
    const deliver = () => harness.deliver(alertJob({ userIds: [user] }));
    // A stalled response waits out the request timeout: a short one for this case alone.
    await ('kind' in fault && fault.kind === 'stall'
      ? harness.withRequestTimeout(5_000, deliver)
      : deliver());
    expect(harness.inboxTokens()).toEqual([token]);
    expect(await deviceRecord(token)).toBeDefined();
    expect(await harness.deadLetters()).toEqual([]);
  });

  it('only the failing devices are retried; the others are not sent twice', async () => {
    const user = newUser();
    const tokens = await registerDevices(user, 4);
    harness.simulator.failToken(tokens[0] as string, { status: 503, reason: 'ServiceUnavailable' }, 2);
    await harness.deliver(alertJob({ userIds: [user] }));
    expect(harness.inboxTokens().sort()).toEqual([...tokens].sort());
  });

  it('403 ExpiredProviderToken: a new JWT, minted once for the fleet, and the request again', async () => {
    const { user, token } = await oneDevice();
    // The fleet's stored token is 45 minutes old by our clock (still fresh for the sender), but
    // APNs's clock runs 16 minutes ahead: to it the token is 61 minutes old, so it is refused.
    await closeApnsConnections();
    const key = harness.providerKey();
    const privateKey = createPrivateKey(key.key);
    const keyName = providerKeyName(key, privateKey);
    const stale = mintProviderToken(key, privateKey, Math.floor(Date.now() / 1000) - 45 * 60);
    const stored = await providerTokenTable.read(keyName);
    expect(await providerTokenTable.replace(keyName, stale, stored)).toBe(true);
    harness.simulator.clock = () => Date.now() + 16 * 60_000;
    let counted: Record<string, number>;
    try {
      counted = await senderMetrics(() => harness.deliver(alertJob({ userIds: [user] })));
    } finally {
      harness.simulator.clock = Date.now;
    }
    expect(harness.inboxTokens()).toEqual([token]);
    // Sent again at once with the new token: not a retry, nothing re-queued.
    expect(counted).toEqual({ NotificationsAccepted: 1 });
    expect(await harness.deadLetters()).toEqual([]);
    const renewed = await providerTokenTable.read(keyName);
    expect(renewed?.jwt).not.toBe(stale.jwt);
    expect(renewed?.issuedAt).toBeGreaterThan(stale.issuedAt + 40 * 60);
    // APNs saw exactly one new token: the renewed one.
    expect(harness.simulator.providerTokens.map((seen) => seen.issuedAt)).toEqual([renewed?.issuedAt]);
  });

  it('GOAWAY after a few streams: the session is replaced and every device is reached once', async () => {
    const user = newUser();
    const tokens = await registerDevices(user, 12);
    harness.simulator.goawayAfterStreams(5);
    const sessionsBefore = harness.simulator.stats.sessions;
    await harness.deliver(alertJob({ userIds: [user] }));
    harness.simulator.goawayAfterStreams(undefined);
    expect(harness.inboxTokens().sort()).toEqual([...tokens].sort());
    expect(harness.simulator.stats.sessions - sessionsBefore).toBeGreaterThanOrEqual(2);
  });

  it('a device failing on every attempt ends in the DLQ with its reason, after the last attempt', async () => {
    const { user, token } = await oneDevice();
    harness.simulator.failToken(token, { status: 500, reason: 'InternalServerError' }, 50);
    await harness.deliver(alertJob({ userIds: [user] }, { notificationId: 'always-500' }));
    const dead = await harness.deadLetters();
    expect(dead).toHaveLength(1);
    expect(dead[0]?.reason).toBe('RetriesExhausted');
    expect(dead[0]?.detail).toContain('InternalServerError');
    expect(dead[0]?.body.devices.map((d: { token: string }) => d.token)).toEqual([token]);
    expect(dead[0]?.body.job.notificationId).toBe('always-500');
    expect(await deviceRecord(token)).toBeDefined();
  });

  it('a device dead-lettered after its last attempt is sent when its part is redriven as it is', async () => {
    const { user, token } = await oneDevice();
    harness.simulator.failToken(token, { status: 500, reason: 'InternalServerError' }, 50);
    await harness.deliver(alertJob({ userIds: [user] }, { notificationId: 'redriven-500' }));
    const [dead] = await harness.deadLetters();
    expect(dead?.reason).toBe('RetriesExhausted');
    harness.simulator.reset();
    // What `npm run redrive` does: the same body back on the send queue. The part carries
    // devices under a held id, so it is delivered only as one the sender wrote.
    await harness.deliver(dead?.body);
    expect(await harness.deadLetters()).toEqual([]);
    expect(harness.inboxTokens()).toEqual([token]);
  });
});

describe('jobs that cannot succeed go to the DLQ with the reason', () => {
  it('403 InvalidProviderToken fails the job loudly and prunes nothing', async () => {
    const { user, token } = await oneDevice();
    harness.simulator.failNext({ status: 403, reason: 'InvalidProviderToken' }, 1);
    await harness.deliver(alertJob({ userIds: [user] }));
    const dead = await harness.deadLetters();
    expect(dead.map((d) => d.reason)).toEqual(['InvalidProviderToken']);
    expect(await deviceRecord(token)).toBeDefined();
  });

  it('a request APNs calls malformed (BadCollapseId) goes to the DLQ', async () => {
    const { user } = await oneDevice();
    harness.simulator.failNext({ status: 400, reason: 'BadCollapseId' }, 1);
    await harness.deliver(alertJob({ userIds: [user] }));
    expect((await harness.deadLetters()).map((d) => d.reason)).toEqual(['BadCollapseId']);
  });

  it('an oversize payload is refused before anything is sent', async () => {
    const { user } = await oneDevice();
    await harness.deliver(alertJob({ userIds: [user] }, { data: { blob: 'x'.repeat(5000) } }));
    expect(harness.simulator.stats.requests).toBe(0);
    const [dead] = await harness.deadLetters();
    expect(dead?.reason).toBe('PayloadTooLarge');
    expect(dead?.detail).toMatch(/4096/);
  });

  it('credentials that cannot be loaded fail the job with CredentialsUnavailable', async () => {
    const apps = process.env[ENVIRONMENT.apps] ?? '[]';
    const broken = {
      appId: 'com.example.broken',
      bundleId: 'com.example.broken',
      credentials: 'file:/nonexistent/apns.json',
    };
    process.env[ENVIRONMENT.apps] = JSON.stringify([...JSON.parse(apps), broken]);
    try {
      const user = newUser();
      const token = '5e'.repeat(32);
      const registered = await api('PUT', `/v1/devices/${token}`, {
        as: user,
        body: { appId: broken.appId, environment: 'production' },
      });
      expect(registered.status).toBe(201);
      await harness.deliver({ ...alertJob({ userIds: [user] }), appId: broken.appId });
      const [dead] = await harness.deadLetters();
      expect(dead?.reason).toBe('CredentialsUnavailable');
      expect(dead?.detail).toContain(broken.appId);
      expect(await deviceRecord(token)).toBeDefined();
    } finally {
      process.env[ENVIRONMENT.apps] = apps;
    }
  });

  it('an unknown app, bad JSON and an invalid job each land there with a reason', async () => {
    await harness.publish({ ...alertJob({ userIds: ['x'] }), appId: 'com.unknown.app' });
    await harness.source.idle();
    await harness.deliver('this is not a job');
    await harness.deliver({ appId: TEST_APP_ID, to: { userIds: [] }, aps: {} });
    const reasons = (await harness.deadLetters()).map((d) => d.reason).sort();
    expect(reasons).toEqual(['InvalidJob', 'InvalidJob', 'UnknownApp']);
    expect(harness.simulator.stats.requests).toBe(0);
  });

  it('a job part put on the queue with malformed fields goes there with its reason, not retried blind', async () => {
    const job = { ...alertJob({ userIds: ['x'] }), notificationId: 'forged-part' };
    const forged = [
      { devices: 'x' },
      { devices: [{ token: 5 }, null] },
      { part: { a: 1 } },
      { part: '0#1' },
      { attempt: 'x' },
      { attempt: 99 },
      { repush: { round: 1, dueAt: 'soon' } },
      { smuggled: true },
    ];
    for (const fields of forged)
      await harness.deliver({ pushgate: 'work/v1', job, part: '0', attempt: 0, ...fields });
    const letters = await harness.deadLetters();
    expect(letters.map((d) => d.reason)).toEqual(forged.map(() => 'InvalidJob'));
    expect(harness.simulator.stats.requests).toBe(0);
  });

  it('a published job with a key twice, or a lone surrogate, lands there as InvalidJob saying which', async () => {
    const user = newUser();
    await registerDevices(user, 1);
    const bodies = [
      `{"appId":"${TEST_APP_ID}","to":{"tokens":["${'ab'.repeat(32)}"]},"to":{"userIds":["${user}"]},"aps":{"alert":"Hi"}}`,
      `{"appId":"${TEST_APP_ID}","to":{"userIds":["${user}"]},"aps":{"alert":"Hi","\\u0061lert":"Ho"}}`,
      `{"appId":"${TEST_APP_ID}","to":{"userIds":["${user}"]},"aps":{"alert":"a\\ud800b"}}`,
    ];
    for (const MessageBody of bodies) {
      await sqs.send(new SendMessageCommand({ QueueUrl: sendQueueUrl(), MessageBody }));
    }
    await harness.source.idle();
    const dead = (await harness.deadLetters()).map((d) => [d.reason, d.detail]);
    expect(dead).toHaveLength(3);
    expect(dead).toEqual(
      expect.arrayContaining([
        ['InvalidJob', 'The message body names the key "to" twice; each key may appear once per object.'],
        [
          'InvalidJob',
          'The message body names the key "alert" in "aps" twice; each key may appear once per object.',
        ],
        ['InvalidJob', expect.stringMatching(/^"aps\.alert" holds a lone surrogate/)],
      ]),
    );
    expect(harness.simulator.stats.requests).toBe(0);
  });
});

describe('a well-formed job part someone else put on the queue', () => {
  it('reaches no device its job does not address, and a re-push round due beyond the job’s delay is dead-lettered', async () => {
    const alice = newUser('alice');
    const bob = newUser('bob');
    const [aliceDevice] = (await registerDevices(alice, 1)) as [string];
    const [bobDevice] = (await registerDevices(bob, 1)) as [string];
    const job = { ...alertJob({ userIds: [alice] }), notificationId: 'carried-stranger' };
    const carried = (token: string, userId: string) => ({
      token,
      userId,
      appId: TEST_APP_ID,
      environment: 'production',
    });
    const metrics = await senderMetrics(() =>
      harness.deliver({
        pushgate: 'work/v1',
        job,
        part: '0/0',
        attempt: 1,
        devices: [carried(bobDevice, bob), carried(aliceDevice, alice)],
      }),
    );
    expect(harness.inboxTokens()).toEqual([aliceDevice]);
    expect(metrics.TokensNotRegistered).toBe(1);

    await harness.deliver({
      pushgate: 'work/v1',
      job: { ...job, track: { receipts: true, repushAfterSeconds: 60 } },
      part: '0/0r1',
      attempt: 0,
      devices: [carried(aliceDevice, alice)],
      repush: { round: 1, dueAt: 1e15 },
    });
    const [letter] = await harness.deadLetters();
    expect(letter?.reason).toBe('InvalidJob');
    expect(harness.inboxTokens()).toEqual([aliceDevice]);
  });
});

describe('a notification id reused on the queue', () => {
  it('for another job is NotificationIdConflict on the DLQ and reaches nobody; the same job twice reaches each device once', async () => {
    const alice = newUser('alice');
    const bob = newUser('bob');
    const [aliceDevice] = await registerDevices(alice, 1);
    await registerDevices(bob, 1);
    const sent = await api('POST', '/v1/notifications', {
      backend: true,
      body: alertJob({ userIds: [alice] }, { notificationId: 'reused-id' }),
    });
    expect(sent.status).toBe(202);
    await harness.source.idle();
    expect(harness.inboxTokens()).toEqual([aliceDevice]);

    // Published straight to SQS under the same id: other recipients, untracked and tracked.
    await harness.deliver(alertJob({ userIds: [bob] }, { notificationId: 'reused-id' }));
    await harness.deliver(
      alertJob({ userIds: [bob] }, { notificationId: 'reused-id', track: { receipts: true } }),
    );
    expect(harness.inboxTokens()).toEqual([aliceDevice]);
    const letters = await harness.deadLetters();
    expect(letters.map((d) => d.reason)).toEqual(['NotificationIdConflict', 'NotificationIdConflict']);

    // The same published job twice (a backend retrying its publish): sent once.
    harness.simulator.reset();
    const job = alertJob({ userIds: [bob] }, { notificationId: 'published-twice' });
    await harness.deliver(job);
    await harness.deliver(job);
    expect(harness.inboxTokens()).toHaveLength(1);
  });
});

describe('bounds a hostile or odd user id cannot break', () => {
  it('a user with hundreds of devices gets a notification on the 32 seen last; 100 such users failing once are retried in parts and reached once each', async () => {
    const [heavy] = await seedDevicesFor(['heavy-user'], 300);
    expect(heavy).toBeDefined();
    const one = await senderMetrics(() => harness.deliver(alertJob({ userIds: ['heavy-user'] })));
    expect(harness.inboxTokens()).toHaveLength(MAX_DEVICES_PER_USER);
    expect(one.TokensNotRegistered).toBe(300 - MAX_DEVICES_PER_USER);

    harness.simulator.reset();
    // User ids of 250 characters: 3 200 of these devices in one message would pass SQS's 1 MiB.
    const users = Array.from({ length: 100 }, (_, i) => `crowded-${i}-`.padEnd(250, 'x'));
    const devices = await seedDevicesFor(users, MAX_DEVICES_PER_USER);
    for (const device of devices)
      harness.simulator.failToken(device.token, { status: 503, reason: 'ServiceUnavailable' }, 1);
    const many = await senderMetrics(() =>
      harness.deliver(alertJob({ userIds: users }, { notificationId: 'crowded' }), 240_000),
    );
    // 3 200 devices of one chunk failed once: retried as 7 parts of at most 500, each reached once.
    expect(many.DeliveriesRetried).toBe(devices.length);
    expect(harness.simulator.inbox).toHaveLength(devices.length);
    expect(new Set(harness.inboxTokens()).size).toBe(devices.length);
    expect(await harness.deadLetters()).toEqual([]);
  }, 300_000);
});

describe('accounting', () => {
  it('every device of a mixed job ends accepted, pruned, kept or dead-lettered — none unaccounted', async () => {
    const user = newUser();
    const tokens = await registerDevices(user, 10);
    const [gone, expired, flaky, broken] = tokens as [string, string, string, string];
    harness.simulator.failToken(gone, { status: 410, reason: 'Unregistered', timestamp: Date.now() + 1000 });
    harness.simulator.failToken(expired, { status: 400, reason: 'BadDeviceToken' }, 2);
    harness.simulator.failToken(flaky, { status: 429, reason: 'TooManyRequests' }, 1);
    harness.simulator.failToken(broken, { status: 503, reason: 'ServiceUnavailable' }, 50);
    const logged = vi.spyOn(logger, 'info');
    await harness.deliver(alertJob({ userIds: [user] }));
    // The sender's own counts (what its metrics publish), summed over every invocation of the job.
    const counts = logged.mock.calls
      .filter(([message]) => message === 'delivered')
      .map(([, extra]) => extra as unknown as Record<string, number>)
      .reduce<Record<string, number>>((sum, c) => {
        for (const key of ['accepted', 'pruned', 'kept', 'retried', 'deadLettered'])
          sum[key] = (sum[key] ?? 0) + (c[key] ?? 0);
        return sum;
      }, {});
    logged.mockRestore();
    expect(counts).toMatchObject({ accepted: 7, pruned: 2, kept: 0, deadLettered: 1 });
    expect(
      (counts.accepted ?? 0) + (counts.pruned ?? 0) + (counts.kept ?? 0) + (counts.deadLettered ?? 0),
    ).toBe(tokens.length);
    expect(counts.retried).toBe(1 + 4); // flaky once; broken on each of its 4 retries before the 5th attempt

    const accepted = new Set(harness.inboxTokens());
    const remaining = new Set(
      (
        (await api('GET', `/v1/users/${user}/devices`, { backend: true })).body.devices as { token: string }[]
      ).map((d) => d.token),
    );
    const pruned = tokens.filter((t) => !remaining.has(t));
    const deadLettered = (await harness.deadLetters()).flatMap((d) =>
      (d.body.devices as { token: string }[]).map((device) => device.token),
    );
    expect(pruned.sort()).toEqual([gone, expired].sort());
    expect(deadLettered).toEqual([broken]);
    expect(accepted.size).toBe(7);
    expect(accepted.has(flaky)).toBe(true);
    expect(accepted.size + pruned.length + deadLettered.length).toBe(tokens.length);
    expect(harness.simulator.inbox).toHaveLength(accepted.size);
  });
});
