import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { jobPartFromMessage } from '../../lambda/adapters/primary/deliver-notifications/job-part-message';
import { DeliveryTally } from '../../lambda/domain/delivery-tally';
import { JobFailedError, NotFoundError } from '../../lambda/domain/errors';
import type { JobPart } from '../../lambda/domain/job-part';
import type { SendJob } from '../../lambda/domain/send-job';
import { acceptSendRequest } from '../../lambda/use-cases/accept-send-request';
import { deadLetterJob } from '../../lambda/use-cases/dead-letter-job';
import { deliverNotification } from '../../lambda/use-cases/deliver-notification';
import { claimLeanJob, LeanInvocation, recordLeanCompletions } from '../../lambda/use-cases/delivery/lean';
import { getNotification } from '../../lambda/use-cases/get-notification';
import { registerIphone } from '../support/fake-sender';
import { FAKE_APP, type InMemoryPorts, inMemoryPorts } from '../support/in-memory-ports';

/**
 * A notification's report (getNotification) and a job part sent to the dead-letter
 * queue (deadLetterJob), on in-memory ports: what the report says of a lean job done,
 * held, or left by a holder that stopped, and of a part that could not succeed.
 */

let ports: InMemoryPorts;
const TOKEN = 'c'.repeat(64);
const LEASE_MS = 60_000;

const job = {
  notificationId: 'n-report',
  appId: FAKE_APP.appId,
  to: { userIds: ['alice'] },
  aps: { alert: 'hi' },
} as SendJob;

beforeEach(async () => {
  ports = inMemoryPorts();
  await registerIphone(ports, 'alice', TOKEN);
});

afterEach(() => {
  vi.useRealTimers();
});

async function acceptedPart(): Promise<JobPart> {
  await acceptSendRequest(ports, job);
  const message = ports.sendQueue.sent.shift();
  if (message === undefined) throw new Error('nothing on the send queue');
  return jobPartFromMessage(message.body, 'm-1');
}

describe('a notification’s report', () => {
  it('of an id nobody used: NotificationNotFound', async () => {
    await expect(getNotification(ports, 'n-unknown')).rejects.toMatchObject({
      constructor: NotFoundError,
      code: 'NotificationNotFound',
    });
  });

  it('of a lean job done with every device accepted: complete, from its holder’s done item', async () => {
    const part = await acceptedPart();
    const invocation = new LeanInvocation();
    await deliverNotification(ports, part, new DeliveryTally(), () => LEASE_MS, invocation);
    await recordLeanCompletions(ports, invocation);
    // No chunk completion: the report reads the claim and the done item.
    expect(ports.notificationRecords.chunks.size).toBe(0);
    const report = await getNotification(ports, job.notificationId);
    expect(report).toMatchObject({
      notificationId: job.notificationId,
      tracked: false,
      recipients: { users: 1, usersWithoutDevices: 0 },
      parts: 1,
      counts: { devices: 1, accepted: 1 },
      progress: { parts: 1, partsDone: 1, chunksInProgress: 0, complete: true },
      devices: [],
    });
    expect(report.reason).toBeUndefined();
  });

  it('of a lean job with a device not accepted: from its chunk completion, the device queued for its retry', async () => {
    ports.pushProviders.apnsAnswer = () => ({ status: 503, reason: 'ServiceUnavailable' });
    const part = await acceptedPart();
    await deliverNotification(ports, part, new DeliveryTally(), () => LEASE_MS, new LeanInvocation());
    const report = await getNotification(ports, job.notificationId);
    expect(report).toMatchObject({
      recipients: { users: 1, usersWithoutDevices: 0 },
      counts: { devices: 1, queued: 1, accepted: 0 },
      reasons: { 'retried:ServiceUnavailable': 1 },
      progress: { parts: 1, partsDone: 1, chunksInProgress: 0, complete: true },
    });
  });

  it('of a lean job claimed under a live lease: in progress; once the lease is over with nothing done: not complete, nothing in progress', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const part = await acceptedPart();
    expect(await claimLeanJob(ports, part, new LeanInvocation(), LEASE_MS)).toBe('claimed');
    expect((await getNotification(ports, job.notificationId)).progress).toEqual({
      parts: 1,
      partsDone: 0,
      chunksInProgress: 1,
      complete: false,
    });
    vi.setSystemTime(Date.now() + LEASE_MS + 1);
    expect((await getNotification(ports, job.notificationId)).progress).toEqual({
      parts: 1,
      partsDone: 0,
      chunksInProgress: 0,
      complete: false,
    });
  });
});

describe('a job part that cannot succeed', () => {
  const at = new Date('2026-12-06T06:00:00.000Z');

  it('is recorded on its notification with its reason, then put on the dead-letter queue; the report shows it', async () => {
    const part = await acceptedPart();
    const body = JSON.stringify(part);
    const failure = new JobFailedError('BadDeviceToken', 'APNs refused the job.');
    await deadLetterJob(ports, body, part, failure, 'm-1', at);
    const recorded = {
      part: part.part,
      attempt: 0,
      reason: 'BadDeviceToken',
      detail: 'APNs refused the job.',
    };
    expect(ports.notificationRecords.deadLettered.get(job.notificationId)).toEqual([
      { ...recorded, at: at.toISOString() },
    ]);
    expect(ports.sendQueue.deadLettered).toEqual([
      { body, reason: 'BadDeviceToken', detail: 'APNs refused the job.', messageId: 'm-1' },
    ]);
    const report = await getNotification(ports, job.notificationId);
    expect(report.deadLettered).toEqual([{ ...recorded, at: at.toISOString() }]);
    expect(report.progress.complete).toBe(false);
  });

  it('under an id another job holds (NotificationIdConflict): on the dead-letter queue, nothing written to that job’s notification', async () => {
    const part = await acceptedPart();
    const body = JSON.stringify(part);
    const failure = new JobFailedError('NotificationIdConflict', 'held by another job');
    await deadLetterJob(ports, body, part, failure, 'm-2', at);
    expect(ports.notificationRecords.deadLettered.size).toBe(0);
    expect(ports.sendQueue.deadLettered.map((dead) => dead.reason)).toEqual(['NotificationIdConflict']);
    expect((await getNotification(ports, job.notificationId)).deadLettered).toBeUndefined();
  });

  it('whose message could not be read: on the dead-letter queue with its body as received, nothing recorded', async () => {
    const failure = new JobFailedError('InvalidJob', 'not JSON');
    await deadLetterJob(ports, '{not json', undefined, failure, 'm-3', at);
    expect(ports.notificationRecords.deadLettered.size).toBe(0);
    expect(ports.sendQueue.deadLettered).toEqual([
      { body: '{not json', reason: 'InvalidJob', detail: 'not JSON', messageId: 'm-3' },
    ]);
  });
});
