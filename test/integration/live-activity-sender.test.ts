import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apnsEndpoint, loadCredentials } from '../../lambda/adapters/secondary/apns/apns-credentials';
import { apnsConnection } from '../../lambda/adapters/secondary/apns/apns-gateway';
import { type AppConfig, findApp } from '../../lambda/config';
import { api, newToken, newUser } from '../support/api';
import { TEST_APP_ID } from '../support/embedded-services';
import { db, registerDevices, SenderHarness } from '../support/sender-harness';

const harness = new SenderHarness();
beforeAll(() => harness.start(), 30_000);
afterAll(() => harness.stop());
beforeEach(() => harness.purge());

const LIVE_ACTIVITY_TOPIC = `${TEST_APP_ID}.push-type.liveactivity`;

async function registerPushToStart(userId: string, attributesType: string): Promise<string> {
  const token = newToken();
  const answer = await api('PUT', `/v1/live-activities/push-to-start/${token}`, {
    as: userId,
    body: { appId: TEST_APP_ID, environment: 'production', attributesType },
  });
  if (answer.status !== 201) throw new Error(`registration failed: ${answer.raw}`);
  return token;
}

async function registerActivityToken(userId: string, activityId: string): Promise<string> {
  const token = newToken();
  const answer = await api('PUT', `/v1/live-activities/${activityId}/tokens/${token}`, {
    as: userId,
    body: { appId: TEST_APP_ID, environment: 'production' },
  });
  if (answer.status !== 201) throw new Error(`registration failed: ${answer.raw}`);
  return token;
}

function startJob(
  userIds: string[],
  attributesType = 'DeliveryAttributes',
  aps: Record<string, unknown> = {},
) {
  return {
    appId: TEST_APP_ID,
    to: { userIds },
    apns: { pushType: 'liveactivity' },
    aps: {
      event: 'start',
      'attributes-type': attributesType,
      attributes: { activityId: 'order-1' },
      'content-state': { eta: 10 },
      alert: { title: 'On its way', body: 'Your order left the shop' },
      ...aps,
    },
  };
}

function activityJob(activityIds: string[], aps: Record<string, unknown>) {
  return { appId: TEST_APP_ID, to: { activityIds }, apns: { pushType: 'liveactivity' }, aps };
}

const activity = () => `order-${newToken(6)}`;

describe('Live Activity start', () => {
  it('reaches exactly the target users’ push-to-start tokens of that attributes type', async () => {
    const alice = newUser('alice');
    const bob = newUser('bob');
    const aliceStart = await registerPushToStart(alice, 'DeliveryAttributes');
    const aliceOtherType = await registerPushToStart(alice, 'RideAttributes');
    const [aliceDevice] = await registerDevices(alice, 1);
    const bobStart = await registerPushToStart(bob, 'DeliveryAttributes');
    const aliceUpdate = await registerActivityToken(alice, activity());

    await harness.deliver(startJob([alice]));

    expect(harness.inboxTokens()).toEqual([aliceStart]);
    for (const other of [aliceOtherType, aliceDevice, bobStart, aliceUpdate]) {
      expect(harness.inboxTokens()).not.toContain(other);
    }
    const [entry] = harness.simulator.inbox;
    expect(entry?.topic).toBe(LIVE_ACTIVITY_TOPIC);
    expect(entry?.headers).toMatchObject({ 'apns-push-type': 'liveactivity', 'apns-priority': '10' });
    expect(entry?.payload).toMatchObject({
      aps: { event: 'start', 'attributes-type': 'DeliveryAttributes', timestamp: expect.any(Number) },
    });
    expect(await harness.deadLetters()).toEqual([]);
  });

  it('a plain device alert to the same user does not reach their Live Activity tokens', async () => {
    const alice = newUser('alice');
    const aliceStart = await registerPushToStart(alice, 'DeliveryAttributes');
    const [aliceDevice] = await registerDevices(alice, 1);
    await harness.deliver({ appId: TEST_APP_ID, to: { userIds: [alice] }, aps: { alert: 'Hi' } });
    expect(harness.inboxTokens()).toEqual([aliceDevice]);
    expect(harness.inboxTokens()).not.toContain(aliceStart);
  });

  it('a push-to-start token that moved to another user gets nothing of the old user’s start', async () => {
    const alice = newUser('alice');
    const bob = newUser('bob');
    const token = await registerPushToStart(alice, 'DeliveryAttributes');
    const moved = await api('PUT', `/v1/live-activities/push-to-start/${token}`, {
      as: bob,
      body: { appId: TEST_APP_ID, environment: 'production', attributesType: 'DeliveryAttributes' },
    });
    expect(moved.status).toBe(201);
    await harness.deliver(startJob([alice]));
    expect(harness.inboxTokens()).toEqual([]);
    await harness.deliver(startJob([bob]));
    expect(harness.inboxTokens()).toEqual([token]);
  });
});

