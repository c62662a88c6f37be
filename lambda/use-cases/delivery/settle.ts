import { pruneDevice } from '../../adapters/secondary/devices-table';
import { pruneLiveActivityToken } from '../../adapters/secondary/live-activity-tokens-table';
import { recordDelivery } from '../../adapters/secondary/tracking-table';
import type { ApnsOutcome } from '../../domain/apns-outcome';
import { tokenHash } from '../../domain/device-token';
import type { DeliveryStatus } from '../../domain/tracking';
import type { DeviceTarget } from '../../domain/work';
import { logger } from '../../observability';
import { mapConcurrent } from './concurrency';
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
}

/**
 * Step 4, settle: each device ends in its outcome, counted once — accepted; pruned
 * (an invalid token; a 410 only if the token was not registered again after APNs's
 * timestamp, otherwise kept); or due for a retry (step 5 re-queues or dead-letters
 * it). With `track.receipts` each outcome is recorded for the device.
 * `sendToDevices` has already stopped the job on a fatal outcome.
 */
export async function settleOutcomes(
  delivery: Delivery,
  devices: DeviceTarget[],
  outcomes: ApnsOutcome[],
): Promise<Settled> {
  const settled: Settled = { accepted: [], retries: [] };
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
  const { tally } = delivery;
  switch (outcome.kind) {
    case 'accepted':
      tally.add('accepted');
      settled.accepted.push(device);
      await track(
        delivery,
        device,
        'accepted',
        outcome.apnsId === undefined ? {} : { apnsId: outcome.apnsId },
      );
      return;
    case 'invalid-token': {
      const since = outcome.timestamp === undefined ? undefined : new Date(outcome.timestamp);
      const pruned = await (device.liveActivity ? pruneLiveActivityToken : pruneDevice)(device, since);
      tally.add(pruned ? 'pruned' : 'kept', outcome.reason);
      await track(delivery, device, pruned ? 'pruned' : 'failed', { reason: outcome.reason });
      logger.info(pruned ? 'pruned invalid token' : 'kept token re-registered after APNs invalidated it', {
        token: tokenHash(device.token),
        reason: outcome.reason,
      });
      return;
    }
    case 'retryable':
      await track(delivery, device, 'queued', { reason: outcome.reason });
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

/** Records a device's outcome when the job is tracked (`track.receipts`); nothing otherwise. */
export async function track(
  delivery: Delivery,
  device: DeviceTarget,
  status: DeliveryStatus,
  fields: { apnsId?: string; reason?: string } = {},
): Promise<void> {
  const { work } = delivery;
  if (!work.job.track?.receipts) return;
  const now = new Date();
  await recordDelivery(
    work.job.notificationId,
    {
      token: device.token,
      userId: device.userId,
      status,
      ...fields,
      ...(status === 'accepted' ? { acceptedAt: now.toISOString() } : {}),
      ...(work.repush === undefined ? {} : { repushes: work.repush.round }),
    },
    now,
  );
}
