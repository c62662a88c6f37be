import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dynamo } from '../../lambda/clients';
import { api, newToken } from '../support/api';
import { seedDevices } from '../support/seed';
import { alertJob, NO_GAPS, SenderHarness, senderMetrics } from '../support/sender-harness';

const harness = new SenderHarness();
beforeAll(() => harness.start(), 30_000);
afterAll(() => harness.stop());

const post = (body: unknown) => api('POST', '/v1/notifications', { backend: true, body });

/** Every page of a notification's report, following nextToken. */
async function allPages(id: string, limit?: number) {
  const pages = [];
  let nextToken: string | undefined;
  do {
    const query = new URLSearchParams({
      ...(limit === undefined ? {} : { limit: String(limit) }),
      ...(nextToken === undefined ? {} : { nextToken }),
    }).toString();
    const answer = await api('GET', `/v1/notifications/${id}${query === '' ? '' : `?${query}`}`, {
      backend: true,
    });
    expect(answer.status).toBe(200);
    pages.push(answer.body);
    nextToken = answer.body.nextToken;
  } while (nextToken !== undefined);
  return pages;
}

describe('whatever the API accepts, it delivers', () => {
  afterEach(() => harness.purge());

  it('50 000 tokens in one request: 202, each registered device once, the rest counted unregistered', async () => {
    const registered = (
      await seedDevices(
        Array.from({ length: 5_000 }, (_, i) => `tok-${i}`),
        1,
      )
    ).map((d) => d.token);
    const tokens = [...registered, ...Array.from({ length: 45_000 }, () => newToken())];
    const metrics = await senderMetrics(async () => {
      const answer = await post(alertJob({ tokens }, { notificationId: 'fifty-thousand-tokens' }));
      expect(answer.status).toBe(202);
      await harness.source.idle(600_000);
    });
    expect(harness.inboxGaps(registered)).toEqual(NO_GAPS);
    expect(metrics.NotificationsAccepted).toBe(5_000);
    expect(metrics.TokensNotRegistered).toBe(45_000);
    expect(await harness.deadLetters()).toEqual([]);
  }, 900_000);

  it('50 000 user ids in one request: 202, each device of theirs once', async () => {
    const userIds = Array.from({ length: 50_000 }, (_, i) => `fifty-${i}-${'x'.repeat(40)}`);
    const devices = await seedDevices(userIds.slice(0, 5_000), 1);
    const answer = await post(alertJob({ userIds }, { notificationId: 'fifty-thousand-users' }));
    expect(answer.status).toBe(202);
    await harness.source.idle(600_000);
    expect(harness.inboxGaps(devices.map((d) => d.token))).toEqual(NO_GAPS);
    expect(await harness.deadLetters()).toEqual([]);
  }, 900_000);
});

describe('paged status', () => {
  afterEach(() => harness.purge());

  it('paging through a 5 000-device tracked notification returns every device once; counts add up', async () => {
    const users = Array.from({ length: 2_500 }, (_, i) => `page-${i}`);
    const devices = await seedDevices(users, 2);
    expect(
      (await post(alertJob({ userIds: users }, { notificationId: 'paged', track: { receipts: true } })))
        .status,
    ).toBe(202);
    await harness.source.idle(600_000);

    for (const limit of [undefined, 700]) {
      const pages = await allPages('paged', limit);
      expect(pages).toHaveLength(Math.ceil(5_000 / (limit ?? 1_000)));
      const listed = pages.flatMap((page) => page.devices.map((d: { token: string }) => d.token));
      expect(listed).toHaveLength(5_000);
      expect(new Set(listed)).toEqual(new Set(devices.map((d) => d.token)));
      for (const page of pages) {
        expect(page.devices.length).toBeLessThanOrEqual(limit ?? 1_000);
        expect(page.counts).toEqual({
          devices: 5_000,
          queued: 0,
          accepted: 5_000,
          received: 0,
          opened: 0,
          pruned: 0,
          failed: 0,
        });
        expect(page.progress).toMatchObject({ parts: 3, partsDone: 3, chunksInProgress: 0, complete: true });
      }
    }
  }, 900_000);

  it.each([
    ['limit=0', 'InvalidLimit'],
    ['limit=1001', 'InvalidLimit'],
    ['limit=ten', 'InvalidLimit'],
    ['nextToken=not%20a%20token', 'InvalidNextToken'],
    [`nextToken=${Buffer.from('{"a":1}').toString('base64url')}`, 'InvalidNextToken'],
    ['page=2', 'UnknownQueryParameter'],
    ['limit=5&limit=6', 'InvalidLimit'],
  ])('GET ?%s → 400 %s', async (query, code) => {
    const answer = await api('GET', `/v1/notifications/paged?${query}`, { backend: true });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe(code);
  });
});

