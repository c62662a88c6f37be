import { GetQueueAttributesCommand, PurgeQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
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
  to: { activityIds: ['order-1'] },
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
  [
    'a start addressed to activities',
    { ...start, to: { activityIds: ['order-1'] } },
    'InvalidLiveActivity',
    /userIds/,
  ],
  [
    'an update addressed to users',
    { ...update, to: { userIds: ['alice'] } },
    'InvalidLiveActivity',
    /activityIds/,
  ],
  [
    'a Live Activity push addressed to tokens',
    { ...update, to: { tokens: ['ab'.repeat(32)] } },
    'InvalidLiveActivity',
    /not tokens/,
  ],
  [
    'activityIds without the liveactivity push type',
    { ...update, apns: { pushType: 'alert' } },
    'InvalidLiveActivity',
    /liveactivity/,
  ],
  [
    'a malformed activity id',
    { ...update, to: { activityIds: ['order 1'] } },
    'InvalidRequest',
    /activity id/,
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
        TableName: process.env.NOTIFICATIONS_TABLE_NAME,
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
    const work = JSON.parse(Messages[0]?.Body ?? '{}');
    expect(work.job.aps.timestamp).toBeGreaterThan(1_700_000_000);
    expect(work.job.to).toEqual({ activityIds: ['order-1'] });
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
});
