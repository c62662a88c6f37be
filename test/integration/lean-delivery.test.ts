import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { leanDoneKey, progressKey, requestKey } from '../../lambda/adapters/secondary/notifications-keys';
import { apiPorts } from '../../lambda/composition/api';
import { partsOf } from '../../lambda/domain/job-part';
import type { SendJob } from '../../lambda/domain/send-job';
import { ENVIRONMENT } from '../../lambda/environment';
import { takeJobNotificationId } from '../../lambda/use-cases/take-notification-id';
import { api, newUser } from '../support/api';
import { seedDevices } from '../support/seed';
import { alertJob, db, registerDevices, SenderHarness } from '../support/sender-harness';
import {
  allAccepted,
  invokeSender,
  notificationStatus,
  notificationsItem,
  once,
  pushesOf as probePushes,
  received,
} from '../support/sender-probes';

// A lean job (one user or a few, untracked) is claimed with one conditional write on
// its request record, and its completion is recorded once per sender invocation.
const harness = new SenderHarness();
beforeAll(() => harness.start(), 30_000);
afterAll(() => harness.stop());
beforeEach(() => harness.purge());

const table = () => process.env[ENVIRONMENT.notificationsTable];
const item = notificationsItem;
const status = notificationStatus;
const pushesOf = (notificationId: string) => probePushes(harness, notificationId);

describe('lean jobs: the same job twice reaches each device once', () => {
  it('the same message again after its delivery finished: nothing pushed again, the status counts each device once', async () => {
    const user = newUser('lean');
    const tokens = await registerDevices(user, 2);
    const id = `lean-again-${Date.now()}`;
    const job = alertJob({ userIds: [user] }, { notificationId: id });

    expect(await invokeSender([received('m-again', job, 1)])).toEqual({ batchItemFailures: [] });
    expect(pushesOf(id)).toEqual(once(tokens));
    // One write claimed it (the id record); the invocation's done item lists it, with who it
    // reached (read after the claim, right before the pushes); no chunk record.
    const record = await item(requestKey(id));
    expect(record).toMatchObject({ status: 'enqueued', claimedPart: '0' });
    expect(await item(leanDoneKey(String(record?.claimedBy)))).toMatchObject({ jobs: { [id]: [1, 0, 2] } });
    expect(await item(progressKey(id, '0', 0, 0))).toBeUndefined();

    expect(await invokeSender([received('m-again', job, 2)])).toEqual({ batchItemFailures: [] });
    expect(pushesOf(id)).toEqual(once(tokens));
    expect(await status(id)).toEqual(allAccepted(id, 2));
    expect(await harness.deadLetters()).toEqual([]);
  });

  it('the same message twice at once, in one batch or in two invocations: each device once', async () => {
    const user = newUser('lean');
    const tokens = await registerDevices(user, 2);
    const id = `lean-at-once-${Date.now()}`;
    const job = alertJob({ userIds: [user] }, { notificationId: id });
    const copy = received('m-at-once', job, 1);

    const answers = await Promise.allSettled([invokeSender([copy, copy]), invokeSender([copy])]);
    // One invocation sends; the other finds the job held (its message comes back later) or,
    // in the batch that holds it, answered for by its other copy.
    const failed = answers.filter((answer) => answer.status === 'rejected');
    expect(failed.length).toBeLessThanOrEqual(1);
    expect(pushesOf(id)).toEqual(once(tokens));
    // SQS hands the held message out again: the job is done by then, nothing is pushed.
    expect(await invokeSender([received('m-at-once', job, 2)])).toEqual({ batchItemFailures: [] });
    expect(pushesOf(id)).toEqual(once(tokens));
    expect(await status(id)).toEqual(allAccepted(id, 2));
  });

  it('a job published twice as two messages, and a job POSTed then published: each device once', async () => {
    const user = newUser('lean');
    const tokens = await registerDevices(user, 2);
    const twice = `lean-published-twice-${Date.now()}`;
    const job = alertJob({ userIds: [user] }, { notificationId: twice });
    // The second message may find the first one's claim live: it fails, and SQS hands it
    // out again after the visibility timeout — a short one here.
    await harness.setVisibilityTimeout(3);
    try {
      await harness.publish(job);
      await harness.publish(job);
      await harness.source.idle();
    } finally {
      await harness.setVisibilityTimeout();
    }
    expect(pushesOf(twice)).toEqual(once(tokens));

    const posted = `lean-posted-${Date.now()}`;
    const postedJob = alertJob({ userIds: [user] }, { notificationId: posted });
    expect((await api('POST', '/v1/notifications', { backend: true, body: postedJob })).status).toBe(202);
    await harness.publish(postedJob);
    await harness.source.idle();
    expect(pushesOf(posted)).toEqual(once(tokens));
    expect(await status(posted)).toEqual(allAccepted(posted, 2));
    expect(await harness.deadLetters()).toEqual([]);
  });

  it('a job published before its POST: the API answers it as a repeat, each device once', async () => {
    const user = newUser('lean');
    const tokens = await registerDevices(user, 1);
    const id = `lean-published-first-${Date.now()}`;
    const job = alertJob({ userIds: [user] }, { notificationId: id });
    await harness.deliver(job);
    const answer = await api('POST', '/v1/notifications', { backend: true, body: job });
    expect(answer.status).toBe(202);
    await harness.source.idle();
    expect(pushesOf(id)).toEqual(once(tokens));
    expect(await harness.deadLetters()).toEqual([]);
  });
});

