import { GetQueueAttributesCommand, PurgeQueueCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_SEND_BODY_BYTES } from '../../lambda/adapters/primary/send-notification/limits';
import { MAX_JOBS_PER_BATCH } from '../../lambda/adapters/primary/send-notification-batch/schema';
import { ENVIRONMENT } from '../../lambda/environment';
import { api, newUser } from '../support/api';
import { TEST_APP_ID } from '../support/embedded-services';
import { seedDevices } from '../support/seed';
import { db, SenderHarness, sendQueueUrl, sqs } from '../support/sender-harness';

const PATH = '/v1/notification-batches';
let run = 0;
/** A one-user job with its own notification id. */
const chatJob = (id: string, extra: Record<string, unknown> = {}) => ({
  notificationId: id,
  appId: TEST_APP_ID,
  to: { userIds: [`user-of-${id}`] },
  aps: { alert: { title: 'Ann', body: 'See you at eight?' } },
  ...extra,
});
const ids = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `batch-${run}-${prefix}-${i}`);

async function queued(): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: sendQueueUrl(),
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return Object.values(Attributes).reduce((sum, n) => sum + Number(n), 0);
}

/** The stored request record of a notification id, if any. */
async function stored(notificationId: string): Promise<Record<string, unknown> | undefined> {
  const { Item } = await db.send(
    new GetCommand({
      TableName: process.env[ENVIRONMENT.notificationsTable],
      Key: { pk: `notification#${notificationId}`, sk: 'request' },
      ConsistentRead: true,
    }),
  );
  return Item;
}

const send = (body: unknown) => api('POST', PATH, { backend: true, body });

describe('POST /v1/notification-batches: what is not a batch is refused as a whole', () => {
  beforeEach(async () => {
    run++;
    await sqs.send(new PurgeQueueCommand({ QueueUrl: sendQueueUrl() }));
  });

  const refusals: [string, () => { body?: unknown; rawBody?: string }, number, string, RegExp][] = [
    [
      'notifications is not a list',
      () => ({ body: { notifications: chatJob(ids('x', 1)[0] as string) } }),
      400,
      'InvalidRequest',
      /notifications/,
    ],
    [
      'the body is a list of jobs',
      () => ({ body: ids('x', 2).map((id) => chatJob(id)) }),
      400,
      'InvalidRequest',
      /./,
    ],
    ['no notifications field', () => ({ body: {} }), 400, 'InvalidRequest', /notifications/],
    ['an empty list', () => ({ body: { notifications: [] } }), 400, 'InvalidRequest', /at least one/],
    [
      `${MAX_JOBS_PER_BATCH + 1} jobs`,
      () => ({ body: { notifications: ids('x', MAX_JOBS_PER_BATCH + 1).map((id) => chatJob(id)) } }),
      400,
      'InvalidRequest',
      new RegExp(`at most ${MAX_JOBS_PER_BATCH}`),
    ],
    [
      'a field besides notifications',
      () => ({ body: { notifications: [chatJob(ids('x', 1)[0] as string)], dryRun: true } }),
      400,
      'UnknownField',
      /dryRun/,
    ],
    [
      'malformed JSON',
      () => ({ rawBody: `{"notifications":[${JSON.stringify(chatJob(ids('x', 1)[0] as string))}` }),
      400,
      'MalformedJson',
      /./,
    ],
    [
      'a body over the byte limit',
      () => ({
        body: {
          notifications: [
            chatJob(ids('x', 1)[0] as string, { data: { blob: 'x'.repeat(MAX_SEND_BODY_BYTES) } }),
          ],
        },
      }),
      413,
      'RequestTooLarge',
      /./,
    ],
  ];

  it.each(refusals.map(([name, make, status, code, message]) => ({ name, make, status, code, message })))(
    '$name → $status $code, nothing stored or queued',
    async ({ make, status, code, message }) => {
      const request = make();
      const answer = await api('POST', PATH, { backend: true, ...request });
      expect([answer.status, answer.body.error?.code]).toEqual([status, code]);
      expect(answer.body.error.message).toMatch(message);
      expect(Object.keys(answer.body)).toEqual(['error']);
      for (const id of ids('x', MAX_JOBS_PER_BATCH + 1).slice(0, 3)) expect(await stored(id)).toBeUndefined();
      expect(await queued()).toBe(0);
    },
  );
});

