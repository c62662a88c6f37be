import { isLiveEntry, recentlyMovedAway } from '../../domain/device-set';
import { tokenHash } from '../../domain/device-token';
import {
  type CandidateDevice,
  confirmDevices,
  confirmDevicesInSets,
  type Dropped,
  type DropReason,
  isAddressedBy,
  newestDevicesPerUser,
} from '../../domain/devices-to-push';
import { type OutcomeName, recordedStatus } from '../../domain/outcomes';
import { type PushDevice, platformField } from '../../domain/push-device';
import type { RecordedStatus } from '../../domain/tracking';
import { logger } from '../../observability';
import type { Chunk, Delivery } from './plan';

const OUTCOME: Record<DropReason, OutcomeName> = {
  DeviceMoved: 'moved',
  NotRegistered: 'unregistered',
  NotRegisteredForApp: 'unregistered',
};

/**
 * The devices a chunk may be sent to now — the one place every kind of work (first
 * push, retry, re-push round) passes through right before its pushes leave. Who holds
 * a device is what its user's device set says (docs/push-privacy.md), read strongly
 * consistent:
 *
 * - a chunk of users: their sets, one BatchGetItem per 100 users — each user's live
 *   devices of the job's app are pushed to (at most the deployment's cap, the
 *   most recently seen; a set written before the cap was lowered is cut, the rest
 *   counted as `TooManyDevices`); a token that moved to another user in the past
 *   week (the set's moved-away marks) is counted as `DeviceMoved`;
 * - devices a retry or re-push carries: their users' sets, in the same way — a device
 *   no longer in its user's set is dropped (`DeviceMoved` when it left for another
 *   user, `NotRegistered` otherwise);
 * - the job's tokens: their records name who registered each last, and the token
 *   counts only while it is in that user's set.
 *
 * Every dropped device is counted (`moved` or `unregistered`, with its reason); one a
 * retry or re-push carried (so it already has a tracking status) is returned in
 * `dropped`, to be recorded with its outcome's status and that reason along with the chunk's
 * other outcomes.
 */
export async function resolveDevices(
  delivery: Delivery,
  chunk: Chunk,
): Promise<{ devices: PushDevice[]; dropped: RecordedStatus[] }> {
  const { appId } = delivery.jobPart.job;
  // Activities are addressed by Live Activity pushes only (delivery/live-activity-devices.ts).
  if ('activities' in chunk) return { devices: [], dropped: [] };
  if ('users' in chunk) return { devices: await devicesOfUsers(delivery, chunk.users, appId), dropped: [] };
  const { devices, dropped } =
    'devices' in chunk
      ? await confirmCarried(delivery, carriedDevices(delivery, chunk.devices), appId)
      : await confirmTokens(delivery, chunk.tokens, appId);
  if (dropped.length === 0) return { devices, dropped: [] };
  const carried =
    'devices' in chunk ? new Map(chunk.devices.map((device) => [device.token, device])) : undefined;
  const droppedStatuses: RecordedStatus[] = [];
  for (const { candidate, reason } of dropped) {
    delivery.tally.add(OUTCOME[reason], reason);
    const device = carried?.get(candidate.token);
    if (device !== undefined) droppedStatuses.push(recordedStatus(device, OUTCOME[reason], reason));
  }
  logger.info('dropped devices no longer held for this notification', {
    notificationId: delivery.jobPart.job.notificationId,
    part: delivery.jobPart.part,
    dropped: dropped.length,
    tokens: dropped.slice(0, 10).map(({ candidate, reason }) => `${tokenHash(candidate.token)}:${reason}`),
  });
  return { devices, dropped: droppedStatuses };
}

/** Each user's live devices of the app, from the users' sets (one consistent read per 100 users). */
async function devicesOfUsers(delivery: Delivery, users: readonly string[], appId: string) {
  const sets = await delivery.ports.deviceRegistry.deviceSetsOf(users);
  const now = new Date();
  const devices: (PushDevice & { lastSeenAt: string })[] = [];
  let movedAway = 0;
  for (const set of sets.values()) {
    movedAway += recentlyMovedAway(set, now).length;
    for (const [token, entry] of set.devices) {
      if (entry.appId !== appId || !isLiveEntry(entry, now)) continue;
      devices.push({
        token,
        userId: set.userId,
        appId,
        environment: entry.environment,
        ...platformField(entry.platform),
        lastSeenAt: entry.lastSeenAt,
      });
    }
  }
  // A device the user held until it moved to another user gets nothing; it is counted, as
  // a retry or re-push carrying it would be.
  if (movedAway > 0) delivery.tally.add('moved', 'DeviceMoved', movedAway);
  const max = delivery.ports.settings.maxDevicesPerUser;
  const { kept, over } = newestDevicesPerUser(devices, max);
  if (over.length > 0) {
    delivery.tally.add('unregistered', 'TooManyDevices', over.length);
    logger.warn('device sets larger than the cap; the least recently seen devices get nothing', {
      notificationId: delivery.jobPart.job.notificationId,
      users: [...new Set(over.map((device) => device.userId))].length,
      devices: over.length,
      limit: max,
    });
  }
  return kept.map(({ lastSeenAt: _, ...device }) => device);
}

async function confirmCarried(delivery: Delivery, devices: readonly PushDevice[], appId: string) {
  const sets = await delivery.ports.deviceRegistry.deviceSetsOf(devices.map((device) => device.userId));
  return confirmDevicesInSets(
    devices.map(({ token, userId }) => ({ token, userId })),
    sets,
    appId,
    new Date(),
  );
}

async function confirmTokens(
  delivery: Delivery,
  tokens: readonly string[],
  appId: string,
): Promise<{ devices: PushDevice[]; dropped: Dropped[] }> {
  const held = await delivery.ports.deviceRegistry.holdersOf(tokens);
  const owners = new Map(
    [...held.values()].map(({ token, userId, entry }) => [
      token,
      { token, userId, appId: entry.appId, environment: entry.environment, platform: entry.platform },
    ]),
  );
  const candidates: CandidateDevice[] = tokens.map((token) => ({ token }));
  return confirmDevices(candidates, owners, appId);
}

/** The devices a retry or re-push carries that the job addresses; any other is counted and dropped. */
export function carriedDevices(delivery: Delivery, devices: readonly PushDevice[]): PushDevice[] {
  const { to } = delivery.jobPart.job;
  const kept = devices.filter((device) => isAddressedBy(to, device));
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
