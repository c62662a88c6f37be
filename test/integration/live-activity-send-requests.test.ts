import {
  GetQueueAttributesCommand,
  type Message,
  PurgeQueueCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_USER_ID_LENGTH } from '../../lambda/domain/user';
import { ENVIRONMENT } from '../../lambda/environment';
import { api } from '../support/api';
import { TEST_APP_ID } from '../support/embedded-services';
import { db, sendQueueUrl, sqs } from '../support/sender-harness';

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

const liveActivity = { pushType: 'liveactivity' };
const start = {
  appId: TEST_APP_ID,
  to: { userIds: ['alice'] },
  apns: liveActivity,
  aps: {
    event: 'start',
    'attributes-type': 'DeliveryAttributes',
    attributes: { activityId: 'order-1' },
    'content-state': { eta: 10 },
    alert: { title: 'On its way', body: 'Your order left the shop' },
  },
};
const update = {
  appId: TEST_APP_ID,
  to: { activities: [{ userId: 'alice', activityId: 'order-1' }] },
  apns: liveActivity,
  aps: { event: 'update', 'content-state': { eta: 5 } },
};
const without = (aps: Record<string, unknown>, key: string) =>
  Object.fromEntries(Object.entries(aps).filter(([name]) => name !== key));

/** [name, body, code, what the message must say]. */
const badBodies: [string, unknown, string, RegExp][] = [
  [
    'a start without attributes',
    { ...start, aps: without(start.aps, 'attributes') },
    'MissingLiveActivityKey',
    /aps\.attributes"/,
  ],
  [
    'a start without attributes-type',
    { ...start, aps: without(start.aps, 'attributes-type') },
    'MissingLiveActivityKey',
    /attributes-type/,
  ],
  [
    'a start without content-state',
    { ...start, aps: without(start.aps, 'content-state') },
    'MissingLiveActivityKey',
    /content-state/,
  ],
  [
    'a start without alert',
    { ...start, aps: without(start.aps, 'alert') },
    'MissingLiveActivityKey',
    /alert/,
  ],
  [
    'an update without content-state',
    { ...update, aps: { event: 'update' } },
    'MissingLiveActivityKey',
    /content-state/,
  ],
  [
    'a Live Activity push without event',
    { ...update, aps: { 'content-state': {} } },
    'MissingLiveActivityKey',
    /aps\.event/,
  ],
  ['a start addressed to activities', { ...start, to: update.to }, 'InvalidLiveActivity', /userIds/],
  [
    'an update addressed to users',
    { ...update, to: { userIds: ['alice'] } },
    'InvalidLiveActivity',
    /"activities"/,
  ],
  [
    'a Live Activity push addressed to tokens',
    { ...update, to: { tokens: ['ab'.repeat(32)] } },
    'InvalidLiveActivity',
    /not tokens/,
  ],
  [
    'activities without the liveactivity push type',
    { ...update, apns: { pushType: 'alert' } },
    'InvalidLiveActivity',
    /liveactivity/,
  ],
  [
    'the old form: activity ids without their users',
    { ...update, to: { activityIds: ['order-1'] } },
    'ActivityOwnerRequired',
    /"to": .*name the user of each activity.*anyone who registered/,
  ],
  [
    'a pair without its user',
    { ...update, to: { activities: [{ activityId: 'order-1' }] } },
    'InvalidRequest',
    /"to\.activities\.0\.userId"/,
  ],
  [
    'a pair without its activity id',
    { ...update, to: { activities: [{ userId: 'alice' }] } },
    'InvalidRequest',
    /"to\.activities\.0\.activityId"/,
  ],
  [
    'a malformed activity id',
    { ...update, to: { activities: [{ userId: 'alice', activityId: 'order 1' }] } },
    'InvalidRequest',
    /activity id/,
  ],
  [
    'a user id no route could name',
    { ...update, to: { activities: [{ userId: 'alice/admin', activityId: 'order-1' }] } },
    'InvalidRequest',
    /user id/,
  ],
  [
    'too many pairs',
    {
      ...update,
      to: { activities: Array.from({ length: 50_001 }, (_, i) => ({ userId: `u${i}`, activityId: 'o' })) },
    },
    'InvalidRequest',
    /at most 50000 activities/,
  ],
  [
    'an unknown field in a pair',
    { ...update, to: { activities: [{ userId: 'alice', activityId: 'order-1', appId: TEST_APP_ID }] } },
    'UnknownField',
    /"appId" in "to\.activities\.0"/,
  ],
  [
    'a bare activity id in place of a pair',
    { ...update, to: { activities: ['order-1'] } },
    'InvalidRequest',
    /"to\.activities\.0"/,
  ],
  ['an unknown event', { ...update, aps: { ...update.aps, event: 'pause' } }, 'InvalidRequest', /event/],
];

