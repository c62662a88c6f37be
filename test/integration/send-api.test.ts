import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { api, newUser } from '../support/api';
import { TEST_APP_ID } from '../support/embedded-services';
import { seedDevices } from '../support/seed';
import { alertJob, db, NO_GAPS, registerDevices, SenderHarness } from '../support/sender-harness';

const harness = new SenderHarness();
beforeAll(() => harness.start(), 30_000);
afterAll(() => harness.stop());
beforeEach(() => harness.purge());

describe('POST /v1/notifications', () => {
  it('5 000 users × 2 devices from one request: exactly one notification per device', async () => {
    const users = Array.from({ length: 5_000 }, (_, i) => `api-${i}-${Date.now()}`);
    const devices = await seedDevices(users, 2);
    const answer = await api('POST', '/v1/notifications', {
      backend: true,
      body: alertJob({ userIds: users }, { notificationId: 'five-thousand' }),
    });
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({
      notificationId: 'five-thousand',
      recipients: { users: 5_000 },
      parts: 5,
      jobs: 5,
      tracked: false,
    });
    await harness.source.idle(240_000);
    expect(harness.inboxGaps(devices.map((d) => d.token))).toEqual(NO_GAPS);

    const again = await api('POST', '/v1/notifications', {
      backend: true,
      body: alertJob({ userIds: users }, { notificationId: 'five-thousand' }),
    });
    expect(again.status).toBe(202);
    expect(again.body).toEqual(answer.body);
    await harness.source.idle();
    expect(harness.simulator.inbox).toHaveLength(10_000);
  }, 300_000);

  it('assigns a notification id when none is given and puts it in every payload', async () => {
    const user = newUser();
    await registerDevices(user, 1);
    const answer = await api('POST', '/v1/notifications', {
      backend: true,
      body: alertJob({ userIds: [user] }),
    });
    expect(answer.status).toBe(202);
    expect(answer.body.notificationId).toMatch(/^[0-9a-f-]{36}$/);
    await harness.source.idle();
    expect(harness.simulator.inbox[0]?.payload).toMatchObject({
      pushgate: { id: answer.body.notificationId },
    });
  });
});