describe('Live Activity update and end', () => {
  it('update and end reach exactly the activity’s update tokens, with the right priority', async () => {
    const alice = newUser('alice');
    const bob = newUser('bob');
    const mine = activity();
    const other = activity();
    const phone = await registerActivityToken(alice, mine);
    const ipad = await registerActivityToken(alice, mine);
    const elsewhere = await registerActivityToken(bob, other);
    const aliceStart = await registerPushToStart(alice, 'DeliveryAttributes');

    await harness.deliver(
      activityJob([mine], { event: 'update', 'content-state': { eta: 5 }, timestamp: 1_800_000_000 }),
    );
    expect(harness.inboxTokens().sort()).toEqual([phone, ipad].sort());
    const [update] = harness.simulator.inbox;
    expect(update?.topic).toBe(LIVE_ACTIVITY_TOPIC);
    expect(update?.headers).toMatchObject({ 'apns-push-type': 'liveactivity', 'apns-priority': '5' });
    expect(update?.payload).toMatchObject({ aps: { event: 'update', timestamp: 1_800_000_000 } });
    expect(harness.inboxTokens()).not.toContain(elsewhere);
    expect(harness.inboxTokens()).not.toContain(aliceStart);

    harness.simulator.reset();
    await harness.deliver(activityJob([mine], { event: 'end', 'content-state': { eta: 0 } }));
    expect(harness.inboxTokens().sort()).toEqual([phone, ipad].sort());
    expect(harness.simulator.inbox[0]?.headers['apns-priority']).toBe('10');
    expect(await harness.deadLetters()).toEqual([]);
  });

  it('after an end without a dismissal date, or one in the past, further updates reach nobody', async () => {
    const alice = newUser('alice');
    const now = Math.floor(Date.now() / 1000);
    const cases: Record<string, unknown>[] = [{}, { 'dismissal-date': now - 60 }];
    for (const dismissal of cases) {
      const id = activity();
      await registerActivityToken(alice, id);
      await harness.deliver(activityJob([id], { event: 'end', ...dismissal }));
      expect(harness.inboxTokens()).toHaveLength(1);
      harness.simulator.reset();
      await harness.deliver(activityJob([id], { event: 'update', 'content-state': { eta: 1 } }));
      expect(harness.inboxTokens()).toEqual([]);
    }
  });

  it('after an end whose dismissal date lies ahead, updates still reach the activity until then', async () => {
    const alice = newUser('alice');
    const id = activity();
    const token = await registerActivityToken(alice, id);
    const later = Math.floor(Date.now() / 1000) + 3600;
    await harness.deliver(activityJob([id], { event: 'end', 'dismissal-date': later }));
    harness.simulator.reset();
    await harness.deliver(activityJob([id], { event: 'update', 'content-state': { eta: 1 } }));
    expect(harness.inboxTokens()).toEqual([token]);
  });

  it('a token that moved to another user leaves the old user’s activity', async () => {
    const alice = newUser('alice');
    const bob = newUser('bob');
    const aliceActivity = activity();
    const bobActivity = activity();
    const token = await registerActivityToken(alice, aliceActivity);
    await api('PUT', `/v1/live-activities/${bobActivity}/tokens/${token}`, {
      as: bob,
      body: { appId: TEST_APP_ID, environment: 'production' },
    });
    await harness.deliver(activityJob([aliceActivity], { event: 'update', 'content-state': { eta: 1 } }));
    expect(harness.inboxTokens()).toEqual([]);
    await harness.deliver(activityJob([bobActivity], { event: 'update', 'content-state': { eta: 1 } }));
    expect(harness.inboxTokens()).toEqual([token]);
  });

  it('an update reaches only the tokens of the user the activity id belongs to', async () => {
    const alice = newUser('alice');
    const id = activity();
    const mine = await registerActivityToken(alice, id);
    // A token of another user filed under alice's activity, as no registration can make it.
    const planted = newToken();
    await db.send(
      new PutCommand({
        TableName: process.env.DEVICES_TABLE_NAME,
        Item: {
          token: `la-update:${planted}`,
          apnsToken: planted,
          kind: 'update',
          ownerId: newUser('mallory'),
          appId: TEST_APP_ID,
          environment: 'production',
          activityId: id,
          liveActivityTarget: `activity|${TEST_APP_ID}|${id}`,
          registeredAt: new Date().toISOString(),
          lastSeenAt: new Date().toISOString(),
          expiresAt: Math.floor(Date.now() / 1000) + 3600,
        },
      }),
    );
    await harness.deliver(activityJob([id], { event: 'update', 'content-state': { eta: 1 } }));
    expect(harness.inboxTokens()).toEqual([mine]);
  });

  it('an update token APNs calls Unregistered is pruned', async () => {
    const alice = newUser('alice');
    const id = activity();
    const token = await registerActivityToken(alice, id);
    harness.simulator.failToken(token, {
      status: 410,
      reason: 'Unregistered',
      timestamp: Date.now() + 60_000,
    });
    await harness.deliver(activityJob([id], { event: 'update', 'content-state': { eta: 1 } }));
    harness.simulator.reset();
    await harness.deliver(activityJob([id], { event: 'update', 'content-state': { eta: 2 } }));
    expect(harness.inboxTokens()).toEqual([]);
    const deleted = await api('DELETE', `/v1/live-activities/${id}/tokens/${token}`, { as: alice });
    expect(deleted.status).toBe(404);
  });
});

