import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { progressKey } from '../../lambda/adapters/secondary/notifications-keys';
import { dynamo } from '../../lambda/clients';
import { partsOf } from '../../lambda/domain/job-part';
import type { SendJob } from '../../lambda/domain/send-job';
import { api, newUser } from '../support/api';
import { alertJob, registerDevices, SenderHarness } from '../support/sender-harness';
import {
  allAccepted,
  invokeSender,
  notificationStatus,
  notificationsItem,
  once,
  pushesOf as probePushes,
  received,
} from '../support/sender-probes';

// Hostile probes of the lean path (one user or a few, untracked): faults between its
// steps, and what the status says after each.
const harness = new SenderHarness();
beforeAll(() => harness.start(), 30_000);
afterAll(() => harness.stop());
beforeEach(async () => {
  await harness.purge();
  harness.simulator.clearFaults();
});

const item = notificationsItem;
const status = notificationStatus;
const pushesOf = (notificationId: string) => probePushes(harness, notificationId);

/** The request record's key value as a command carries it (marshalled or not). */
function pkOf(input: Record<string, unknown>): string | undefined {
  const source = (input.Key ?? input.Item) as Record<string, unknown> | undefined;
  const value = source?.pk;
  return typeof value === 'string' ? value : (value as { S?: string } | undefined)?.S;
}

/**
 * A fault for the next DynamoDB command `matches` picks: run `before` ahead of it, or
 * fail it (`fail`) as a crash or a service error would.
 */
interface Fault {
  matches: (command: string, input: Record<string, unknown>) => boolean;
  before?: () => Promise<unknown>;
  fail?: boolean;
  times?: number;
}
let faults: Fault[] = [];
class InjectedFault extends Error {}

beforeAll(() => {
  dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      const fault = faults.find((f) => f.matches(context.commandName ?? '', input));
      if (fault !== undefined) {
        fault.times = (fault.times ?? 1) - 1;
        if (fault.times <= 0) faults = faults.filter((f) => f !== fault);
        await fault.before?.();
        if (fault.fail) throw new InjectedFault(`injected failure of ${context.commandName}`);
      }
      return next(args);
    },
    { step: 'initialize', name: 'leanAttackFaults' },
  );
});
afterAll(() => dynamo.middlewareStack.remove('leanAttackFaults'));
afterEach(() => {
  faults = [];
});

const isClaimWrite = (command: string, input: Record<string, unknown>) =>
  (command === 'UpdateItemCommand' && String(input.UpdateExpression ?? '').startsWith('SET claimedBy')) ||
  (command === 'PutItemCommand' &&
    (input.Item as Record<string, unknown> | undefined)?.claimedBy !== undefined);

describe('lean jobs and the privacy rule', () => {
  it.each([
    ['published to the queue', false],
    ['through the API', true],
  ])('a device signed out while the job is being claimed (%s) gets nothing', async (_, viaApi) => {
    const user = newUser('lean-privacy');
    const [kept, leaving] = (await registerDevices(user, 2)) as [string, string];
    const id = `lean-signout-${viaApi}-${Date.now()}`;
    const job = alertJob({ userIds: [user] }, { notificationId: id });
    let signedOut = false;
    faults.push({
      matches: (command, input) => isClaimWrite(command, input) && pkOf(input)?.includes(id) === true,
      before: async () => {
        const answer = await api('DELETE', `/v1/devices/${leaving}`, { as: user });
        expect(answer.status).toBe(204);
        signedOut = true;
      },
    });
    if (viaApi) {
      expect((await api('POST', '/v1/notifications', { backend: true, body: job })).status).toBe(202);
      await harness.source.idle();
    } else {
      await harness.deliver(job);
    }
    expect(signedOut).toBe(true);
    expect(pushesOf(id)).toEqual(once([kept]));
  });
});

/** The API's write that takes a lean job's id (after its part is on the queue): a put of the request record, unclaimed. */
const isApiIdWrite = (id: string) => (command: string, input: Record<string, unknown>) =>
  command === 'PutItemCommand' &&
  pkOf(input)?.includes(id) === true &&
  (input.Item as Record<string, unknown> | undefined)?.claimedBy === undefined;

