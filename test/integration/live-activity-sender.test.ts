import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apnsEndpoint, loadCredentials } from '../../lambda/adapters/secondary/apns/apns-credentials';
import { apnsConnection } from '../../lambda/adapters/secondary/apns/apns-gateway';
import { findApp } from '../../lambda/config';
import type { AppConfig } from '../../lambda/domain/app';
import { ENVIRONMENT } from '../../lambda/environment';
import { api, newToken, newUser } from '../support/api';
import { TEST_APP_ID } from '../support/embedded-services';
import { db, registerDevices, SenderHarness, senderMetrics } from '../support/sender-harness';

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

type Activity = { userId: string; activityId: string };

function activityJob(activities: Activity[], aps: Record<string, unknown>) {
  return { appId: TEST_APP_ID, to: { activities }, apns: { pushType: 'liveactivity' }, aps };
}

const activity = () => `order-${newToken(6)}`;
const eta = (minutes: number) => ({ event: 'update', 'content-state': { eta: minutes } });

/** Sets a token's expiry (epoch seconds) straight in the table, as time passing would. */
async function expire(key: string, expiresAt: number): Promise<void> {
  await db.send(
    new UpdateCommand({
      TableName: process.env[ENVIRONMENT.devicesTable],
      Key: { token: key },
      UpdateExpression: 'SET expiresAt = :expiresAt',
      ConditionExpression: 'attribute_exists(#token)',
      ExpressionAttributeNames: { '#token': 'token' },
      ExpressionAttributeValues: { ':expiresAt': expiresAt },
    }),
  );
}

/** Sends a job the way a backend does — POST /v1/notifications — and waits until the sender is idle. */
async function sendThroughApi(job: unknown): Promise<Record<string, number>> {
  const answer = await api('POST', '/v1/notifications', { backend: true, body: job });
  if (answer.status !== 202) throw new Error(`send refused: ${answer.raw}`);
  return senderMetrics(() => harness.source.idle(120_000));
}

