import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { requestKey } from '../../lambda/adapters/secondary/notifications-keys';
import { apiPorts } from '../../lambda/composition/api';
import { type JobPart, partsOf, TOKENS_PER_PART } from '../../lambda/domain/job-part';
import { normalizeSendJob, sendJobSchema } from '../../lambda/domain/send-job';
import { ENVIRONMENT } from '../../lambda/environment';
import { takeJobNotificationId } from '../../lambda/use-cases/take-notification-id';
import { api, newToken, newUser } from '../support/api';
import { TEST_APP_ID } from '../support/embedded-services';
import { alertJob, db, registerDevices, SenderHarness } from '../support/sender-harness';

/*
 * Anyone allowed to publish to the send queue can write a `work/v1` part. Under an
 * id another job holds, such a part must not send, nor add to that notification's
 * report: it is NotificationIdConflict on the DLQ, as the same content published as
 * a public job is.
 */

const harness = new SenderHarness();
beforeAll(() => harness.start({ visibilityTimeoutSeconds: 10 }), 30_000);
afterAll(() => harness.stop());
beforeEach(() => harness.purge());

const report = async (id: string) => (await api('GET', `/v1/notifications/${id}`, { backend: true })).body;

/** A tracked job sent through the API and delivered; its report as it stands after. */
async function deliveredThroughApi(id: string, userId: string) {
  const job = alertJob({ userIds: [userId] }, { notificationId: id, track: { receipts: true } });
  const answer = await api('POST', '/v1/notifications', { backend: true, body: job });
  expect(answer.status).toBe(202);
  await harness.source.idle(120_000);
  return { job, before: await report(id) };
}