describe('the API failing between its enqueue and its id write', () => {
  it('answers 500, the queued job is delivered once; the retry answers 202 and sends nothing again; another job is 409', async () => {
    const user = newUser('lean-api-fault');
    const tokens = await registerDevices(user, 2);
    const id = `lean-api-fault-${Date.now()}`;
    const job = alertJob({ userIds: [user] }, { notificationId: id });
    faults.push({ matches: isApiIdWrite(id), fail: true });
    const first = await api('POST', '/v1/notifications', { backend: true, body: job });
    expect(first.status).toBe(500);
    expect(first.body.error.code).toBe('InternalError');
    await harness.source.idle();
    // The part the API queued took the id as the API would have: delivered once.
    expect(pushesOf(id)).toEqual(once(tokens));
    const retry = await api('POST', '/v1/notifications', { backend: true, body: job });
    expect(retry.status).toBe(202);
    expect(retry.body).toEqual({
      notificationId: id,
      recipients: { users: 1 },
      parts: 1,
      jobs: 1,
      tracked: false,
    });
    await harness.source.idle();
    expect(pushesOf(id)).toEqual(once(tokens));
    expect(await status(id)).toEqual(allAccepted(id, 2));
    const other = alertJob({ userIds: [newUser('other')] }, { notificationId: id });
    expect((await api('POST', '/v1/notifications', { backend: true, body: other })).status).toBe(409);
    expect(await harness.deadLetters()).toEqual([]);
  });

  it('a batch whose one id write fails answers 500; its retry answers every job 202 and each device gets each job once', async () => {
    const users = [newUser('lean-batch-fault'), newUser('lean-batch-fault'), newUser('lean-batch-fault')];
    const tokens = await Promise.all(users.map((user) => registerDevices(user, 1)));
    const run = Date.now();
    const ids = users.map((_, i) => `lean-batch-fault-${run}-${i}`);
    const notifications = users.map((user, i) => alertJob({ userIds: [user] }, { notificationId: ids[i] }));
    faults.push({ matches: isApiIdWrite(ids[1] as string), fail: true });
    const first = await api('POST', '/v1/notification-batches', { backend: true, body: { notifications } });
    expect(first.status).toBe(500);
    await harness.source.idle();
    const retry = await api('POST', '/v1/notification-batches', { backend: true, body: { notifications } });
    expect(retry.status).toBe(200);
    expect(retry.body.results.map((result: { status: number }) => result.status)).toEqual([202, 202, 202]);
    await harness.source.idle();
    ids.forEach((id, i) => {
      expect(pushesOf(id)).toEqual(once(tokens[i] as string[]));
    });
    for (const id of ids) expect(await status(id)).toEqual(allAccepted(id, 1));
  });
});

describe('the invocation’s done item', () => {
  const isDoneWrite = (command: string, input: Record<string, unknown>) =>
    command === 'PutItemCommand' && pkOf(input)?.startsWith('lean-done#') === true;

  it('whose write fails: each job’s chunk completion is written instead — the status is true, a redelivery sends nothing', async () => {
    const users = [newUser('lean-done-fault'), newUser('lean-done-fault')];
    const tokens = await Promise.all(users.map((user) => registerDevices(user, 2)));
    const run = Date.now();
    const jobs = users.map(
      (user, i) => alertJob({ userIds: [user] }, { notificationId: `lean-done-${run}-${i}` }) as SendJob,
    );
    faults.push({ matches: isDoneWrite, fail: true });
    const batch = jobs.map((job, i) => received(`m-done-${run}-${i}`, job, 1));
    expect(await invokeSender(batch)).toEqual({ batchItemFailures: [] });
    expect(faults).toEqual([]);
    for (const [i, job] of jobs.entries()) {
      expect(pushesOf(job.notificationId)).toEqual(once(tokens[i] as string[]));
      expect(await item(progressKey(job.notificationId, '0', 0, 0))).toMatchObject({
        completedAt: expect.any(String),
      });
      expect(await status(job.notificationId)).toEqual(allAccepted(job.notificationId, 2));
    }
    // SQS delivering the same messages again (a second copy of each): nothing pushed twice.
    expect(await invokeSender(jobs.map((job, i) => received(`m-done-${run}-${i}`, job, 2)))).toEqual({
      batchItemFailures: [],
    });
    for (const [i, job] of jobs.entries())
      expect(pushesOf(job.notificationId)).toEqual(once(tokens[i] as string[]));
  });
});

describe('a lean job that does not end accepted everywhere', () => {
  it('a pruned token and a retried one: the chunk completion holds the tally, the retry lands once, the status counts each', async () => {
    const user = newUser('lean-mixed');
    const [fine, dead, busy] = (await registerDevices(user, 3)) as [string, string, string];
    const id = `lean-mixed-${Date.now()}`;
    harness.simulator.failToken(dead, { status: 410, reason: 'Unregistered', timestamp: Date.now() + 1000 });
    harness.simulator.failToken(busy, { status: 429, reason: 'TooManyRequests' }, 1);
    expect(
      (
        await api('POST', '/v1/notifications', {
          backend: true,
          body: alertJob({ userIds: [user] }, { notificationId: id }),
        })
      ).status,
    ).toBe(202);
    await harness.source.idle();
    expect(harness.simulator.inbox.filter((entry) => entry.token === busy).length).toBe(1);
    expect(pushesOf(id)).toEqual(once([fine, busy]));
    expect(await status(id)).toMatchObject({
      counts: { devices: 3, accepted: 2, pruned: 1, queued: 0, failed: 0 },
      progress: { parts: 1, partsDone: 1, chunksInProgress: 0, complete: true },
    });
    expect(await harness.deadLetters()).toEqual([]);
  });
});