describe('notification ids: one id, one job', () => {
  // Every job here is a few devices: a copy that finds its chunk held comes back after 10 s.
  beforeAll(() => harness.setVisibilityTimeout(10));
  afterAll(() => harness.setVisibilityTimeout());
  const post = (body: unknown) => api('POST', '/v1/notifications', { backend: true, body });
  const inboxOf = () =>
    harness.simulator.inbox.map((entry) => ({ token: entry.token, payload: entry.payload }));

  it('a repeat of the same job answers as the first time and sends nothing, whatever its key order or token case', async () => {
    const [token = ''] = await registerDevices(newUser(), 1);
    const id = `repeat-${Date.now()}`;
    const first = await post({
      notificationId: id,
      appId: TEST_APP_ID,
      to: { tokens: [token] },
      aps: { alert: 'Hi', badge: 1 },
    });
    await harness.source.idle();
    const again = await post({
      aps: { badge: 1, alert: 'Hi' },
      to: { tokens: [token.toUpperCase()] },
      appId: TEST_APP_ID,
      notificationId: id,
    });
    await harness.source.idle();
    expect(first.status).toBe(202);
    expect([again.status, again.body]).toEqual([202, first.body]);
    expect(harness.simulator.inbox).toHaveLength(1);
  });

  it("a repeat of a request recorded before `parts` existed (its answer holds only `jobs`) answers both, in the answer's key order", async () => {
    const [token = ''] = await registerDevices(newUser(), 1);
    const id = `before-parts-${Date.now()}`;
    const job = alertJob({ tokens: [token] }, { notificationId: id });
    expect((await post(job)).status).toBe(202);
    await harness.source.idle();
    // The record as the code before `parts` wrote it: the same item, its answer without
    // `parts` (and its keys in another order, as DynamoDB may give them back).
    const record = (await notificationRecord(id)) ?? {};
    expect(record.answer).toEqual({
      notificationId: id,
      recipients: { tokens: 1 },
      parts: 1,
      jobs: 1,
      tracked: false,
    });
    const oldAnswer = { tracked: false, jobs: 1, recipients: { tokens: 1 }, notificationId: id };
    await db.send(
      new PutCommand({
        TableName: process.env.NOTIFICATIONS_TABLE_NAME,
        Item: { ...record, answer: oldAnswer },
      }),
    );
    expect((await notificationRecord(id))?.answer).toEqual(oldAnswer);

    const again = await post(job);
    await harness.source.idle();
    expect([again.status, again.body]).toEqual([
      202,
      { notificationId: id, recipients: { tokens: 1 }, parts: 1, jobs: 1, tracked: false },
    ]);
    expect(Object.keys(again.body)).toEqual(['notificationId', 'recipients', 'parts', 'jobs', 'tracked']);
    const report = await api('GET', `/v1/notifications/${id}`, { backend: true });
    expect(report.body).toMatchObject({ parts: 1, jobs: 1 });
    expect(harness.simulator.inbox).toHaveLength(1);
  });

  it.each([
    ['other recipients', { to: { userIds: ['someone-else'] } }],
    ['other content', { aps: { alert: 'Something else' } }],
    ['other data', { data: { orderId: '2' } }],
    ['other options', { apns: { priority: 5 } }],
  ])(
    'the id taken by a job with %s: 409 NotificationIdConflict, the record unchanged, nothing sent',
    async (_name, change) => {
      const user = newUser();
      await registerDevices(user, 1);
      const id = `conflict-${Math.random().toString(36).slice(2)}`;
      const job = { ...alertJob({ userIds: [user] }), data: { orderId: '1' }, notificationId: id };
      const first = await post(job);
      await harness.source.idle();
      const record = await notificationRecord(id);
      const conflict = await post({ ...job, ...change });
      await harness.source.idle();
      expect(first.status).toBe(202);
      expect(conflict.status).toBe(409);
      expect(conflict.body.error.code).toBe('NotificationIdConflict');
      expect(conflict.body.error.message).toContain(id);
      expect(await notificationRecord(id)).toEqual(record);
      expect(harness.simulator.inbox).toHaveLength(1);
    },
  );

  it('20 concurrent POSTs with one id, half for alice with A and half for bob with B: one job delivered, the other half 409', async () => {
    const alice = newUser('alice');
    const bob = newUser('bob');
    const [aliceToken] = await registerDevices(alice, 1);
    const [bobToken] = await registerDevices(bob, 1);
    const id = `race-${Date.now()}`;
    const forAlice = alertJob({ userIds: [alice] }, { notificationId: id, aps: { alert: 'A' } });
    const forBob = alertJob({ userIds: [bob] }, { notificationId: id, aps: { alert: 'B' } });
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        post(i % 2 === 0 ? forAlice : forBob).then((answer) => ({ i, answer })),
      ),
    );
    // A copy of the job delivered while another holds its chunk comes back after the visibility timeout.
    await harness.source.idle(240_000);

    const accepted = answers.filter(({ answer }) => answer.status === 202);
    const refused = answers.filter(({ answer }) => answer.status === 409);
    expect(accepted).toHaveLength(10);
    expect(refused).toHaveLength(10);
    const winner = (accepted[0]?.i ?? 0) % 2;
    expect(accepted.every(({ i }) => i % 2 === winner)).toBe(true);
    expect(refused.every(({ answer }) => answer.body.error.code === 'NotificationIdConflict')).toBe(true);
    expect(new Set(accepted.map(({ answer }) => JSON.stringify(answer.body))).size).toBe(1);
    expect(accepted[0]?.answer.body).toEqual({
      notificationId: id,
      recipients: { users: 1 },
      parts: 1,
      jobs: 1,
      tracked: false,
    });
    expect(inboxOf()).toEqual([
      winner === 0
        ? { token: aliceToken, payload: { aps: { alert: 'A' }, pushgate: { id } } }
        : { token: bobToken, payload: { aps: { alert: 'B' }, pushgate: { id } } },
    ]);
  }, 300_000);

  it('20 concurrent identical POSTs: all 202 with one answer, one delivery per device', async () => {
    const user = newUser();
    const tokens = await registerDevices(user, 2);
    const id = `same-${Date.now()}`;
    const job = alertJob({ userIds: [user] }, { notificationId: id });
    const answers = await Promise.all(Array.from({ length: 20 }, () => post(job)));
    await harness.source.idle(240_000);
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(202));
    expect(new Set(answers.map((answer) => JSON.stringify(answer.body))).size).toBe(1);
    expect(harness.inboxTokens().sort()).toEqual([...tokens].sort());
  }, 300_000);
});

