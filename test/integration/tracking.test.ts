import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  PACKED_TRACKING_ATTRIBUTE,
  trackingShardPks,
} from '../../lambda/adapters/secondary/notifications-keys';
import { apiPorts } from '../../lambda/composition/api';
import type { JobPart } from '../../lambda/domain/job-part';
import { normalizeSendJob, sendJobSchema } from '../../lambda/domain/send-job';
import { TRACKING_TTL_DAYS, unpackChunkTracking } from '../../lambda/domain/tracking';
import { ENVIRONMENT } from '../../lambda/environment';
import { recordIssued } from '../../lambda/use-cases/delivery/requeue';
import { api, newToken, newUser } from '../support/api';
import { alertJob, db, registerDevices, SenderHarness } from '../support/sender-harness';

const harness = new SenderHarness();
beforeAll(() => harness.start(), 30_000);
afterAll(() => harness.stop());
beforeEach(() => harness.purge());

const report = (id: string) => api('GET', `/v1/notifications/${id}`, { backend: true });
const ack = (id: string, as: string, token: string, event: string) =>
  api('POST', `/v1/notifications/${id}/receipts`, { as, body: { token, event } });
const statusOf = async (id: string, token: string) =>
  ((await report(id)).body.devices as { token: string; status: string }[]).find((d) => d.token === token)
    ?.status;

async function trackedSend(
  userIds: string[],
  id: string,
  track: Record<string, unknown> = { receipts: true },
) {
  const answer = await api('POST', '/v1/notifications', {
    backend: true,
    body: alertJob({ userIds }, { notificationId: id, track }),
  });
  expect(answer.status).toBe(202);
  await harness.source.idle();
}

describe('delivery tracking', () => {
  it('reports every device the job reaches as accepted, and totals', async () => {
    const alice = newUser('alice');
    const tokens = await registerDevices(alice, 2);
    await trackedSend([alice], 'tracked-1');
    const answer = await report('tracked-1');
    expect(answer.status).toBe(200);
    expect(answer.body.tracked).toBe(true);
    expect(answer.body.counts).toMatchObject({
      devices: 2,
      accepted: 2,
      received: 0,
      opened: 0,
      pruned: 0,
      failed: 0,
    });
    for (const device of answer.body.devices) {
      expect(tokens).toContain(device.token);
      expect(device).toMatchObject({
        userId: alice,
        status: 'accepted',
      });
      expect(Date.parse(device.acceptedAt)).toBeGreaterThan(0);
    }
  });

  it('records a pruned device with its reason', async () => {
    const bob = newUser('bob');
    const [token] = (await registerDevices(bob, 1)) as [string];
    harness.simulator.failToken(token, { status: 410, reason: 'Unregistered', timestamp: Date.now() + 1000 });
    await trackedSend([bob], 'tracked-pruned');
    expect((await report('tracked-pruned')).body.devices).toEqual([
      expect.objectContaining({ token, status: 'pruned', reason: 'Unregistered' }),
    ]);
  });

  it('untracked sends write no tracking data', async () => {
    const carol = newUser('carol');
    await registerDevices(carol, 1);
    await api('POST', '/v1/notifications', {
      backend: true,
      body: alertJob({ userIds: [carol] }, { notificationId: 'untracked-1' }),
    });
    await harness.source.idle();
    const answer = await report('untracked-1');
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ tracked: false, devices: [] });
    expect((await report('never-sent')).status).toBe(404);
  });

  it('tracking items carry a TTL', async () => {
    const dave = newUser('dave');
    const [token] = (await registerDevices(dave, 1)) as [string];
    await trackedSend([dave], 'tracked-ttl');
    expect((await ack('tracked-ttl', dave, token, 'received')).status).toBe(204);
    const items = [];
    for (const pk of trackingShardPks('tracked-ttl')) {
      const { Items = [] } = await db.send(
        new QueryCommand({
          TableName: process.env[ENVIRONMENT.notificationsTable],
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk },
        }),
      );
      items.push(...Items);
    }
    const kinds = items.map((item) => String(item.sk).split('#')[0]);
    expect(kinds.sort()).toEqual(['progress', 'receipt', 'recipients']);
    expect(
      items.find((item) => String(item.sk).startsWith('progress#'))?.[PACKED_TRACKING_ATTRIBUTE],
    ).toBeInstanceOf(Uint8Array);
    for (const item of items) {
      const days = ((item.expiresAt as number) - Date.now() / 1000) / 86_400;
      expect(days).toBeGreaterThan(TRACKING_TTL_DAYS - 1);
      expect(days).toBeLessThanOrEqual(TRACKING_TTL_DAYS);
    }
  });

  it('chunk records and recipient buckets written before tracking was packed (as text) read the same', async () => {
    const erin = newUser('erin');
    const tokens = await registerDevices(erin, 2);
    await trackedSend([erin], 'tracked-text');
    const before = (await report('tracked-text')).body;
    const table = process.env[ENVIRONMENT.notificationsTable];
    let rewritten = 0;
    for (const pk of trackingShardPks('tracked-text')) {
      const { Items = [] } = await db.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk },
        }),
      );
      for (const { [PACKED_TRACKING_ATTRIBUTE]: packed, ...item } of Items) {
        if (packed instanceof Uint8Array) {
          await db.send(
            new PutCommand({ TableName: table, Item: { ...item, ...unpackChunkTracking(packed) } }),
          );
          rewritten++;
        }
        if (item.hashes instanceof Uint8Array) {
          const hashes = Buffer.from(item.hashes).toString('hex');
          await db.send(new PutCommand({ TableName: table, Item: { ...item, hashes } }));
          rewritten++;
        }
      }
    }
    // The chunk record and the recipients bucket.
    expect(rewritten).toBe(2);
    const after = (await report('tracked-text')).body;
    expect(after).toEqual(before);
    expect(after.devices.map((device: { token: string }) => device.token).sort()).toEqual([...tokens].sort());
    expect((await ack('tracked-text', erin, tokens[0] ?? '', 'received')).status).toBe(204);
    expect((await ack('tracked-text', newUser('stranger'), tokens[0] ?? '', 'received')).status).toBe(404);
  });
});