describe('a work/v1 part under a notification id another job holds', () => {
  it.each([
    ['other recipients, same content, a new part name', { part: '1' }, 'other'],
    ['other recipients under the part name the job used', { part: '0' }, 'other'],
    ['the same recipients with other content', { part: '1', aps: { alert: 'Forged' } }, 'same'],
    ['a retry carrying a device of other recipients', { part: '0/0', attempt: 1 }, 'other'],
  ] as const)(
    '%s: NotificationIdConflict on the DLQ, nothing sent, the report untouched',
    async (_name, forged, whose) => {
      const owner = newUser('owner');
      const stranger = newUser('stranger');
      const [ownerDevice] = (await registerDevices(owner, 1)) as [string];
      const [strangerDevice] = (await registerDevices(stranger, 1)) as [string];
      const id = `held-${newUser('id')}`;
      const { job, before } = await deliveredThroughApi(id, owner);
      expect(before.counts.devices).toBe(1);
      harness.simulator.clearInbox();

      const { part, ...content } = forged;
      const attempt = 'attempt' in forged ? forged.attempt : 0;
      const aps = 'aps' in content ? content.aps : job.aps;
      const to = whose === 'same' ? job.to : { userIds: [stranger] };
      await harness.deliver({
        pushgate: 'work/v1',
        job: { ...job, to, aps },
        part,
        attempt,
        ...(attempt > 0
          ? {
              devices: [
                { token: strangerDevice, userId: stranger, appId: TEST_APP_ID, environment: 'production' },
              ],
            }
          : {}),
      });

      const [letter, ...more] = await harness.deadLetters();
      expect(more).toEqual([]);
      expect(letter?.reason).toBe('NotificationIdConflict');
      expect(letter?.detail).toContain(id);
      expect(harness.inboxTokens()).toEqual([]);
      expect(await report(id)).toEqual(before);
      expect(ownerDevice).not.toBe(strangerDevice);
    },
  );

  it.each([
    ['a retry', 'stranger', { part: '0/0', attempt: 1 }],
    ['a re-push round', 'stranger', { part: '0r1', attempt: 0, repush: { round: 1, dueAt: 0 } }],
    // The privacy check finds the token in no set of the owner's and sends nothing; the
    // report must not get a line for it either.
    ['a retry', 'owner', { part: '0/0', attempt: 1 }],
    ['a re-push round', 'owner', { part: '0r1', attempt: 0, repush: { round: 1, dueAt: 0 } }],
    ['a retry marked as published', 'owner', { part: '0/0', attempt: 1, published: true }],
  ] as const)(
    '%s of the job itself carrying another user’s device, labelled as the %s’s: refused, nothing sent, the report untouched',
    async (_name, label, forged) => {
      const owner = newUser('owner');
      const stranger = newUser('stranger');
      await registerDevices(owner, 1);
      const [strangerDevice] = (await registerDevices(stranger, 1)) as [string];
      const id = `carried-${newUser('id')}`;
      const { job, before } = await deliveredThroughApi(id, owner);
      harness.simulator.clearInbox();

      // The job's own content and recipients, so its fingerprint is one the record holds.
      const [own] = partsOf(normalizeSendJob(sendJobSchema.parse(job), id)) as [JobPart];
      const userId = label === 'owner' ? owner : stranger;
      await harness.deliver({
        ...own,
        ...forged,
        devices: [{ token: strangerDevice, userId, appId: TEST_APP_ID, environment: 'production' }],
      });

      expect(harness.inboxTokens()).toEqual([]);
      expect(await report(id)).toEqual(before);
      const [letter, ...more] = await harness.deadLetters();
      expect(more).toEqual([]);
      expect(letter?.reason).toBe('NotificationIdConflict');
    },
  );

  it('the job’s own part, delivered again, is read as its own: no conflict, nothing sent twice', async () => {
    const owner = newUser('owner');
    const [ownerDevice] = (await registerDevices(owner, 1)) as [string];
    const id = `own-${newUser('id')}`;
    const { job, before } = await deliveredThroughApi(id, owner);
    expect(harness.inboxTokens()).toEqual([ownerDevice]);
    const [own] = partsOf(normalizeSendJob(sendJobSchema.parse(job), id));
    await harness.deliver(own);
    expect(await harness.deadLetters()).toEqual([]);
    expect(harness.inboxTokens()).toEqual([ownerDevice]);
    expect(await report(id)).toEqual(before);
  });

  it('a retry queued by a version that did not record its parts is delivered after the upgrade, as before', async () => {
    const owner = newUser('owner');
    const [device] = (await registerDevices(owner, 1)) as [string];
    const id = `before-upgrade-${newUser('id')}`;
    const { job } = await deliveredThroughApi(id, owner);
    // The request record as the older version wrote it: without partsIssuedRecorded.
    await db.send(
      new UpdateCommand({
        TableName: process.env[ENVIRONMENT.notificationsTable],
        Key: requestKey(id),
        UpdateExpression: 'REMOVE partsIssuedRecorded',
        ConditionExpression: 'partsIssuedRecorded = :true',
        ExpressionAttributeValues: { ':true': true },
      }),
    );
    harness.simulator.clearInbox();
    const [own] = partsOf(normalizeSendJob(sendJobSchema.parse(job), id)) as [JobPart];
    await harness.deliver({
      ...own,
      part: '0/0',
      attempt: 1,
      devices: [{ token: device, userId: owner, appId: TEST_APP_ID, environment: 'production' }],
    });
    expect(await harness.deadLetters()).toEqual([]);
    expect(harness.inboxTokens()).toEqual([device]);
  });

  it('a part under an id no request holds is delivered, as a public job under a new id would be', async () => {
    const user = newUser('free');
    const [device] = (await registerDevices(user, 1)) as [string];
    const job = { ...alertJob({ userIds: [user] }), notificationId: `free-${newUser('id')}` };
    await harness.deliver({ pushgate: 'work/v1', job, part: '0', attempt: 0 });
    expect(await harness.deadLetters()).toEqual([]);
    expect(harness.inboxTokens()).toEqual([device]);
  });
});