describe('jobs published straight to SQS', () => {
  it('a 5 000-user job is split by the sender and every device reached once', async () => {
    const users = Array.from({ length: 5_000 }, (_, i) => `sqs-${i}-${Date.now()}`);
    const devices = await seedDevices(users, 1);
    await harness.deliver({ appId: TEST_APP_ID, to: { userIds: users }, aps: { alert: 'Hi' } }, 240_000);
    expect(harness.simulator.inbox).toHaveLength(devices.length);
    expect(new Set(harness.inboxTokens()).size).toBe(devices.length);
  }, 300_000);

  it('its id is taken as the API takes it: a POST of the same job answers as if it had sent it and sends nothing again, another job is 409', async () => {
    const users = Array.from({ length: 1_001 }, (_, i) => `sqs-then-api-${i}-${Date.now()}`);
    const devices = await seedDevices(users, 1);
    const id = `published-${Date.now()}`;
    const job = { notificationId: id, appId: TEST_APP_ID, to: { userIds: users }, aps: { alert: 'Hi' } };
    await harness.deliver(job, 240_000);
    expect(harness.simulator.inbox).toHaveLength(devices.length);
    // Its parts are on the queue (the sender split it): a repeat must not put them there again.
    expect(await notificationRecord(id)).toMatchObject({ status: 'enqueued' });

    const again = await api('POST', '/v1/notifications', { backend: true, body: job });
    expect([again.status, again.body]).toEqual([
      202,
      { notificationId: id, recipients: { users: 1_001 }, parts: 2, jobs: 2, tracked: false },
    ]);
    const other = await api('POST', '/v1/notifications', {
      backend: true,
      body: { ...job, aps: { alert: 'Something else' } },
    });
    expect([other.status, other.body.error?.code]).toEqual([409, 'NotificationIdConflict']);
    await harness.source.idle(240_000);
    expect(harness.simulator.inbox).toHaveLength(devices.length);
    expect(await harness.deadLetters()).toEqual([]);
  }, 300_000);

  it('a POSTed job published again under its id is a repeat: nothing sent twice, nothing dead-lettered', async () => {
    const [token = ''] = await registerDevices(newUser(), 1);
    const job = alertJob({ tokens: [token] }, { notificationId: `api-then-sqs-${Date.now()}` });
    const first = await api('POST', '/v1/notifications', { backend: true, body: job });
    expect(first.status).toBe(202);
    await harness.source.idle();
    await harness.deliver(job);
    expect(harness.inboxTokens()).toEqual([token]);
    expect(await harness.deadLetters()).toEqual([]);
  });
});

async function notificationRecord(notificationId: string) {
  const { Item } = await db.send(
    new GetCommand({
      TableName: process.env.NOTIFICATIONS_TABLE_NAME,
      Key: { pk: `notification#${notificationId}`, sk: 'request' },
      ConsistentRead: true,
    }),
  );
  return Item;
}