describe('the APNs simulator judges Live Activity requests like APNs', () => {
  /** Sends one raw request to the simulator over HTTP/2 + TLS with the sender's own credentials. */
  async function sendRaw(headers: Record<string, string>, aps: Record<string, unknown>) {
    const app = findApp(TEST_APP_ID) as AppConfig;
    const connection = apnsConnection(
      app.credentials ?? app.appId,
      await loadCredentials(app),
      'production',
      apnsEndpoint('production'),
    );
    const [answer] = await connection.sendAll({ headers, body: JSON.stringify({ aps }) }, [newToken()]);
    return answer;
  }
  const validUpdate = { event: 'update', timestamp: 1_800_000_000, 'content-state': { eta: 3 } };
  const liveActivityHeaders = { 'apns-push-type': 'liveactivity', 'apns-priority': '5' };

  it('accepts a complete update on the .push-type.liveactivity topic', async () => {
    const answer = await sendRaw({ ...liveActivityHeaders, 'apns-topic': LIVE_ACTIVITY_TOPIC }, validUpdate);
    expect(answer?.status).toBe(200);
  });

  it('rejects a liveactivity push sent to the plain topic (400 BadTopic)', async () => {
    const answer = await sendRaw({ ...liveActivityHeaders, 'apns-topic': TEST_APP_ID }, validUpdate);
    expect(answer).toMatchObject({ status: 400, reason: 'BadTopic' });
    expect(harness.simulator.inbox).toHaveLength(0);
  });

  it('rejects a Live Activity topic pushed as an alert (400 TopicDisallowed)', async () => {
    const answer = await sendRaw(
      { 'apns-push-type': 'alert', 'apns-topic': LIVE_ACTIVITY_TOPIC },
      validUpdate,
    );
    expect(answer).toMatchObject({ status: 400, reason: 'TopicDisallowed' });
  });

  it.each([
    ['no timestamp', { event: 'update', 'content-state': { eta: 3 } }],
    ['no event', { timestamp: 1_800_000_000, 'content-state': { eta: 3 } }],
    ['an update without content-state', { event: 'update', timestamp: 1_800_000_000 }],
    [
      'a start without attributes',
      { event: 'start', timestamp: 1_800_000_000, 'attributes-type': 'T', 'content-state': {}, alert: 'x' },
    ],
  ])('rejects %s', async (_name, aps) => {
    const answer = await sendRaw({ ...liveActivityHeaders, 'apns-topic': LIVE_ACTIVITY_TOPIC }, aps);
    expect(answer).toMatchObject({ status: 400, reason: 'BadLiveActivityPayload' });
    expect(harness.simulator.inbox).toHaveLength(0);
  });
});
