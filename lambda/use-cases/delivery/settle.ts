import type { ApnsOutcome } from '../../domain/apns-outcome';
import { mapConcurrent } from '../../domain/concurrency';
import { tokenHash } from '../../domain/device-token';
import type { DeviceTarget } from '../../domain/job-part';
import { type OutcomeName, trackedOutcome } from '../../domain/outcomes';
import { type ChunkOutcome, encodeChunkTrackingPages } from '../../domain/tracking';
import { logger } from '../../observability';
import type { Delivery } from './plan';

/** Parallel DynamoDB writes when settling a chunk's devices. */
const WRITE_CONCURRENCY = 16;

export interface Retry {
  device: DeviceTarget;
  reason: string;
  retryAfterSeconds?: number;
}

export interface Settled {
  accepted: DeviceTarget[];
  retries: Retry[];
  /** Each device's outcome in this chunk, recorded with the chunk's completion when the job is tracked. */
  outcomes: ChunkOutcome[];
}

/**
 * Step 4, settle: each device ends in its outcome, counted once — accepted; pruned
 * (an invalid token; a 410 only if the token was not registered again after APNs's
 * timestamp, otherwise kept); or due for a retry (step 5 re-queues or dead-letters
 * it). `pushToDevices` has already stopped the job on a fatal outcome.
 */
export async function settleOutcomes(
  delivery: Delivery,
  devices: DeviceTarget[],
  outcomes: ApnsOutcome[],
): Promise<Settled> {
  const settled: Settled = { accepted: [], retries: [], outcomes: [] };
  await mapConcurrent(devices, WRITE_CONCURRENCY, (device, i) =>
    settleOne(delivery, device, outcomes[i] as ApnsOutcome, settled),
  );
  return settled;
}

async function settleOne(
  delivery: Delivery,
  device: DeviceTarget,
  outcome: ApnsOutcome,
  settled: Settled,
): Promise<void> {
  const { tally, ports } = delivery;
  const record = (outcome: OutcomeName, reason?: string) =>
    settled.outcomes.push(trackedOutcome(device, outcome, reason));
  switch (outcome.kind) {
    case 'accepted':
      tally.add('accepted');
      tally.countPlatform('accepted', device);
      settled.accepted.push(device);
      record('accepted');
      return;
    case 'invalid-token': {
      const since = outcome.timestamp === undefined ? undefined : new Date(outcome.timestamp);
      const pruned = device.liveActivity
        ? await ports.liveActivities.pruneLiveActivityToken(device, since)
        : await ports.deviceRegistry.pruneDevice(device, since);
      const ended = pruned ? 'pruned' : 'kept';
      tally.add(ended, outcome.reason);
      tally.countPlatform(ended, device);
      record(ended, outcome.reason);
      logger.info(pruned ? 'pruned invalid token' : 'kept token re-registered after APNs invalidated it', {
        token: tokenHash(device.token),
        reason: outcome.reason,
      });
      return;
    }
    case 'retryable':
      // Retried unless it was the last attempt: requeueRetries records it dead-lettered then.
      record('retried', outcome.reason);
      settled.retries.push({
        device,
        reason: outcome.reason,
        ...(outcome.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: outcome.retryAfterSeconds }),
      });
      return;
    default:
      throw new Error(
        `a fatal outcome (${outcome.reason}) reached settling; the send step stops the job first`,
      );
  }
}

/**
 * Marks the chunk completed, with the chunk's tally (users, devices, outcomes by
 * reason: what the notification's status reports for every job); for a tracked job
 * (`track.receipts`) the same single write holds every device's outcome, compactly
 * (see encodeChunkTracking) — or, for outcomes over one item's worth (long FCM
 * tokens), their first page, the others written just before as items of their own. `delivery.tally` is the chunk's own.
 */
export async function completeChunk(delivery: Delivery, chunk: number, settled: Settled): Promise<void> {
  const { jobPart, ports } = delivery;
  const { notificationId } = jobPart.job;
  const tracked = jobPart.job.track?.receipts === true;
  const pages = tracked ? encodeChunkTrackingPages(settled.outcomes) : [];
  if (pages.length > 1)
    await ports.trackingStore.saveTrackingPages(notificationId, jobPart.part, jobPart.attempt, chunk, pages);
  await ports.notificationRecords.markChunkCompleted(notificationId, jobPart.part, jobPart.attempt, chunk, {
    chunks: delivery.chunks.length,
    summary: delivery.tally.summary(),
    ...(pages[0] === undefined ? {} : { tracking: pages[0] }),
    ...(pages.length > 1 ? { trackingPages: pages.length } : {}),
    ...(tracked && jobPart.repush !== undefined ? { round: jobPart.repush.round } : {}),
  });
}