describe('receipts', () => {
  it('received, then opened; repeats are idempotent and received never downgrades opened', async () => {
    const erin = newUser('erin');
    const [token] = (await registerDevices(erin, 1)) as [string];
    await trackedSend([erin], 'ack-1');
    expect((await ack('ack-1', erin, token, 'received')).status).toBe(204);
    expect(await statusOf('ack-1', token)).toBe('received');
    expect((await ack('ack-1', erin, token, 'received')).status).toBe(204);
    expect((await ack('ack-1', erin, token.toUpperCase(), 'opened')).status).toBe(204);
    expect(await statusOf('ack-1', token)).toBe('opened');
    expect((await ack('ack-1', erin, token, 'received')).status).toBe(204);
    const device = (await report('ack-1')).body.devices[0];
    expect(device).toMatchObject({
      status: 'opened',
      receivedAt: expect.any(String),
      openedAt: expect.any(String),
    });
  });

  it("another user's receipt for my device is 404 and changes nothing", async () => {
    const frank = newUser('frank');
    const [token] = (await registerDevices(frank, 1)) as [string];
    await trackedSend([frank], 'ack-2');
    const answer = await ack('ack-2', newUser('mallory'), token, 'opened');
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('ReceiptNotFound');
    expect(await statusOf('ack-2', token)).toBe('accepted');
  });

  it('receipts for untracked or unknown notifications, or a non-recipient device, are 404', async () => {
    const gina = newUser('gina');
    const [token] = (await registerDevices(gina, 1)) as [string];
    await api('POST', '/v1/notifications', {
      backend: true,
      body: alertJob({ userIds: [gina] }, { notificationId: 'ack-untracked' }),
    });
    await harness.source.idle();
    expect((await ack('ack-untracked', gina, token, 'received')).status).toBe(404);
    expect((await ack('no-such-notification', gina, token, 'received')).status).toBe(404);
    await trackedSend([gina], 'ack-3');
    expect((await ack('ack-3', gina, newToken(), 'received')).status).toBe(404);
  });

  it('a tracked job published straight to the queue takes receipts from its recipients only', async () => {
    const kim = newUser('kim');
    const [token] = (await registerDevices(kim, 1)) as [string];
    const lou = newUser('lou');
    const [other] = (await registerDevices(lou, 1)) as [string];
    await harness.deliver(
      alertJob({ userIds: [kim] }, { notificationId: 'ack-published', track: { receipts: true } }),
    );
    expect((await ack('ack-published', kim, token, 'opened')).status).toBe(204);
    expect(await statusOf('ack-published', token)).toBe('opened');
    expect((await ack('ack-published', lou, other, 'opened')).status).toBe(404);
    const report_ = (await report('ack-published')).body;
    expect(report_.progress).toMatchObject({ parts: 1, partsDone: 1, complete: true });
  });

  it.each([
    ['no token', { event: 'received' }, 'InvalidRequest'],
    ['unknown event', { token: 'ab'.repeat(32), event: 'seen' }, 'InvalidRequest'],
    ['unknown field', { token: 'ab'.repeat(32), event: 'opened', at: 'now' }, 'UnknownField'],
    [
      'iOS 13 description token',
      { token: '{length = 32, bytes = 0xab12 }', event: 'opened' },
      'InvalidDeviceToken',
    ],
    ['token a number', { token: 42, event: 'opened' }, 'InvalidRequest'],
  ])('bad receipt body: %s → 400 %s', async (_name, body, code) => {
    const answer = await api('POST', '/v1/notifications/ack-1/receipts', { as: newUser(), body });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe(code);
  });

  it('a notification id that cannot exist is 400', async () => {
    const answer = await api('POST', `/v1/notifications/${encodeURIComponent('a b')}/receipts`, {
      as: newUser(),
      body: { token: 'ab'.repeat(32), event: 'opened' },
    });
    expect(answer.status).toBe(400);
  });
});

