import type { ApnsOutcome } from '../../domain/apns-outcome';
import { mapConcurrent } from '../../domain/concurrency';
import { tokenHash } from '../../domain/device-token';
import type { PushDevice } from '../../domain/job-part';
import { type OutcomeName, trackedOutcome } from '../../domain/outcomes';
import type { ChunkOutcome } from '../../domain/tracking';
import { logger } from '../../observability';
import type { Delivery } from './plan';

/** Parallel DynamoDB writes when settling a chunk's devices. */
const WRITE_CONCURRENCY = 16;

export interface Retry {
  device: PushDevice;
  reason: string;
  retryAfterSeconds?: number;
}

export interface Settled {
  accepted: PushDevice[];
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
  devices: PushDevice[],
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
  device: PushDevice,
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