describe('Live Activity start', () => {
  it('reaches exactly the named users’ push-to-start tokens of that attributes type', async () => {
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

  it('a push-to-start token past its expiry is not sent to (TTL deletes late) and is counted as gone', async () => {
    const alice = newUser('alice');
    const expired = await registerPushToStart(alice, 'DeliveryAttributes');
    const live = await registerPushToStart(alice, 'DeliveryAttributes');
    await expire(`la-start:${expired}`, Math.floor(Date.now() / 1000) - 1);
    const metrics = await sendThroughApi(startJob([alice]));
    expect(harness.inboxTokens()).toEqual([live]);
    expect(metrics.TokensNotRegistered).toBe(1);
  });
});

describe('Live Activity update and end', () => {
  it('update and end reach exactly the named users’ tokens of those activities, with the right priority', async () => {
    const alice = newUser('alice');
    const bob = newUser('bob');
    const mine = activity();
    const other = activity();
    const phone = await registerActivityToken(alice, mine);
    const ipad = await registerActivityToken(alice, mine);
    const elsewhere = await registerActivityToken(bob, other);
    const aliceOther = await registerActivityToken(alice, other);
    const aliceStart = await registerPushToStart(alice, 'DeliveryAttributes');
    const aliceMine = [{ userId: alice, activityId: mine }];

    await harness.deliver(activityJob(aliceMine, { ...eta(5), timestamp: 1_800_000_000 }));
    expect(harness.inboxTokens().sort()).toEqual([phone, ipad].sort());
    const [update] = harness.simulator.inbox;
    expect(update?.topic).toBe(LIVE_ACTIVITY_TOPIC);
    expect(update?.headers).toMatchObject({ 'apns-push-type': 'liveactivity', 'apns-priority': '5' });
    expect(update?.payload).toMatchObject({ aps: { event: 'update', timestamp: 1_800_000_000 } });
    for (const token of [elsewhere, aliceOther, aliceStart])
      expect(harness.inboxTokens()).not.toContain(token);

    // Bob's activity under alice's name is nobody's; named as bob's, it is his alone.
    harness.simulator.reset();
    await harness.deliver(activityJob([{ userId: alice, activityId: other }], eta(4)));
    expect(harness.inboxTokens()).toEqual([aliceOther]);
    harness.simulator.reset();
    await harness.deliver(activityJob([{ userId: bob, activityId: other }], eta(4)));
    expect(harness.inboxTokens()).toEqual([elsewhere]);

    harness.simulator.reset();
    await harness.deliver(activityJob(aliceMine, { event: 'end', 'content-state': { eta: 0 } }));
    expect(harness.inboxTokens().sort()).toEqual([phone, ipad].sort());
    expect(harness.simulator.inbox[0]?.headers['apns-priority']).toBe('10');
    expect(await harness.deadLetters()).toEqual([]);
  });

  it('a user who registers another user’s activity id first gets none of its updates (no first-come ownership)', async () => {
    const alice = newUser('alice');
    const mallory = newUser('mallory');
    const id = activity(); // e.g. "order-124": a guessable id
    // Mallory, signed in with a valid JWT, registers a token under the id before alice's app does.
    const squatter = await registerActivityToken(mallory, id);
    // Alice's registration under the same id still works: her activity is hers.
    const aliceToken = await registerActivityToken(alice, id);

    await sendThroughApi(activityJob([{ userId: alice, activityId: id }], eta(12)));
    expect(harness.inboxTokens()).toEqual([aliceToken]);

    // Mallory's own activity under that id is a separate one, reached only when named as hers.
    harness.simulator.reset();
    await sendThroughApi(activityJob([{ userId: mallory, activityId: id }], eta(3)));
    expect(harness.inboxTokens()).toEqual([squatter]);

    // Ending alice's activity leaves mallory's untouched, and the other way round.
    harness.simulator.reset();
    await sendThroughApi(activityJob([{ userId: alice, activityId: id }], { event: 'end' }));
    await sendThroughApi(activityJob([{ userId: mallory, activityId: id }], eta(2)));
    expect(harness.inboxTokens()).toEqual([aliceToken, squatter]);
    expect(await harness.deadLetters()).toEqual([]);
  });

  it('one job names several users’ activities, duplicates once; each pair reaches only its own tokens', async () => {
    const alice = newUser('alice');
    const bob = newUser('bob');
    const carol = newUser('carol');
    const id = activity();
    const aliceToken = await registerActivityToken(alice, id);
    const bobToken = await registerActivityToken(bob, id);
    const carolToken = await registerActivityToken(carol, id);
    await sendThroughApi(
      activityJob(
        [
          { userId: alice, activityId: id },
          { userId: bob, activityId: id },
          { userId: alice, activityId: id },
        ],
        eta(7),
      ),
    );
    expect(harness.inboxTokens().sort()).toEqual([aliceToken, bobToken].sort());
    expect(harness.inboxTokens()).not.toContain(carolToken);
  });

  it('after an end without a dismissal date, or one in the past, further updates reach nobody', async () => {
    const alice = newUser('alice');
    const now = Math.floor(Date.now() / 1000);
    const cases: Record<string, unknown>[] = [{}, { 'dismissal-date': now - 60 }];
    for (const dismissal of cases) {
      const named = [{ userId: alice, activityId: activity() }];
      await registerActivityToken(alice, named[0]?.activityId ?? '');
      await harness.deliver(activityJob(named, { event: 'end', ...dismissal }));
      expect(harness.inboxTokens()).toHaveLength(1);
      harness.simulator.reset();
      await harness.deliver(activityJob(named, eta(1)));
      expect(harness.inboxTokens()).toEqual([]);
    }
  });

  it('after an end whose dismissal date lies ahead, updates still reach the activity until then', async () => {
    const alice = newUser('alice');
    const id = activity();
    const token = await registerActivityToken(alice, id);
    const later = Math.floor(Date.now() / 1000) + 3600;
    const named = [{ userId: alice, activityId: id }];
    await harness.deliver(activityJob(named, { event: 'end', 'dismissal-date': later }));
    harness.simulator.reset();
    await harness.deliver(activityJob(named, eta(1)));
    expect(harness.inboxTokens()).toEqual([token]);
  });

  it('a token that moved to another user leaves the old user’s activity', async () => {
    const alice = newUser('alice');
    const bob = newUser('bob');
    const aliceActivity = activity();
    const bobActivity = activity();
    const token = await registerActivityToken(alice, aliceActivity);
    const moved = await api('PUT', `/v1/live-activities/${bobActivity}/tokens/${token}`, {
      as: bob,
      body: { appId: TEST_APP_ID, environment: 'production' },
    });
    expect(moved.status).toBe(201);
    await harness.deliver(activityJob([{ userId: alice, activityId: aliceActivity }], eta(1)));
    expect(harness.inboxTokens()).toEqual([]);
    await harness.deliver(activityJob([{ userId: bob, activityId: bobActivity }], eta(1)));
    expect(harness.inboxTokens()).toEqual([token]);
  });

  it('a token that moved to another user under the same activity id leaves the old user’s activity too', async () => {
    const alice = newUser('alice');
    const bob = newUser('bob');
    const id = activity();
    const token = await registerActivityToken(alice, id);
    const moved = await api('PUT', `/v1/live-activities/${id}/tokens/${token}`, {
      as: bob,
      body: { appId: TEST_APP_ID, environment: 'production' },
    });
    expect(moved.status).toBe(201);
    await harness.deliver(activityJob([{ userId: alice, activityId: id }], eta(1)));
    expect(harness.inboxTokens()).toEqual([]);
    await harness.deliver(activityJob([{ userId: bob, activityId: id }], eta(1)));
    expect(harness.inboxTokens()).toEqual([token]);
  });

  it('an update token past its expiry is not sent to (TTL deletes late) and is counted as gone', async () => {
    const alice = newUser('alice');
    const id = activity();
    const expired = await registerActivityToken(alice, id);
    const live = await registerActivityToken(alice, id);
    await expire(`la-update:${expired}`, Math.floor(Date.now() / 1000) - 60);
    const metrics = await sendThroughApi(activityJob([{ userId: alice, activityId: id }], eta(1)));
    expect(harness.inboxTokens()).toEqual([live]);
    expect(metrics.TokensNotRegistered).toBe(1);
    expect(metrics.NotificationsAccepted).toBe(1);
    // Registering it again makes it live again.
    const again = await api('PUT', `/v1/live-activities/${id}/tokens/${expired}`, {
      as: alice,
      body: { appId: TEST_APP_ID, environment: 'production' },
    });
    expect(again.status).toBe(200);
    harness.simulator.reset();
    await harness.deliver(activityJob([{ userId: alice, activityId: id }], eta(2)));
    expect(harness.inboxTokens().sort()).toEqual([expired, live].sort());
  });

  it('a token of another user filed under alice’s activity key, as no registration can make it, gets nothing', async () => {
    const alice = newUser('alice');
    const id = activity();
    const mine = await registerActivityToken(alice, id);
    const planted = newToken();
    await db.send(
      new PutCommand({
        TableName: process.env[ENVIRONMENT.devicesTable],
        Item: {
          token: `la-update:${planted}`,
          apnsToken: planted,
          kind: 'update',
          ownerId: newUser('mallory'),
          appId: TEST_APP_ID,
          environment: 'production',
          activityId: id,
          liveActivityTarget: `activity|${TEST_APP_ID}|${alice}|${id}`,
          registeredAt: new Date().toISOString(),
          lastSeenAt: new Date().toISOString(),
          expiresAt: Math.floor(Date.now() / 1000) + 3600,
        },
      }),
    );
    await harness.deliver(activityJob([{ userId: alice, activityId: id }], eta(1)));
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
    const named = [{ userId: alice, activityId: id }];
    await harness.deliver(activityJob(named, eta(1)));
    harness.simulator.reset();
    await harness.deliver(activityJob(named, eta(2)));
    expect(harness.inboxTokens()).toEqual([]);
    const deleted = await api('DELETE', `/v1/live-activities/${id}/tokens/${token}`, { as: alice });
    expect(deleted.status).toBe(404);
  });

  it('a job of the old form on the queue (activity ids alone) is sent to nobody: dead-lettered with the reason', async () => {
    const alice = newUser('alice');
    const id = activity();
    await registerActivityToken(alice, id);
    const old = {
      appId: TEST_APP_ID,
      to: { activityIds: [id] },
      apns: { pushType: 'liveactivity' },
      aps: eta(1),
    };
    // As published by a backend not yet updated, and as a part the sender queued before the upgrade.
    await harness.deliver(old);
    await harness.deliver({
      pushgate: 'work/v1',
      job: { ...old, notificationId: 'old-part' },
      part: '0',
      attempt: 0,
    });
    expect(harness.inboxTokens()).toEqual([]);
    const dead = await harness.deadLetters();
    expect(dead).toHaveLength(2);
    for (const letter of dead) {
      expect(letter.reason).toBe('InvalidJob');
      expect(letter.detail).toMatch(/name the user of each activity/);
    }
  });
});

describe('erasing a user (log out everywhere)', () => {
  it('takes the user’s push-to-start and update tokens too: no start or update reaches them until registered again', async () => {
    const alice = newUser('alice');
    const bob = newUser('bob');
    const mine = activity();
    const start = await registerPushToStart(alice, 'DeliveryAttributes');
    const update = await registerActivityToken(alice, mine);
    const bobStart = await registerPushToStart(bob, 'DeliveryAttributes');
    await harness.deliver(startJob([alice, bob]));
    expect(harness.inboxTokens().sort()).toEqual([start, bobStart].sort());

    expect((await api('DELETE', `/v1/users/${alice}/devices`, { backend: true })).status).toBe(204);
    harness.simulator.reset();
    const startMetrics = await sendThroughApi(startJob([alice, bob]));
    expect(harness.inboxTokens()).toEqual([bobStart]);
    expect(startMetrics.TokensNotRegistered).toBe(1);
    harness.simulator.reset();
    await harness.deliver(activityJob([{ userId: alice, activityId: mine }], eta(3)));
    expect(harness.inboxTokens()).toEqual([]);

    // The app registers its tokens again after signing in: new registrations, reached again.
    const again = await api('PUT', `/v1/live-activities/${mine}/tokens/${update}`, {
      as: alice,
      body: { appId: TEST_APP_ID, environment: 'production' },
    });
    expect(again.status).toBe(201);
    harness.simulator.reset();
    await harness.deliver(activityJob([{ userId: alice, activityId: mine }], eta(2)));
    expect(harness.inboxTokens()).toEqual([update]);
    expect(await harness.deadLetters()).toEqual([]);
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