describe('lean jobs the API enqueues before taking their id', () => {
  /** The API's part of a lean job, as it puts it on the queue before writing the id record. */
  const apiPart = (job: SendJob) => ({ ...partsOf(job)[0], enqueuedBeforeId: true });

  it('the sender comes first: it takes the id as the API would, and the API answers the same job as a repeat', async () => {
    const user = newUser('lean');
    const tokens = await registerDevices(user, 2);
    const id = `lean-sender-first-${Date.now()}`;
    const job = alertJob({ userIds: [user] }, { notificationId: id }) as SendJob;
    expect(await invokeSender([received('m-first', apiPart(job), 1)])).toEqual({ batchItemFailures: [] });
    expect(pushesOf(id)).toEqual(once(tokens));
    expect(await item(requestKey(id))).toMatchObject({ status: 'enqueued', partKeys: [expect.any(String)] });
    const answer = await api('POST', '/v1/notifications', { backend: true, body: job });
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({
      notificationId: id,
      recipients: { users: 1 },
      parts: 1,
      jobs: 1,
      tracked: false,
    });
    await harness.source.idle();
    expect(pushesOf(id)).toEqual(once(tokens));
    expect(await status(id)).toEqual(allAccepted(id, 2));
  });

  it('another job took the id first: its queued part is dropped — nothing sent, nothing dead-lettered, the report untouched', async () => {
    const user = newUser('lean');
    const stranger = newUser('stranger');
    const tokens = await registerDevices(user, 1);
    const strangerTokens = await registerDevices(stranger, 1);
    const id = `lean-raced-${Date.now()}`;
    const job = alertJob({ userIds: [user] }, { notificationId: id }) as SendJob;
    expect((await api('POST', '/v1/notifications', { backend: true, body: job })).status).toBe(202);
    await harness.source.idle();
    const loser = alertJob({ userIds: [stranger] }, { notificationId: id }) as SendJob;
    expect(await invokeSender([received('m-loser', apiPart(loser), 1)])).toEqual({ batchItemFailures: [] });
    expect(pushesOf(id)).toEqual(once(tokens));
    expect(harness.inboxTokens()).not.toContain(strangerTokens[0]);
    expect(await harness.deadLetters()).toEqual([]);
    expect(await status(id)).toEqual(allAccepted(id, 1));
    // Without the mark, the same part is anyone's forgery: the DLQ, as on the chunk path.
    expect(await invokeSender([received('m-forged', partsOf(loser)[0], 1)])).toEqual({
      batchItemFailures: [],
    });
    expect((await harness.deadLetters()).map((letter) => letter.reason)).toEqual(['NotificationIdConflict']);
  });
});

