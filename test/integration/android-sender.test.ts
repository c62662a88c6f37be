import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ENVIRONMENT } from '../../lambda/environment';
import { metrics } from '../../lambda/metrics';
import { api, newUser } from '../support/api';
import { TEST_APP_ID } from '../support/embedded-services';
import { newFcmToken } from '../support/fcm-tokens';
import {
  alertJob,
  db,
  deviceRecord,
  registerDevices,
  SenderHarness,
  senderMetrics,
  TEST_FCM_PROJECT,
} from '../support/sender-harness';

const harness = new SenderHarness();

beforeAll(() => harness.start({ fcm: true }), 30_000);
afterAll(() => harness.stop());
beforeEach(() => harness.purge());

const fcm = () => {
  if (harness.fcm === undefined) throw new Error('the harness has no FCM simulator');
  return harness.fcm;
};

async function registerAndroid(userId: string, count: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const token = newFcmToken();
    const answer = await api('PUT', `/v1/devices/${token}`, {
      as: userId,
      body: { appId: TEST_APP_ID, platform: 'android' },
    });
    expect(answer.status).toBe(201);
    tokens.push(token);
  }
  return tokens;
}

/** The outcome metrics published with a `platform` dimension, summed by `<metric>:<platform>`. */
async function platformMetrics(action: () => Promise<void>): Promise<Record<string, number>> {
  const totals: Record<string, number> = {};
  const single = vi.spyOn(metrics, 'singleMetric').mockImplementation(() => {
    const dimensions: Record<string, string> = {};
    const fake = {
      addDimension: (name: string, value: string) => {
        dimensions[name] = value;
      },
      addMetric: (name: string, _unit: unknown, value: number) => {
        if (dimensions.platform === undefined) return;
        const key = `${name}:${dimensions.platform}`;
        totals[key] = (totals[key] ?? 0) + value;
      },
    };
    return fake as unknown as ReturnType<typeof metrics.singleMetric>;
  });
  try {
    await action();
    return totals;
  } finally {
    single.mockRestore();
  }
}

describe('sending to Android devices through FCM', () => {
  it('a user with two iPhones and two Android devices gets one push on each of the four', async () => {
    const user = newUser('mixed');
    const iphones = await registerDevices(user, 2);
    const androids = await registerAndroid(user, 2);
    let counted: Record<string, number> = {};
    const byPlatform = await platformMetrics(async () => {
      counted = await senderMetrics(() =>
        harness.deliver(alertJob({ userIds: [user] }, { notificationId: 'mixed-1', data: { orderId: 7 } })),
      );
    });
    expect(harness.inboxTokens().sort()).toEqual([...iphones].sort());
    expect(harness.fcmInboxTokens().sort()).toEqual([...androids].sort());
    const [entry] = fcm().received.entries;
    expect(entry?.projectId).toBe(TEST_FCM_PROJECT);
    expect(entry?.message).toMatchObject({
      notification: { title: 'Hi', body: 'Your order shipped' },
      data: { orderId: '7', pushgate: JSON.stringify({ id: 'mixed-1' }) },
      android: { priority: 'HIGH' },
    });
    expect(counted.NotificationsAccepted).toBe(4);
    expect(byPlatform).toEqual({ 'NotificationsAccepted:ios': 2, 'NotificationsAccepted:android': 2 });
    const status = await api('GET', '/v1/notifications/mixed-1', { backend: true });
    expect(status.body).toMatchObject({
      counts: { devices: 4, accepted: 4 },
      progress: { complete: true },
    });
  });

  it('an Android token another user registered gets nothing more for the first user, across platforms', async () => {
    const alice = newUser('alice');
    const bob = newUser('bob');
    const [pixel] = (await registerAndroid(alice, 1)) as [string];
    const [alicePhone] = (await registerDevices(alice, 1)) as [string];
    expect(
      (
        await api('PUT', `/v1/devices/${pixel}`, {
          as: bob,
          body: { appId: TEST_APP_ID, platform: 'android' },
        })
      ).status,
    ).toBe(201);
    const counted = await senderMetrics(() => harness.deliver(alertJob({ userIds: [alice] })));
    expect(harness.inboxTokens()).toEqual([alicePhone]);
    expect(harness.fcmInboxTokens()).toEqual([]);
    expect(counted.TokensMovedToAnotherUser).toBe(1);
    await harness.deliver(alertJob({ userIds: [bob] }));
    expect(harness.fcmInboxTokens()).toEqual([pixel]);
  });

  it('a job addressed to an Android token reaches it', async () => {
    const user = newUser('tokens');
    const [pixel] = (await registerAndroid(user, 1)) as [string];
    await harness.deliver(alertJob({ tokens: [pixel] }));
    expect(harness.fcmInboxTokens()).toEqual([pixel]);
  });
});

