import { mapConcurrent } from '../domain/concurrency';
import { DeliveryTally } from '../domain/delivery-tally';
import { ChunksHeldElsewhereError, JobFailedError } from '../domain/errors';
import type { JobPart } from '../domain/job-part';
import { isLiveActivityJob } from '../domain/live-activity';
import type { PushDevice } from '../domain/push-device';
import { logger } from '../observability';
import { completeChunk } from './delivery/complete';
import { resolveDevices } from './delivery/devices';
import { claimLeanJob, type LeanInvocation } from './delivery/lean';
import { afterLiveActivityEnd, resolveLiveActivityDevices } from './delivery/live-activity-devices';
import { type Chunk, type Delivery, planDelivery } from './delivery/plan';
import { APNS_TIMEOUTS_PER_CHUNK } from './delivery/push';
import { pushByPlatform } from './delivery/push-by-platform';
import { deadLetterRefused, recordIssued, requeueRetries, scheduleRepush } from './delivery/requeue';
import { settleAnswers } from './delivery/settle';
import type { Ports } from './ports';

/** Chunks in flight at once, so resolving one overlaps sending another. */
const CHUNK_CONCURRENCY = 4;
/** Resolving, settling and recording a chunk, besides waiting for APNs. */
const CHUNK_BOOKKEEPING_MS = 10_000;
/**
 * Below this much remaining time no chunk is started; the rest goes on in a
 * continuation message. It covers the worst chunk: every APNs timeout it can wait
 * through in a row, plus its bookkeeping — so a started chunk always finishes.
 */
const timeReserveMs = ({ settings }: Ports) =>
  APNS_TIMEOUTS_PER_CHUNK * settings.requestTimeoutMs + CHUNK_BOOKKEEPING_MS;
/** How long a chunk is held by the invocation sending it: under the queue's visibility timeout (720 s). */
export const CHUNK_LEASE_MS = 300_000;

/**
 * Delivers one unit of sender work (a job, a part of one, or a retry), step by step:
 *
 * 1. plan — the app and the compiled APNs request; a big first delivery is split
 *    into parts (enqueued, nothing sent here); the chunks still to do (delivery/plan.ts).
 * Then, for each remaining chunk, CHUNK_CONCURRENCY at a time:
 * 2. claim — a conditional write with a lease. A chunk completed earlier is skipped;
 *    one another invocation holds (a concurrent duplicate, or a crashed one) is left
 *    alone, and this message fails once the others are done (ChunksHeldElsewhereError),
 *    so SQS delivers it again after the visibility timeout — never lost, never twice.
 * 3. send — confirm who holds each device right now (delivery/devices.ts: the
 *    privacy rule, for first pushes, retries and re-pushes alike), then send iOS
 *    devices over the warm APNs session of each environment and Android ones over
 *    the app's FCM session, at once; one answer per device (delivery/push-by-platform.ts).
 * 4. settle — accepted, pruned, kept or due for a retry, each counted once (delivery/settle.ts).
 * 5. requeue — the devices due for a retry go back on the queue with a delay, or to
 *    the DLQ after the last attempt; accepted ones get their re-push round if the job
 *    asks (delivery/requeue.ts). Then the chunk is marked completed (delivery/complete.ts).
 *
 * A lean job (one user or a few, untracked: domain/lean-job.ts) goes otherwise in
 * step 2: one conditional write on its request record claims it (delivery/lean.ts),
 * then its users' devices are read as in step 3; after settling, a job whose every
 * device was accepted is added to `invocation`'s done list (one write for the whole
 * invocation, by the handler), and any other writes its chunk's completion as above.
 *
 * A job that cannot succeed throws JobFailedError (the handler moves it to the DLQ);
 * every chunk worker has stopped before it propagates. When time runs short, the
 * rest goes on in a continuation message.
 */
export async function deliverNotification(
  ports: Ports,
  received: JobPart,
  tally: DeliveryTally,
  remainingTimeMs: () => number,
  invocation: LeanInvocation,
): Promise<void> {
  const delivery = await planDelivery(ports, received, tally);
  if (delivery === undefined) return;
  let outOfTime = false;
  const held: number[] = [];
  await mapConcurrent(delivery.pending, CHUNK_CONCURRENCY, async (index) => {
    if (outOfTime || remainingTimeMs() < timeReserveMs(ports)) {
      outOfTime = true;
      return;
    }
    const claim = delivery.lean
      ? await deliverLeanJob(delivery, invocation)
      : await deliverChunk(delivery, index);
    if (claim === 'held') held.push(index);
  });
  const { jobPart } = delivery;
  if (outOfTime) {
    // The continuation carries the held chunks too: it claims them once they are free.
    logger.info('continuing delivery in a new message', {
      notificationId: jobPart.job.notificationId,
      part: jobPart.part,
    });
    // A due re-push round goes on with fewer devices than it was queued with.
    if (jobPart.devices !== undefined) await recordIssued(ports, jobPart.job.notificationId, [jobPart]);
    await ports.sendQueue.enqueue([{ body: JSON.stringify(jobPart) }]);
    return;
  }
  if (held.length > 0) {
    logger.warn('chunks held by another invocation: this message will be delivered again', {
      notificationId: jobPart.job.notificationId,
      part: jobPart.part,
      attempt: jobPart.attempt,
      chunks: held,
    });
    throw new ChunksHeldElsewhereError(held);
  }
}