describe('the job’s own content, replayed under another part name or attempt', () => {
  it.each([
    ['a part name the request did not use', { part: '1' }],
    ['a split part name', { part: '0.0' }],
    ['a later attempt', { part: '0', attempt: 2 }],
    ['a re-push round without devices', { part: '0', repush: { round: 1, dueAt: 0 } }],
  ] as const)(
    '%s: NotificationIdConflict, nothing sent twice, the report untouched',
    async (_name, forged) => {
      const owner = newUser('owner');
      const [ownerDevice] = (await registerDevices(owner, 1)) as [string];
      const id = `replayed-${newUser('id')}`;
      const { job, before } = await deliveredThroughApi(id, owner);
      expect(harness.inboxTokens()).toEqual([ownerDevice]);
      harness.simulator.clearInbox();
      const [own] = partsOf(normalizeSendJob(sendJobSchema.parse(job), id)) as [JobPart];
      await harness.deliver({ ...own, ...forged });

      expect(harness.inboxTokens()).toEqual([]);
      expect(await report(id)).toEqual(before);
      const [letter, ...more] = await harness.deadLetters();
      expect(more).toEqual([]);
      expect(letter?.reason).toBe('NotificationIdConflict');
    },
  );

  it('the job published again under another part name is a repeat: nothing sent twice, the report untouched, nothing dead-lettered', async () => {
    const owner = newUser('owner');
    const [ownerDevice] = (await registerDevices(owner, 1)) as [string];
    const id = `republished-${newUser('id')}`;
    const { job, before } = await deliveredThroughApi(id, owner);
    expect(harness.inboxTokens()).toEqual([ownerDevice]);
    harness.simulator.clearInbox();
    const [own] = partsOf(normalizeSendJob(sendJobSchema.parse(job), id)) as [JobPart];
    await harness.deliver({ ...own, part: '9', published: true });
    expect(harness.inboxTokens()).toEqual([]);
    expect(await report(id)).toEqual(before);
    expect(await harness.deadLetters()).toEqual([]);
  });

  it.each(['4', '4.0', '0'])(
    'a job published straight to the queue, replayed unpublished as part "%s": refused, nothing sent twice',
    async (name) => {
      const users = [newUser('a'), newUser('b')];
      for (const user of users) await registerDevices(user, 1);
      const job = { ...alertJob({ userIds: users }), notificationId: `published-${newUser('id')}` };
      const parsed = normalizeSendJob(sendJobSchema.parse(job), job.notificationId);
      await harness.deliver({ pushgate: 'work/v1', job: parsed, part: '4', attempt: 0, published: true });
      expect(await harness.deadLetters()).toEqual([]);
      expect(harness.inboxTokens()).toHaveLength(2);
      const before = await report(job.notificationId);
      harness.simulator.clearInbox();
      // The whole job again: a part the sender never queued (it did not split this job).
      await harness.deliver({ pushgate: 'work/v1', job: parsed, part: name, attempt: 0 });
      expect(harness.inboxTokens()).toEqual([]);
      expect(await report(job.notificationId)).toEqual(before);
      expect((await harness.deadLetters()).map((letter) => letter.reason)).toEqual([
        'NotificationIdConflict',
      ]);
    },
  );
});

describe('a published job taking over a request the API did not finish enqueuing', () => {
  it('is split by the sender, and its parts are delivered as its own', async () => {
    const user = newUser('takeover');
    const [device] = (await registerDevices(user, 1)) as [string];
    // More tokens than one part carries, so the sender splits the published job.
    const filler = Array.from({ length: TOKENS_PER_PART }, () => newToken());
    const job = { ...alertJob({ tokens: [device, ...filler] }), notificationId: `takeover-${newUser('id')}` };
    const parsed = normalizeSendJob(sendJobSchema.parse(job), job.notificationId);
    // What the API writes before it enqueues: a crash right after leaves the request pending.
    const taken = await takeJobNotificationId(apiPorts, parsed, partsOf(parsed), new Date());
    expect(taken.kind).toBe('taken');
    await harness.deliver(job);
    expect(await harness.deadLetters()).toEqual([]);
    expect(harness.inboxTokens()).toEqual([device]);
  });
});

describe('a part under an id nobody took yet', () => {
  it.each([
    ['a first part', {}],
    ['a retry', { part: '0/0', attempt: 1 }],
  ] as const)(
    '%s holds the id: a request sent later under it is 409, not silently skipped',
    async (_name, forged) => {
      const owner = newUser('owner');
      const stranger = newUser('stranger');
      await registerDevices(owner, 1);
      const [strangerDevice] = (await registerDevices(stranger, 1)) as [string];
      const id = `squatted-${newUser('id')}`;
      const job = { ...alertJob({ userIds: [stranger] }), notificationId: id };
      await harness.deliver({
        pushgate: 'work/v1',
        job,
        part: '0',
        attempt: 0,
        ...forged,
        ...('attempt' in forged
          ? {
              devices: [
                { token: strangerDevice, userId: stranger, appId: TEST_APP_ID, environment: 'production' },
              ],
            }
          : {}),
      });
      expect(await harness.deadLetters()).toEqual([]);
      harness.simulator.clearInbox();
      // Without the hold, the request's part "0" would find chunk 0 done: 202, nothing sent,
      // and a report of the stranger's outcomes.
      const answer = await api('POST', '/v1/notifications', {
        backend: true,
        body: alertJob({ userIds: [owner] }, { notificationId: id }),
      });
      expect([answer.status, answer.body.error?.code]).toEqual([409, 'NotificationIdConflict']);
      await harness.source.idle(120_000);
      expect(harness.inboxTokens()).toEqual([]);
    },
  );
});
