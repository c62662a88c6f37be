import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { jobPartFromMessage } from '../../lambda/adapters/primary/deliver-notifications/job-part-message';
import { DeliveryTally } from '../../lambda/domain/delivery-tally';
import type { JobPart } from '../../lambda/domain/job-part';
import { isLeanJob, leanDoneSummary } from '../../lambda/domain/lean-job';
import type { SendJob } from '../../lambda/domain/send-job';
import { acceptSendRequest } from '../../lambda/use-cases/accept-send-request';
import { deliverNotification } from '../../lambda/use-cases/deliver-notification';
import { claimLeanJob, LeanInvocation, recordLeanCompletions } from '../../lambda/use-cases/delivery/lean';
import { registerIphone } from '../support/fake-sender';
import { FAKE_APP, type InMemoryPorts, inMemoryPorts } from '../support/in-memory-ports';

/**
 * The lean path (delivery/lean.ts) on in-memory ports: a lean job is claimed with one
 * conditional write on its request record, pushed once, and listed in its
 * invocation's done item — what any later copy of its message reads to push nothing.
 */

let ports: InMemoryPorts;
const TOKEN = 'b'.repeat(64);
const LEASE_MS = 60_000;

const job = {
  notificationId: 'n-lean',
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

/** The one message the API put on the send queue for the job. */
async function acceptedPart(): Promise<{ body: string; part: JobPart }> {
  await acceptSendRequest(ports, job);
  const [message, ...more] = ports.sendQueue.sent.splice(0);
  if (message === undefined || more.length > 0) throw new Error('expected one message on the send queue');
  return { body: message.body, part: jobPartFromMessage(message.body, 'm-1') };
}

/** Delivers one message's part in `invocation`, as the sender's handler does. */
async function deliver(part: JobPart, invocation: LeanInvocation): Promise<void> {
  await deliverNotification(ports, part, new DeliveryTally(), () => LEASE_MS, invocation);
}

const pushed = () => ports.pushProviders.apnsSent.map((sent) => sent.token);

describe('a lean job', () => {
  it('is one: one user, untracked', () => {
    expect(isLeanJob(job)).toBe(true);
  });

  it('from the API: one claim, pushed once, listed in its invocation’s done item; a redelivery pushes nothing', async () => {
    const { part } = await acceptedPart();
    const claims = vi.spyOn(ports.notificationRecords, 'claimLeanRequest');
    const first = new LeanInvocation();
    await deliver(part, first);
    expect(claims).toHaveBeenCalledTimes(1);
    expect(pushed()).toEqual([TOKEN]);
    expect(ports.notificationRecords.requests.get(job.notificationId)).toMatchObject({
      claimedBy: first.id,
      claimedPart: part.part,
      status: 'enqueued',
    });
    // One id taken (the API's), no chunk completion: the done item records it.
    expect(ports.notificationRecords.takes).toHaveLength(1);
    expect(ports.notificationRecords.chunks.size).toBe(0);
    await recordLeanCompletions(ports, first);
    expect(ports.notificationRecords.leanDone.get(first.id)).toEqual(
      new Map([[job.notificationId, { users: 1, usersWithoutDevices: 0, devices: 1 }]]),
    );

    const again = new LeanInvocation();
    await deliver(part, again);
    expect(pushed()).toEqual([TOKEN]);
    expect(again.done).toEqual([]);
  });

  it('published to the queue: its id taken and claimed in the same write, pushed once', async () => {
    const part = jobPartFromMessage(JSON.stringify(job), 'm-1');
    const claims = vi.spyOn(ports.notificationRecords, 'claimLeanRequest');
    const invocation = new LeanInvocation();
    await deliver(part, invocation);
    expect(claims).not.toHaveBeenCalled();
    expect(ports.notificationRecords.takes).toHaveLength(1);
    expect(ports.notificationRecords.takes[0]?.record).toMatchObject({
      status: 'enqueued',
      publishedPart: part.part,
      claimedBy: invocation.id,
    });
    expect(pushed()).toEqual([TOKEN]);
    expect(invocation.done.map((done) => done.notificationId)).toEqual([job.notificationId]);
  });

  it('twice in one invocation: the second copy is the first one’s, nothing pushed twice', async () => {
    const { part } = await acceptedPart();
    const invocation = new LeanInvocation();
    await deliver(part, invocation);
    await deliver(part, invocation);
    expect(pushed()).toEqual([TOKEN]);
    expect(invocation.done).toHaveLength(1);
  });

  it('held by another invocation: held under a live lease; taken over once the lease is over and nothing was done', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { part } = await acceptedPart();
    const holder = new LeanInvocation();
    expect(await claimLeanJob(ports, part, holder, LEASE_MS)).toBe('claimed');
    const other = new LeanInvocation();
    expect(await claimLeanJob(ports, part, other, LEASE_MS)).toBe('held');
    expect(ports.notificationRecords.requests.get(job.notificationId)?.claimedBy).toBe(holder.id);

    vi.setSystemTime(Date.now() + LEASE_MS + 1);
    expect(await claimLeanJob(ports, part, other, LEASE_MS)).toBe('claimed');
    expect(ports.notificationRecords.requests.get(job.notificationId)?.claimedBy).toBe(other.id);
  });

  it('done by an invocation whose lease is over: completed, not taken over', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { part } = await acceptedPart();
    const first = new LeanInvocation();
    await deliver(part, first);
    await recordLeanCompletions(ports, first);
    vi.setSystemTime(Date.now() + LEASE_MS + 1);
    expect(await claimLeanJob(ports, part, new LeanInvocation(), LEASE_MS)).toBe('completed');
    expect(ports.notificationRecords.requests.get(job.notificationId)?.claimedBy).toBe(first.id);
  });

  it('when the done item cannot be written, each job’s chunk completion is, and a redelivery still pushes nothing', async () => {
    const { part } = await acceptedPart();
    const first = new LeanInvocation();
    await deliver(part, first);
    vi.spyOn(ports.notificationRecords, 'recordLeanJobsDone').mockRejectedValueOnce(new Error('throttled'));
    await recordLeanCompletions(ports, first);
    expect(ports.notificationRecords.leanDone.size).toBe(0);
    const plan = { users: 1, usersWithoutDevices: 0, devices: 1 };
    expect(ports.notificationRecords.chunks.get(`${job.notificationId}|${part.part}|0|0`)?.completed).toEqual(
      {
        chunks: 1,
        summary: leanDoneSummary(plan),
      },
    );
    await deliver(part, new LeanInvocation());
    expect(pushed()).toEqual([TOKEN]);
  });

  it('with a device not accepted: its chunk completion is written with its tally, and it is not in the done item', async () => {
    ports.pushProviders.apnsAnswer = () => ({ status: 503, reason: 'ServiceUnavailable' });
    const { part } = await acceptedPart();
    const invocation = new LeanInvocation();
    await deliver(part, invocation);
    expect(invocation.done).toEqual([]);
    expect(
      ports.notificationRecords.chunks.get(`${job.notificationId}|${part.part}|0|0`)?.completed,
    ).toMatchObject({
      chunks: 1,
    });
    // The device is re-queued as a retry part carrying it.
    expect(ports.sendQueue.sentParts<JobPart>()).toEqual([
      expect.objectContaining({ attempt: 1, devices: [expect.objectContaining({ token: TOKEN })] }),
    ]);
  });
});