describe('every FCM answer, through the simulator', () => {
  it('UNREGISTERED, SENDER_ID_MISMATCH and INVALID_ARGUMENT about the token prune; the rest is delivered', async () => {
    const user = newUser('faults');
    const [gone, mismatched, malformed, fine] = (await registerAndroid(user, 4)) as [
      string,
      string,
      string,
      string,
    ];
    fcm().setFaults({
      tokens: {
        [gone]: { status: 404, errorCode: 'UNREGISTERED' },
        [mismatched]: { status: 403, errorCode: 'SENDER_ID_MISMATCH' },
        [malformed]: {
          status: 400,
          errorCode: 'INVALID_ARGUMENT',
          message: 'The registration token is not a valid FCM registration token',
        },
      },
    });
    let counted: Record<string, number> = {};
    const byPlatform = await platformMetrics(async () => {
      counted = await senderMetrics(() => harness.deliver(alertJob({ userIds: [user] })));
    });
    expect(harness.fcmInboxTokens()).toEqual([fine]);
    expect(counted.TokensPruned).toBe(3);
    expect(counted.NotificationsAccepted).toBe(1);
    expect(byPlatform).toEqual({ 'TokensPruned:android': 3, 'NotificationsAccepted:android': 1 });
    for (const token of [gone, mismatched, malformed]) expect(await deviceRecord(token)).toBeUndefined();
    expect(await deviceRecord(fine)).toBeDefined();
    expect((await api('GET', '/v1/devices', { as: user })).body.devices).toHaveLength(1);
  });

  it('UNREGISTERED for a token registered again after the push left keeps the device', async () => {
    const user = newUser('again');
    const [token] = (await registerAndroid(user, 1)) as [string];
    fcm().setFaults({ tokens: { [token]: { status: 404, errorCode: 'UNREGISTERED' } } });
    // A registration that lands after the push left, as a clock a minute ahead records it.
    await db.send(
      new UpdateCommand({
        TableName: process.env[ENVIRONMENT.devicesTable],
        Key: { token },
        UpdateExpression: 'SET lastSeenAt = :later',
        ExpressionAttributeValues: { ':later': new Date(Date.now() + 60_000).toISOString() },
      }),
    );
    const counted = await senderMetrics(() => harness.deliver(alertJob({ userIds: [user] })));
    expect(counted.TokensKeptAfterReRegistration).toBe(1);
    expect(counted.TokensPruned ?? 0).toBe(0);
    expect(await deviceRecord(token)).toBeDefined();
  });

  it('UNAVAILABLE and INTERNAL are retried with backoff, then delivered once', async () => {
    const user = newUser('retry');
    const [busy, broken, fine] = (await registerAndroid(user, 3)) as [string, string, string];
    fcm().setFaults({
      tokens: {
        [busy]: { status: 503, errorCode: 'UNAVAILABLE', times: 1 },
        [broken]: { status: 500, errorCode: 'INTERNAL', times: 1 },
      },
    });
    let counted: Record<string, number> = {};
    const byPlatform = await platformMetrics(async () => {
      counted = await senderMetrics(() => harness.deliver(alertJob({ userIds: [user] })));
    });
    expect(harness.fcmInboxTokens().sort()).toEqual([busy, broken, fine].sort());
    expect(counted.DeliveriesRetried).toBe(2);
    expect(counted.NotificationsAccepted).toBe(3);
    expect(byPlatform['DeliveriesRetried:android']).toBe(2);
  });

  it('QUOTA_EXCEEDED is retried after Retry-After, at least 60 s, and then delivered once', async () => {
    const user = newUser('quota');
    const [token] = (await registerAndroid(user, 1)) as [string];
    fcm().setFaults({
      tokens: { [token]: { status: 429, errorCode: 'QUOTA_EXCEEDED', retryAfter: 1, times: 1 } },
    });
    const started = Date.now();
    const counted = await senderMetrics(() => harness.deliver(alertJob({ userIds: [user] }), 240_000));
    expect(harness.fcmInboxTokens()).toEqual([token]);
    const acceptedAt = Date.parse(fcm().received.entries[0]?.receivedAt ?? '');
    expect(acceptedAt - started).toBeGreaterThanOrEqual(60_000);
    expect(counted.DeliveriesRetried).toBe(1);
    expect(counted.NotificationsAccepted).toBe(1);
  }, 300_000);

  it('INVALID_ARGUMENT about the message sends the job to the DLQ with the reason', async () => {
    const user = newUser('badmessage');
    const [token] = (await registerAndroid(user, 1)) as [string];
    fcm().setFaults({ tokens: { [token]: { status: 400, errorCode: 'INVALID_ARGUMENT' } } });
    await harness.deliver(alertJob({ userIds: [user] }, { notificationId: 'fcm-bad-message' }));
    const dead = await harness.deadLetters();
    expect(dead).toHaveLength(1);
    expect(dead[0]?.reason).toBe('INVALID_ARGUMENT');
    expect(dead[0]?.detail).toMatch(/FCM answered 400 INVALID_ARGUMENT/);
    expect(await deviceRecord(token)).toBeDefined();
  });

  it('a credential refusal gets one fresh access token; refused twice, the job is dead-lettered loudly', async () => {
    const user = newUser('creds');
    const [once, twice] = (await registerAndroid(user, 2)) as [string, string];
    fcm().setFaults({ tokens: { [once]: { status: 401, errorCode: 'UNAUTHENTICATED', times: 1 } } });
    await harness.deliver(alertJob({ tokens: [once] }));
    expect(harness.fcmInboxTokens()).toEqual([once]);
    expect(await harness.deadLetters()).toEqual([]);
    fcm().setFaults({ tokens: { [twice]: { status: 403, errorCode: 'PERMISSION_DENIED', times: 2 } } });
    const counted = await senderMetrics(() => harness.deliver(alertJob({ tokens: [twice] })));
    const dead = await harness.deadLetters();
    expect(dead.map((message) => message.reason)).toEqual(['PERMISSION_DENIED']);
    expect(harness.fcmInboxTokens()).toEqual([once]);
    expect(counted.NotificationsAccepted ?? 0).toBe(0);
  });
});