describe('tracking under a throttling DynamoDB', () => {
  const WRITES_PER_SECOND = 2;
  let throttled = 0;

  /**
   * Real DynamoDB throttles a partition past its write capacity; dynalite never does.
   * This makes the sender's DynamoDB client refuse any write to a partition key past
   * WRITES_PER_SECOND in the current second, as ProvisionedThroughputExceededException.
   */
  beforeAll(() => {
    const windows = new Map<string, { second: number; writes: number }>();
    dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        const command = context.commandName ?? '';
        const input = args.input as { Key?: { pk?: unknown }; Item?: { pk?: unknown } };
        const pk = input.Key?.pk ?? input.Item?.pk;
        const key = typeof pk === 'object' && pk !== null ? String((pk as { S?: string }).S) : String(pk);
        if (/^(Put|Update|Delete)/.test(command) && key.startsWith('notification#throttled')) {
          const second = Math.floor(Date.now() / 1000);
          const window = windows.get(key);
          const current = window?.second === second ? window : { second, writes: 0 };
          current.writes++;
          windows.set(key, current);
          if (current.writes > WRITES_PER_SECOND) {
            throttled++;
            throw new ProvisionedThroughputExceededException({
              message: 'The level of configured provisioned throughput for the table was exceeded.',
              $metadata: { httpStatusCode: 400 },
            });
          }
        }
        return next(args);
      },
      { step: 'deserialize', name: 'throttlePartitions' },
    );
  });
  afterAll(async () => {
    dynamo.middlewareStack.remove('throttlePartitions');
    await harness.purge();
  });

  it('a 10 000-device tracked send: 0 duplicates and 0 lost statuses', async () => {
    const users = Array.from({ length: 10_000 }, (_, i) => `throttled-${i}`);
    const devices = await seedDevices(users, 1);
    const answer = await post(
      alertJob({ userIds: users }, { notificationId: 'throttled', track: { receipts: true } }),
    );
    expect(answer.status).toBe(202);
    await harness.source.idle(600_000);

    expect(throttled).toBeGreaterThan(0);
    // Dead letters first: when a push is missing, their reasons say why.
    expect((await harness.deadLetters()).map(({ reason, detail }) => ({ reason, detail }))).toEqual([]);
    expect(harness.inboxGaps(devices.map((d) => d.token))).toEqual(NO_GAPS);
    const pages = await allPages('throttled');
    const statuses = pages.flatMap((page) => page.devices.map((d: { status: string }) => d.status));
    expect(statuses).toHaveLength(10_000);
    expect(new Set(statuses)).toEqual(new Set(['accepted']));
    expect(pages[0].counts.accepted).toBe(10_000);
  }, 900_000);
});

describe('receipts the moment a push lands', () => {
  /** Long enough that every receipt is in before the round is due, even on a slow, busy machine. */
  const REPUSH_AFTER_SECONDS = 15;

  it('300 devices acknowledge as each push arrives: all 204, none re-pushed', async () => {
    const devices = await seedDevices(
      Array.from({ length: 100 }, (_, i) => `landing-${i}`),
      3,
    );
    const owner = new Map(devices.map((d) => [d.token, d.userId]));
    await harness.purge();
    const acks: Promise<number>[] = [];
    let seen = 0;
    const watcher = setInterval(() => {
      const inbox = harness.simulator.inbox;
      for (; seen < inbox.length; seen++) {
        const token = inbox[seen]?.token as string;
        acks.push(
          api('POST', '/v1/notifications/landing/receipts', {
            as: owner.get(token) ?? 'nobody',
            body: { token, event: 'received' },
          }).then((answer) => answer.status),
        );
      }
    }, 1);
    try {
      const job = alertJob(
        { userIds: [...new Set(devices.map((d) => d.userId))] },
        {
          notificationId: 'landing',
          track: { receipts: true, repushAfterSeconds: REPUSH_AFTER_SECONDS, maxRepushes: 1 },
        },
      );
      expect((await post(job)).status).toBe(202);
      await expect.poll(() => acks.length, { timeout: 120_000 }).toBe(300);
      expect(new Set(await Promise.all(acks))).toEqual(new Set([204]));
      // The re-push round comes due and finds every device acknowledged.
      await new Promise((resolve) => setTimeout(resolve, (REPUSH_AFTER_SECONDS + 1) * 1000));
      await harness.source.idle(120_000);
    } finally {
      clearInterval(watcher);
    }
    expect(harness.inboxTokens()).toHaveLength(300);
    const [page] = await allPages('landing');
    expect(page.counts).toMatchObject({ devices: 300, received: 300 });
  }, 300_000);
});