describe('Live Activity send requests', () => {
  const purge = async () => {
    await sqs.send(new PurgeQueueCommand({ QueueUrl: sendQueueUrl() }));
  };
  beforeEach(purge);
  afterAll(purge);

  it.each(badBodies)('%s → 400 %s, nothing enqueued or stored', async (_name, body, code, message) => {
    const notificationId = `bad-la-${Math.random().toString(36).slice(2)}`;
    const answer = await api('POST', '/v1/notifications', {
      backend: true,
      body: { notificationId, ...(body as object) },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe(code);
    expect(answer.body.error.message).toMatch(message);
    expect(await queued()).toBe(0);
    const record = await db.send(
      new GetCommand({
        TableName: process.env[ENVIRONMENT.notificationsTable],
        Key: { pk: `notification#${notificationId}`, sk: 'request' },
      }),
    );
    expect(record.Item).toBeUndefined();
  });

  it('accepts a good start and update; the queued job carries a timestamp, a repeat is the same job', async () => {
    const notificationId = `la-${Math.random().toString(36).slice(2)}`;
    const first = await api('POST', '/v1/notifications', {
      backend: true,
      body: { notificationId, ...update },
    });
    expect(first.status).toBe(202);
    expect(first.body.recipients).toEqual({ activities: 1 });
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: sendQueueUrl(), MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    expect(Messages).toHaveLength(1);
    const jobPart = JSON.parse(Messages[0]?.Body ?? '{}');
    expect(jobPart.job.aps.timestamp).toBeGreaterThan(1_700_000_000);
    expect(jobPart.job.to).toEqual(update.to);
    // The filled timestamp is not part of the job's identity: repeating the request is no conflict.
    const repeat = await api('POST', '/v1/notifications', {
      backend: true,
      body: { notificationId, ...update },
    });
    expect(repeat.status).toBe(202);
    expect(repeat.body).toEqual(first.body);
    const started = await api('POST', '/v1/notifications', { backend: true, body: start });
    expect(started.status).toBe(202);
  });

  it('the same id for another user’s activity is another job: 409 NotificationIdConflict, nothing more enqueued', async () => {
    const notificationId = `la-${Math.random().toString(36).slice(2)}`;
    const first = await api('POST', '/v1/notifications', {
      backend: true,
      body: { notificationId, ...update },
    });
    expect(first.status).toBe(202);
    await purge();
    const mallorys = { activities: [{ userId: 'mallory', activityId: 'order-1' }] };
    const other = await api('POST', '/v1/notifications', {
      backend: true,
      body: { notificationId, ...update, to: mallorys },
    });
    expect([other.status, other.body.error.code]).toEqual([409, 'NotificationIdConflict']);
    expect(await queued()).toBe(0);
  });

  it('duplicate pairs count once; the queued job names each activity once', async () => {
    const pair = { userId: 'alice', activityId: 'order-9' };
    const answer = await api('POST', '/v1/notifications', {
      backend: true,
      body: { ...update, to: { activities: [pair, { activityId: 'order-9', userId: 'alice' }, pair] } },
    });
    expect(answer.status).toBe(202);
    expect(answer.body.recipients).toEqual({ activities: 1 });
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: sendQueueUrl(), MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    expect(Messages.map((message) => JSON.parse(message.Body ?? '{}').job.to)).toEqual([
      { activities: [pair] },
    ]);
  });

  it('12 000 pairs of the longest ids allowed (5 MB): 202, every pair on the queue once, each message ASCII and within SQS limits', async () => {
    const activities = Array.from({ length: 12_000 }, (_, i) => ({
      userId: `${i}-${'u'.repeat(MAX_USER_ID_LENGTH - String(i).length - 1)}`,
      activityId: `${'a'.repeat(120)}${String(i).padStart(8, '0')}`,
    }));
    const answer = await api('POST', '/v1/notifications', {
      backend: true,
      body: { ...update, to: { activities } },
    });
    expect(answer.status).toBe(202);
    expect(answer.body.recipients).toEqual({ activities: 12_000 });
    const messages: Message[] = [];
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: sendQueueUrl(),
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 60,
        }),
      );
      if (Messages.length === 0) break;
      messages.push(...Messages);
    }
    expect(messages).toHaveLength(answer.body.parts);
    const queuedPairs: string[] = [];
    for (const message of messages) {
      const text = message.Body ?? '';
      expect(text).toMatch(/^[\x20-\x7e]*$/);
      expect(text.length).toBeLessThanOrEqual(1024 * 1024);
      for (const pair of JSON.parse(text).job.to.activities)
        queuedPairs.push(`${pair.userId} ${pair.activityId}`);
    }
    expect(queuedPairs.sort()).toEqual(activities.map((pair) => `${pair.userId} ${pair.activityId}`).sort());
  }, 300_000);
});
