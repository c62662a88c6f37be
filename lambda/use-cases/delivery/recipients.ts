import { currentOwners, indexedDevicesOf } from '../../adapters/secondary/devices-table';
import { tokenHash } from '../../domain/device-token';
import type { DeliveryOutcomeName, DeviceTarget } from '../../domain/job-part';
import {
  type Candidate,
  confirmRecipients,
  type DropReason,
  isJobRecipient,
  MAX_DEVICES_PER_USER,
  newestDevicesPerUser,
} from '../../domain/recipients';
import type { ChunkOutcome } from '../../domain/tracking';
import { logger } from '../../observability';
import { mapConcurrent } from './concurrency';
import type { Chunk, Delivery } from './plan';

/** Parallel DynamoDB queries when resolving users to devices. */
const QUERY_CONCURRENCY = 16;

const OUTCOME: Record<DropReason, DeliveryOutcomeName> = {
  DeviceMoved: 'moved',
  NotRegistered: 'unregistered',
  NotRegisteredForApp: 'unregistered',
};

/**
 * The devices a chunk may be sent to now — the one place every kind of work (first
 * push, retry, re-push round) passes through right before its pushes leave:
 *
 * 1. candidates — a user's devices of this app from the `byUser` index (which may
 *    lag: it can still list a token that moved or was signed out a moment ago, or
 *    miss one just registered), at most MAX_DEVICES_PER_USER of them, the most
 *    recently seen (the rest counted as `TooManyDevices`); the job's tokens; or the
 *    devices a retry or re-push carries, each with the user it was for.
 * 2. confirm — a consistent read of those tokens in the Devices table, and of their
 *    users' device generations, keeps only those still registered for the app and
 *    held by that user, and not taken by an erase since (domain/recipients.ts).
 * 3. every dropped device is counted (`moved` or `unregistered`, with its reason);
 *    one a retry or re-push carried (so it already has a tracking status) is
 *    returned in `dropped`, to be recorded as `failed` with that reason along with
 *    the chunk's other outcomes.
 */
export async function resolveRecipients(
  delivery: Delivery,
  chunk: Chunk,
): Promise<{ recipients: DeviceTarget[]; dropped: ChunkOutcome[] }> {
  const { appId } = delivery.jobPart.job;
  const candidates = await candidatesOf(delivery, chunk, appId);
  if (candidates.length === 0) return { recipients: [], dropped: [] };
  const owners = await currentOwners(
    candidates.map((candidate) => candidate.token),
    candidates.flatMap((candidate) => (candidate.userId === undefined ? [] : [candidate.userId])),
  );
  const { recipients, dropped } = confirmRecipients(candidates, owners, appId);
  if (dropped.length === 0) return { recipients, dropped: [] };
  const carried =
    'devices' in chunk ? new Map(chunk.devices.map((device) => [device.token, device])) : undefined;
  const droppedOutcomes: ChunkOutcome[] = [];
  for (const { candidate, reason } of dropped) {
    delivery.tally.add(OUTCOME[reason], reason);
    const device = carried?.get(candidate.token);
    if (device !== undefined)
      droppedOutcomes.push({ token: device.token, userId: device.userId, status: 'failed', reason });
  }
  logger.info('dropped devices no longer held for this notification', {
    notificationId: delivery.jobPart.job.notificationId,
    part: delivery.jobPart.part,
    dropped: dropped.length,
    tokens: dropped.slice(0, 10).map(({ candidate, reason }) => `${tokenHash(candidate.token)}:${reason}`),
  });
  return { recipients, dropped: droppedOutcomes };
}

async function candidatesOf(delivery: Delivery, chunk: Chunk, appId: string): Promise<Candidate[]> {
  if ('devices' in chunk) return carriedRecipients(delivery, chunk.devices);
  if ('tokens' in chunk) return chunk.tokens.map((token) => ({ token }));
  // Activities are addressed by Live Activity pushes only (delivery/live-activity-targets.ts).
  if ('activities' in chunk) return [];
  const perUser = await mapConcurrent(chunk.users, QUERY_CONCURRENCY, (userId) =>
    indexedDevicesOf(userId, appId),
  );
  const { kept, over } = newestDevicesPerUser(perUser.flat());
  if (over.length > 0) {
    delivery.tally.add('unregistered', 'TooManyDevices', over.length);
    logger.warn('users with more devices than a notification reaches; the oldest seen get nothing', {
      notificationId: delivery.jobPart.job.notificationId,
      users: [...new Set(over.map((device) => device.userId))].length,
      devices: over.length,
      limit: MAX_DEVICES_PER_USER,
    });
  }
  return kept.map(({ token, userId }) => ({ token, userId }));
}

/** The devices a retry or re-push carries that the job addresses; any other is counted and dropped. */
export function carriedRecipients(delivery: Delivery, devices: readonly DeviceTarget[]): DeviceTarget[] {
  const { to } = delivery.jobPart.job;
  const kept = devices.filter((device) => isJobRecipient(to, device));
  const strangers = devices.length - kept.length;
  if (strangers > 0) {
    delivery.tally.add('unregistered', 'NotARecipient', strangers);
    logger.warn('a job part carried devices its job does not address; they get nothing', {
      notificationId: delivery.jobPart.job.notificationId,
      part: delivery.jobPart.part,
      devices: strangers,
    });
  }
  return kept;
}
