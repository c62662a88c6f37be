import { beforeEach, describe, expect, it } from 'vitest';
import { jobPartFromMessage } from '../../lambda/adapters/primary/deliver-notifications/job-part-message';
import { DeliveryTally } from '../../lambda/domain/delivery-tally';
import { JobFailedError, NotificationIdConflictError } from '../../lambda/domain/errors';
import { isLeanJob } from '../../lambda/domain/lean-job';
import type { SendJob } from '../../lambda/domain/send-job';
import { acceptSendRequest } from '../../lambda/use-cases/accept-send-request';
import { deadLetterJob } from '../../lambda/use-cases/dead-letter-job';
import { deliverNotification } from '../../lambda/use-cases/deliver-notification';
import { LeanInvocation, recordLeanCompletions } from '../../lambda/use-cases/delivery/lean';
import { sendRequestAnswer } from '../../lambda/use-cases/take-notification-id';
import { registerIphone } from '../support/fake-sender';
import { FAKE_APP, type InMemoryPorts, inMemoryPorts } from '../support/in-memory-ports';

/**
 * A notification id taken from either entry — the API (acceptSendRequest) or a job
 * published straight to the send queue (the sender's plan step, or its lean claim) —
 * holds one job: the same job from the other entry is a repeat, pushed once; another
 * job is NotificationIdConflict (409 from the API, the DLQ from the queue). Both
 * entries take the id with takeJobNotificationId and judge a taken one with
 * judgeExistingRecord, on in-memory ports, the sender's messages delivered one by
 * one as its handler does.
 */

let ports: InMemoryPorts;
const TOKEN = 'a'.repeat(64);

beforeEach(async () => {
  ports = inMemoryPorts();
  await registerIphone(ports, 'alice', TOKEN);
});

/** A lean job (one user, untracked) and one that is not (tracked): the two ways the API takes an id. */
const kinds = [
  { kind: 'a lean job', extra: {} },
  { kind: 'a job that is not lean', extra: { track: { receipts: true } } },
] as const;

const jobOf = (extra: Partial<SendJob>, alert = 'hi'): SendJob =>
  ({
    notificationId: 'n-1',
    appId: FAKE_APP.appId,
    to: { userIds: ['alice'] },
    aps: { alert },
    ...extra,
  }) as SendJob;

/** Puts a job on the send queue as a backend would publish it: its JSON, no envelope. */
function publish(job: SendJob): void {
  ports.sendQueue.sent.push({ body: JSON.stringify(job) });
}

/**
 * Delivers every message on the send queue, one invocation each, as the sender's
 * handler does: a job that cannot succeed goes to the dead-letter queue with its reason.
 */
async function drainQueue(): Promise<void> {
  for (
    let message = ports.sendQueue.sent.shift();
    message !== undefined;
    message = ports.sendQueue.sent.shift()
  ) {
    const invocation = new LeanInvocation();
    const jobPart = jobPartFromMessage(message.body, `message-${ports.sendQueue.deadLettered.length}`);
    try {
      await deliverNotification(ports, jobPart, new DeliveryTally(), () => 60_000, invocation);
    } catch (error) {
      if (!(error instanceof JobFailedError)) throw error;
      await deadLetterJob(ports, message.body, jobPart, error);
    } finally {
      await recordLeanCompletions(ports, invocation);
    }
  }
}

const pushes = () => ports.pushProviders.apnsSent.map((sent) => sent.token);
const deadLetterReasons = () => ports.sendQueue.deadLettered.map((dead) => dead.reason);

describe.each(kinds)('one notification id from the API and from the send queue: $kind', ({ extra }) => {
  const job = jobOf(extra);
  const other = jobOf(extra, 'another text');
  const answer = sendRequestAnswer('n-1', { users: 1 }, 1, job.track?.receipts === true);

  it('is the kind of job it says', () => {
    expect(isLeanJob(job)).toBe(extra === kinds[0].extra);
  });

  it('POST, then the same job published: one record, pushed once, nothing dead-lettered', async () => {
    expect(await acceptSendRequest(ports, job)).toEqual(answer);
    publish(job);
    await drainQueue();
    expect(pushes()).toEqual([TOKEN]);
    expect([...ports.notificationRecords.requests.keys()]).toEqual(['n-1']);
    expect(ports.notificationRecords.requests.get('n-1')?.status).toBe('enqueued');
    expect(deadLetterReasons()).toEqual([]);
  });

  it('the same job published, then POST: answered 202 as a repeat, nothing enqueued, pushed once', async () => {
    publish(job);
    await drainQueue();
    expect(pushes()).toEqual([TOKEN]);
    expect(await acceptSendRequest(ports, job)).toEqual(answer);
    expect(ports.sendQueue.sent).toEqual([]);
    await drainQueue();
    expect(pushes()).toEqual([TOKEN]);
    expect([...ports.notificationRecords.requests.keys()]).toEqual(['n-1']);
    expect(deadLetterReasons()).toEqual([]);
  });

  it('POST, then another job published under its id: the published one is dead-lettered, nothing of it pushed', async () => {
    await acceptSendRequest(ports, job);
    publish(other);
    await drainQueue();
    expect(deadLetterReasons()).toEqual(['NotificationIdConflict']);
    expect(JSON.parse(ports.sendQueue.deadLettered[0]?.body ?? '{}')).toMatchObject({
      aps: { alert: 'another text' },
    });
    expect(pushes()).toEqual([TOKEN]);
  });

  it('published, then another job POSTed under its id: 409 NotificationIdConflict, nothing enqueued', async () => {
    publish(job);
    await drainQueue();
    await expect(acceptSendRequest(ports, other)).rejects.toBeInstanceOf(NotificationIdConflictError);
    expect(ports.sendQueue.sent).toEqual([]);
    expect(pushes()).toEqual([TOKEN]);
    expect(deadLetterReasons()).toEqual([]);
  });
});