describe('tracking, receipts and re-push on Android devices', () => {
  const report = (id: string) => api('GET', `/v1/notifications/${id}`, { backend: true });
  const statusOf = async (id: string, token: string) =>
    ((await report(id)).body.devices as { token: string; status: string }[]).find((d) => d.token === token)
      ?.status;

  it('a tracked send to an Android device: accepted, then received from the receipt it sends back', async () => {
    const user = newUser('tracked');
    const [pixel] = (await registerAndroid(user, 1)) as [string];
    const [phone] = (await registerDevices(user, 1)) as [string];
    const sent = await api('POST', '/v1/notifications', {
      backend: true,
      body: alertJob({ userIds: [user] }, { notificationId: 'android-tracked', track: { receipts: true } }),
    });
    expect(sent.status).toBe(202);
    await harness.source.idle();
    expect(await statusOf('android-tracked', pixel)).toBe('accepted');
    expect(await statusOf('android-tracked', phone)).toBe('accepted');
    // The app reads the id from data["pushgate"] and acknowledges with its FCM token.
    const message = fcm().received.entries[0]?.message as { data: { pushgate: string } } | undefined;
    const { id } = JSON.parse(message?.data.pushgate ?? '{}');
    expect(id).toBe('android-tracked');
    const receipt = await api('POST', `/v1/notifications/${id}/receipts`, {
      as: user,
      body: { token: pixel, event: 'received' },
    });
    expect(receipt.status).toBe(204);
    expect(await statusOf('android-tracked', pixel)).toBe('received');
    const stranger = await api('POST', `/v1/notifications/${id}/receipts`, {
      as: newUser('mallory'),
      body: { token: pixel, event: 'received' },
    });
    expect(stranger.status).toBe(404);
  });

  it('re-pushes exactly the Android device that did not acknowledge', async () => {
    const user = newUser('repush');
    const [acked, silent] = (await registerAndroid(user, 2)) as [string, string];
    const sent = await api('POST', '/v1/notifications', {
      backend: true,
      body: alertJob(
        { userIds: [user] },
        {
          notificationId: 'android-repush',
          track: { receipts: true, repushAfterSeconds: 2, maxRepushes: 1 },
        },
      ),
    });
    expect(sent.status).toBe(202);
    await expect.poll(() => harness.fcmInboxTokens().length, { timeout: 60_000 }).toBe(2);
    const ack = await api('POST', '/v1/notifications/android-repush/receipts', {
      as: user,
      body: { token: acked, event: 'received' },
    });
    expect(ack.status).toBe(204);
    await harness.source.idle(120_000);
    const received = harness.fcmInboxTokens();
    expect(received.filter((token) => token === acked)).toHaveLength(1);
    expect(received.filter((token) => token === silent)).toHaveLength(2);
  }, 180_000);
});