describe('re-push of what was not acknowledged', () => {
  it('reaches exactly the unacknowledged devices, with the same collapse id, and stops after maxRepushes', async () => {
    const hank = newUser('hank');
    const [acked, silent] = (await registerDevices(hank, 2)) as [string, string];
    const sent = await api('POST', '/v1/notifications', {
      backend: true,
      body: alertJob(
        { userIds: [hank] },
        { notificationId: 'repush-1', track: { receipts: true, repushAfterSeconds: 2, maxRepushes: 2 } },
      ),
    });
    expect(sent.status).toBe(202);
    // The app acknowledges on one device before the re-push is due.
    await expect.poll(() => harness.inboxTokens().length, { timeout: 60_000 }).toBe(2);
    expect((await ack('repush-1', hank, acked, 'received')).status).toBe(204);
    await harness.source.idle(120_000);

    const pushed = harness.simulator.inbox.filter((entry) => [acked, silent].includes(entry.token));
    expect(pushed.filter((e) => e.token === acked)).toHaveLength(1);
    expect(pushed.filter((e) => e.token === silent)).toHaveLength(3);
    expect(new Set(pushed.map((e) => e.headers['apns-collapse-id']))).toEqual(new Set(['repush-1']));
    const device = ((await report('repush-1')).body.devices as { token: string; repushes?: number }[]).find(
      (d) => d.token === silent,
    );
    expect(device?.repushes).toBe(2);
  }, 180_000);

  it('an acknowledgement after the first re-push stops the next one', async () => {
    const ivy = newUser('ivy');
    const [token] = (await registerDevices(ivy, 1)) as [string];
    await api('POST', '/v1/notifications', {
      backend: true,
      body: alertJob(
        { userIds: [ivy] },
        { notificationId: 'repush-2', track: { receipts: true, repushAfterSeconds: 2, maxRepushes: 3 } },
      ),
    });
    await expect
      .poll(() => harness.inboxTokens().filter((t) => t === token).length, { timeout: 60_000 })
      .toBe(2);
    expect((await ack('repush-2', ivy, token, 'opened')).status).toBe(204);
    await harness.source.idle(120_000);
    expect(harness.inboxTokens().filter((t) => t === token)).toHaveLength(2);
  }, 180_000);
});

describe('re-push scheduling past SQS delays', () => {
  it('a round not yet due is passed on with the rest of its delay, and sent only once due', async () => {
    const jack = newUser('jack');
    const [token] = (await registerDevices(jack, 1)) as [string];
    await trackedSend([jack], 'repush-chain');
    harness.simulator.clearInbox();
    const job = alertJob({ userIds: [jack] }, { notificationId: 'repush-chain', track: { receipts: true } });
    const dueAt = Date.now() + 3_000;
    const round = {
      pushgate: 'work/v1',
      job: normalizeSendJob(sendJobSchema.parse(job), 'repush-chain'),
      part: '0/0r1',
      attempt: 0,
      devices: [{ token, userId: jack, appId: job.appId, environment: 'production' }],
      repush: { round: 1, dueAt },
    } satisfies JobPart;
    // A round the sender queued: it records each round it writes, and refuses any other.
    await recordIssued(apiPorts, 'repush-chain', [round]);
    await harness.deliver(round);
    expect(harness.inboxTokens()).toEqual([token]);
    expect(Date.parse(harness.simulator.inbox[0]?.receivedAt ?? '')).toBeGreaterThanOrEqual(dueAt - 1000);
  });
});