describe('one id, raced by the API and publishers with different jobs', () => {
  it('whatever wins, one job is delivered once: every 202 is its job, every 409 and every other published job sends nothing', async () => {
    // A held copy comes back after the visibility timeout: a short one here.
    await harness.setVisibilityTimeout(3);
    try {
      for (let round = 0; round < 4; round++) {
        const owners = [newUser('race-a'), newUser('race-b'), newUser('race-c')] as const;
        const devices = await Promise.all(owners.map((user) => registerDevices(user, 1)));
        const id = `lean-race-${round}-${Date.now()}`;
        const [a, b, c] = owners.map(
          (user) => alertJob({ userIds: [user] }, { notificationId: id }) as SendJob,
        ) as [SendJob, SendJob, SendJob];
        const post = (job: SendJob) =>
          api('POST', '/v1/notifications', { backend: true, body: job }).then((answer) => ({
            job,
            status: answer.status,
          }));
        const posts = await Promise.all([
          post(a),
          post(b),
          harness.publish(a).then(() => undefined),
          post(a),
          harness.publish(c).then(() => undefined),
          post(b),
          // A copy of B's API part, as the API queues it before taking the id.
          harness.publish({ ...partsOf(b)[0], enqueuedBeforeId: true }).then(() => undefined),
        ]);
        await harness.source.idle();
        const delivered = owners.findIndex((_, i) =>
          pushesOf(id).some(([token]) => devices[i]?.includes(token)),
        );
        expect(delivered).toBeGreaterThanOrEqual(0);
        const winner = [a, b, c][delivered] as SendJob;
        expect(pushesOf(id)).toEqual(once(devices[delivered] as string[]));
        for (const answer of posts) {
          if (answer === undefined) continue;
          expect(answer.status).toBe(answer.job === winner ? 202 : 409);
        }
        // Every published job that is not the winner is a conflict on the DLQ (a copy of the
        // API's part is dropped instead); the winner's own copies are repeats.
        const dead = await harness.deadLetters();
        expect(dead.every((letter) => letter.reason === 'NotificationIdConflict')).toBe(true);
        const deadJobs = dead.map((letter) => JSON.stringify(letter.body.to ?? letter.body.job?.to));
        expect(deadJobs.sort()).toEqual(
          [a, c]
            .filter((job) => job !== winner)
            .map((job) => JSON.stringify(job.to))
            .sort(),
        );
        expect(await status(id)).toMatchObject({
          counts: { devices: 1, accepted: 1, queued: 0, failed: 0 },
          progress: { complete: true },
        });
      }
    } finally {
      await harness.setVisibilityTimeout();
    }
  }, 120_000);
});

describe('a big job whose last part is small enough to be lean', () => {
  it.each([
    ['through the API', true],
    ['published to the queue', false],
  ])(
    '1 003 users (%s): the 3-user part is sent once, its redelivery sends nothing, the status counts both parts',
    async (_, viaApi) => {
      const users = [newUser('lean-tail'), newUser('lean-tail'), newUser('lean-tail')];
      const tokens = (await Promise.all(users.map((user) => registerDevices(user, 1)))).flat();
      const id = `lean-tail-${viaApi}-${Date.now()}`;
      const nobody = Array.from({ length: 1000 }, (_, i) => `${id}-nobody-${i}`);
      const job = alertJob({ userIds: [...nobody, ...users] }, { notificationId: id }) as SendJob;
      if (viaApi) {
        const answer = await api('POST', '/v1/notifications', { backend: true, body: job });
        expect(answer.body).toMatchObject({ parts: 2, jobs: 2 });
      } else await harness.publish(job);
      await harness.source.idle();
      expect(pushesOf(id)).toEqual(once(tokens));
      const tail = partsOf(job, viaApi ? undefined : '0').at(-1);
      expect(tail?.job.to).toEqual({ userIds: users });
      // SQS handing the small part out again.
      expect(await invokeSender([received(`m-tail-${id}`, tail, 2)])).toEqual({ batchItemFailures: [] });
      expect(pushesOf(id)).toEqual(once(tokens));
      expect(await status(id)).toMatchObject({
        recipients: { users: 1003, usersWithoutDevices: 1000 },
        counts: { devices: 3, accepted: 3, queued: 0, failed: 0 },
        progress: { parts: 2, complete: true },
      });
      expect(await harness.deadLetters()).toEqual([]);
    },
  );
});