describe('POST /v1/notification-batches: each job on its own', () => {
  beforeEach(async () => {
    run++;
    await sqs.send(new PurgeQueueCommand({ QueueUrl: sendQueueUrl() }));
  });

  it('answers each job in request order; a bad job is refused alone and nothing of it is stored', async () => {
    const [good1, bad1, good2, bad2, bad3, good3] = ids('mixed', 6) as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const answer = await send({
      notifications: [
        chatJob(good1),
        chatJob(bad1, { appId: 'com.other.app' }),
        chatJob(good2),
        { ...chatJob(bad2), userId: 'alice' },
        chatJob(bad3, { aps: { alert: { body: 'x'.repeat(5000) } } }),
        chatJob(good3),
        { appId: TEST_APP_ID, aps: { alert: 'no recipients' } },
      ],
    });
    expect(answer.status).toBe(200);
    expect(
      answer.body.results.map((r: { status: number; error?: { code: string } }) => [r.status, r.error?.code]),
    ).toEqual([
      [202, undefined],
      [400, 'UnknownApp'],
      [202, undefined],
      [400, 'UnknownField'],
      [413, 'PayloadTooLarge'],
      [202, undefined],
      [400, 'InvalidRequest'],
    ]);
    expect(answer.body.results.slice(0, 6).map((r: { notificationId: string }) => r.notificationId)).toEqual([
      good1,
      bad1,
      good2,
      bad2,
      bad3,
      good3,
    ]);
    expect(answer.body.results[6]).not.toHaveProperty('notificationId');
    for (const result of answer.body.results.filter((r: { status: number }) => r.status !== 202))
      expect(result.error.message).toMatch(/^[A-Z"].{10,}/);
    for (const id of [bad1, bad2, bad3]) expect(await stored(id)).toBeUndefined();
    for (const id of [good1, good2, good3]) expect(await stored(id)).toMatchObject({ notificationId: id });
    expect(await queued()).toBe(3);
  });

  it('an id named twice in one batch is taken once: the same job gets the same 202, another job 409', async () => {
    const [same, clash] = ids('twice', 2) as [string, string];
    const answer = await send({
      notifications: [
        chatJob(same),
        chatJob(clash),
        chatJob(same),
        chatJob(clash, { aps: { alert: 'something else' } }),
      ],
    });
    expect(answer.status).toBe(200);
    expect(answer.body.results).toEqual([
      { notificationId: same, status: 202 },
      { notificationId: clash, status: 202 },
      { notificationId: same, status: 202 },
      {
        notificationId: clash,
        status: 409,
        error: { code: 'NotificationIdConflict', message: expect.stringContaining(clash) },
      },
    ]);
    expect(await queued()).toBe(2);
    // The id keeps the first job: repeating it is a repeat, the other one a conflict.
    const again = await api('POST', '/v1/notifications', { backend: true, body: chatJob(clash) });
    expect(again.status).toBe(202);
    expect(await queued()).toBe(2);
  });

  it('an id another job already took answers 409 for that job only; a repeat of an accepted job answers 202 and queues nothing', async () => {
    const [taken, repeated, fresh] = ids('taken', 3) as [string, string, string];
    expect((await api('POST', '/v1/notifications', { backend: true, body: chatJob(taken) })).status).toBe(
      202,
    );
    expect((await send({ notifications: [chatJob(repeated)] })).status).toBe(200);
    expect(await queued()).toBe(2);
    const answer = await send({
      notifications: [
        chatJob(taken, { aps: { alert: 'a different message' } }),
        chatJob(repeated),
        chatJob(fresh),
      ],
    });
    expect(
      answer.body.results.map((r: { status: number; error?: { code: string } }) => [r.status, r.error?.code]),
    ).toEqual([
      [409, 'NotificationIdConflict'],
      [202, undefined],
      [202, undefined],
    ]);
    expect(await stored(taken)).toMatchObject({ answer: { recipients: { users: 1 } } });
    expect(await queued()).toBe(3);
  });
});

describe('POST /v1/notification-batches: delivery', () => {
  const harness = new SenderHarness();
  beforeAll(() => harness.start(), 30_000);
  afterAll(() => harness.stop());

  it(`a batch of ${MAX_JOBS_PER_BATCH} one-user jobs reaches each user's device exactly once`, async () => {
    await harness.purge();
    const users = Array.from({ length: MAX_JOBS_PER_BATCH }, () => newUser('chat'));
    const devices = await seedDevices(users, 1);
    const notifications = users.map((userId, i) => ({
      notificationId: `chat-${run}-${i}-${userId}`.slice(0, 128),
      appId: TEST_APP_ID,
      to: { userIds: [userId] },
      aps: { alert: { title: 'Ann', body: `message ${i}` } },
    }));
    const answer = await send({ notifications });
    expect(answer.status).toBe(200);
    expect(answer.body.results.every((r: { status: number }) => r.status === 202)).toBe(true);
    await harness.source.idle(300_000);
    const inbox = harness.simulator.inbox.map((entry) => ({
      token: entry.token,
      id: (entry.payload as { pushgate: { id: string } }).pushgate.id,
    }));
    expect(inbox).toHaveLength(MAX_JOBS_PER_BATCH);
    const expected = devices.map((device) => ({
      token: device.token,
      id: notifications[users.indexOf(device.userId)]?.notificationId,
    }));
    const byToken = (a: { token: string }, b: { token: string }) => a.token.localeCompare(b.token);
    expect(inbox.sort(byToken)).toEqual(expected.sort(byToken));
    expect(await harness.deadLetters()).toEqual([]);
  }, 360_000);
});