/**
 * Delivers one chunk if this invocation can claim it; what the claim found otherwise.
 * The chunk keeps a tally of its own — recorded with its completion, so every send
 * has a status, tracked or not — and adds it to its job part's.
 */
async function deliverChunk(delivery: Delivery, index: number): Promise<'sent' | 'completed' | 'held'> {
  const { jobPart, ports } = delivery;
  const { notificationId } = jobPart.job;
  const claim = await ports.notificationRecords.claimChunk(
    notificationId,
    jobPart.part,
    jobPart.attempt,
    index,
    CHUNK_LEASE_MS,
  );
  if (claim !== 'claimed') return claim;
  const tally = new DeliveryTally();
  try {
    await sendChunk({ ...delivery, tally }, index);
  } finally {
    delivery.tally.merge(tally);
  }
  return 'sent';
}

/**
 * Delivers a lean job's one chunk if this invocation can claim it: claims it, reads its
 * users' devices, pushes, settles — then lists it, with who it reached, in the
 * invocation's done item when every device was accepted, or writes its chunk's
 * completion with its tally (a retry, a prune, a dropped device: the unhappy path).
 */
async function deliverLeanJob(
  delivery: Delivery,
  invocation: LeanInvocation,
): Promise<'sent' | 'completed' | 'held'> {
  const { jobPart } = delivery;
  const { notificationId } = jobPart.job;
  const chunk = delivery.chunks[0] as Chunk;
  // Claimed before its devices are read, as a chunk is: the read must be the last word
  // before the pushes leave (the privacy rule) — a device signed out, moved or erased
  // while the claim is written (or waits out throttling, or takes over a stopped
  // holder's claim) must get nothing.
  const claim = await claimLeanJob(delivery.ports, jobPart, invocation, CHUNK_LEASE_MS);
  if (claim !== 'claimed') return claim;
  const tally = new DeliveryTally();
  const lean = { ...delivery, tally };
  try {
    const { devices } = await resolveDevices(lean, chunk);
    countReach(tally, chunk, devices);
    let pushed: Awaited<ReturnType<typeof pushByPlatform>>;
    try {
      pushed = await pushByPlatform(lean, devices);
    } catch (error) {
      // The job goes to the DLQ: free it so that a redrive sends it now, not after the lease.
      if (error instanceof JobFailedError) {
        await delivery.ports.notificationRecords
          .releaseLeanClaim(notificationId, invocation.id)
          .catch((releaseError) =>
            logger.warn('could not release a dead-lettered lean job', { error: releaseError }),
          );
      }
      throw error;
    }
    const settled = await settleAnswers(lean, pushed.devices, pushed.answers);
    if (pushed.refused !== undefined) await deadLetterRefused(lean, 0, pushed.refused, settled);
    await requeueRetries(lean, 0, settled);
    if (tally.counts.accepted === tally.reach.devices) {
      invocation.done.push({ notificationId, part: jobPart.part, plan: { ...tally.reach } });
    } else {
      await completeChunk(lean, 0, settled);
    }
    return 'sent';
  } finally {
    delivery.tally.merge(tally);
  }
}

async function sendChunk(delivery: Delivery, index: number): Promise<void> {
  const { jobPart, tally } = delivery;
  const { notificationId } = jobPart.job;
  const chunk = delivery.chunks[index] as Chunk;
  const { devices, dropped } = isLiveActivityJob(jobPart.job)
    ? { devices: await resolveLiveActivityDevices(delivery, chunk), dropped: [] }
    : await resolveDevices(delivery, chunk);
  countReach(tally, chunk, devices);
  let pushed: Awaited<ReturnType<typeof pushByPlatform>>;
  try {
    pushed = await pushByPlatform(delivery, devices);
  } catch (error) {
    // The job goes to the DLQ: free the chunk so that a redrive sends it now, not after the lease.
    if (error instanceof JobFailedError) {
      await delivery.ports.notificationRecords
        .releaseChunk(notificationId, jobPart.part, jobPart.attempt, index)
        .catch((releaseError) =>
          logger.warn('could not release a dead-lettered chunk', { error: releaseError }),
        );
    }
    throw error;
  }
  const settled = await settleAnswers(delivery, pushed.devices, pushed.answers);
  settled.statuses.push(...dropped);
  if (pushed.refused !== undefined) await deadLetterRefused(delivery, index, pushed.refused, settled);
  await afterLiveActivityEnd(delivery, settled.accepted);
  await requeueRetries(delivery, index, settled);
  await scheduleRepush(delivery, index, settled.accepted);
  await completeChunk(delivery, index, settled);
}

/**
 * A chunk's reach, right after resolving it: every device it found — those it
 * will push to and those it dropped (counted as moved or unregistered while
 * resolving) — and, for a chunk of users, how many of them have no device to push to.
 */
function countReach(tally: DeliveryTally, chunk: Chunk, devices: readonly PushDevice[]): void {
  tally.reach.devices = devices.length + tally.counts.moved + tally.counts.unregistered;
  if (!('users' in chunk)) return;
  const reached = new Set(devices.map((device) => device.userId));
  tally.reach.users = chunk.users.length;
  tally.reach.usersWithoutDevices = chunk.users.filter((userId) => !reached.has(userId)).length;
}