describe('lean jobs: a sender that stops or stalls', () => {
  it('a sender that stalls past the visibility timeout mid-send: the message handed out again pushes nothing twice', async () => {
    const user = newUser('lean');
    const [fast, stalled] = (await registerDevices(user, 2)) as [string, string];
    const id = `lean-stalled-${Date.now()}`;
    const job = alertJob({ userIds: [user] }, { notificationId: id });
    // One stream is never answered: the first receive is stuck on it mid-send until the test
    // releases it, not for a timeout a slow machine could outlast (25 s: the longest that
    // still lets a 120 s invocation start a chunk, 4 timeouts + 10 s of bookkeeping).
    harness.simulator.failToken(stalled, { kind: 'stall' }, 1);
    await harness.withRequestTimeout(25_000, async () => {
      const first = invokeSender([received('m-stalled', job, 1)]);
      while (pushesOf(id).length === 0 || harness.simulator.stalls === 0)
        await new Promise((resolve) => setTimeout(resolve, 20));
      // Meanwhile SQS hands the message out again (its visibility timeout ran out).
      await expect(invokeSender([received('m-stalled', job, 2)])).rejects.toThrow(/All records failed/);
      // The stalled stream ends without an answer: the first receive settles it as a retry.
      harness.simulator.releaseStalls();
      expect(await first).toEqual({ batchItemFailures: [] });
      // The stalled device's retry goes through the queue.
      await harness.source.idle();
    });
    expect(await invokeSender([received('m-stalled', job, 3)])).toEqual({ batchItemFailures: [] });
    expect(pushesOf(id)).toEqual(once([fast, stalled]));
    // Not every device was accepted at once: the chunk's completion holds its tally.
    expect(await item(progressKey(id, '0', 0, 0))).toMatchObject({ completedAt: expect.any(String) });
    expect(await status(id)).toMatchObject({
      counts: { devices: 2, accepted: 2, queued: 0 },
      progress: { complete: true },
    });
    expect(await harness.deadLetters()).toEqual([]);
  });

  it('a sender that crashed after claiming, before any push: held until the lease ends, then delivered once', async () => {
    const user = newUser('lean');
    const tokens = await registerDevices(user, 2);
    const id = `lean-crashed-${Date.now()}`;
    const job = alertJob({ userIds: [user] }, { notificationId: id }) as SendJob;
    // What the crashed invocation wrote: the id taken and the job claimed, in one write.
    const claim = {
      claimedBy: 'crashed-invocation',
      claimedUntil: Date.now() + 60_000,
      claimedPart: '0',
      planned: { users: 1, usersWithoutDevices: 0, devices: 2 },
    };
    await takeJobNotificationId(apiPorts, job, partsOf(job), new Date(), { publishedAs: '0', claim });

    await expect(invokeSender([received('m-crashed', job, 2)])).rejects.toThrow(/All records failed/);
    expect(pushesOf(id)).toEqual([]);
    expect(await status(id)).toMatchObject({ progress: { chunksInProgress: 1, complete: false } });

    await db.send(
      new UpdateCommand({
        TableName: table(),
        Key: requestKey(id),
        UpdateExpression: 'SET claimedUntil = :over',
        ExpressionAttributeValues: { ':over': Date.now() - 1 },
      }),
    );
    expect(await invokeSender([received('m-crashed', job, 3)])).toEqual({ batchItemFailures: [] });
    expect(pushesOf(id)).toEqual(once(tokens));
    expect(await invokeSender([received('m-crashed', job, 4)])).toEqual({ batchItemFailures: [] });
    expect(pushesOf(id)).toEqual(once(tokens));
    expect(await status(id)).toEqual(allAccepted(id, 2));
  });
});

describe('lean jobs through the batch route', () => {
  it('500 one-user jobs of 2 devices each: every device once, every status complete', async () => {
    const users = Array.from({ length: 500 }, () => newUser('lean-batch'));
    const devices = await seedDevices(users, 2);
    const run = Date.now();
    const notifications = users.map((userId, i) =>
      alertJob({ userIds: [userId] }, { notificationId: `lean-${run}-${i}` }),
    );
    const answer = await api('POST', '/v1/notification-batches', { backend: true, body: { notifications } });
    expect(answer.status).toBe(200);
    expect(answer.body.results.every((result: { status: number }) => result.status === 202)).toBe(true);
    await harness.source.idle(300_000);
    expect(harness.inboxGaps(devices.map((device) => device.token))).toEqual({
      missing: [],
      duplicated: [],
      unexpected: [],
    });
    for (const i of [0, 249, 499])
      expect(await status(`lean-${run}-${i}`)).toEqual(allAccepted(`lean-${run}-${i}`, 2));
    expect(await harness.deadLetters()).toEqual([]);
  }, 360_000);
});
