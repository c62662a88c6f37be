import type { DeviceOwner } from './device';
import { DEFAULT_MAX_DEVICES_PER_USER, type DeviceSet, isLiveEntry, movedAwayMark } from './device-set';
import { type PushDevice, platformField } from './push-device';
import type { SendJob } from './send-job';

/**
 * A device a chunk of work means to reach: a token, and the user it must still
 * belong to. `userId` is absent only for the first push of a job addressed to
 * tokens: there the backend named the device, whoever holds it (for this app).
 */
export interface CandidateDevice {
  token: string;
  userId?: string;
}

/**
 * Why a candidate gets no push:
 * - `DeviceMoved` — the token now belongs to another user;
 * - `NotRegistered` — no one holds it any more (signed out, erased, pruned, expired);
 * - `NotRegisteredForApp` — it is registered for another app now.
 */
export type DropReason = 'DeviceMoved' | 'NotRegistered' | 'NotRegisteredForApp';

export interface Dropped {
  candidate: CandidateDevice;
  reason: DropReason;
}

/** Why this candidate may not be sent to now, or undefined when it may. */
export function dropReason(
  candidate: CandidateDevice,
  owner: DeviceOwner | undefined,
  appId: string,
): DropReason | undefined {
  if (owner === undefined) return 'NotRegistered';
  if (owner.appId !== appId) return 'NotRegisteredForApp';
  if (candidate.userId !== undefined && owner.userId !== candidate.userId) return 'DeviceMoved';
  return undefined;
}

/**
 * The privacy rule: a push leaves only for a device that, at the moment it is
 * confirmed, is registered for the job's app and held by the user the work is for.
 * `owners` must be read from the table itself with a consistent read, right before
 * sending — never from an index that may lag. The environment comes from the
 * current record too (it may have been corrected or re-registered since). Each
 * candidate ends in exactly one of `devices` or `dropped`.
 */
export function confirmDevices(
  candidates: readonly CandidateDevice[],
  owners: ReadonlyMap<string, DeviceOwner>,
  appId: string,
): { devices: PushDevice[]; dropped: Dropped[] } {
  const devices: PushDevice[] = [];
  const dropped: Dropped[] = [];
  for (const candidate of candidates) {
    const owner = owners.get(candidate.token);
    const reason = dropReason(candidate, owner, appId);
    if (reason !== undefined || owner === undefined)
      dropped.push({ candidate, reason: reason ?? 'NotRegistered' });
    else
      devices.push({
        token: owner.token,
        userId: owner.userId,
        appId,
        environment: owner.environment,
        ...platformField(owner.platform),
      });
  }
  return { devices, dropped };
}

/**
 * The privacy rule against device sets: a push leaves only for a device in its
 * user's set (read strongly consistent right before sending), live, registered for the
 * job's app. A candidate outside the set is dropped — `DeviceMoved` when the token
 * left the set for another user's, `NotRegistered` otherwise. Each candidate ends in
 * exactly one of `devices` or `dropped`. `sets` must hold every candidate's user.
 */
export function confirmDevicesInSets(
  candidates: readonly (CandidateDevice & { userId: string })[],
  sets: ReadonlyMap<string, DeviceSet>,
  appId: string,
  now: Date,
): { devices: PushDevice[]; dropped: Dropped[] } {
  const devices: PushDevice[] = [];
  const dropped: Dropped[] = [];
  for (const candidate of candidates) {
    const set = sets.get(candidate.userId);
    const entry = set?.devices.get(candidate.token);
    if (entry !== undefined && isLiveEntry(entry, now)) {
      if (entry.appId === appId)
        devices.push({
          token: candidate.token,
          userId: candidate.userId,
          appId,
          environment: entry.environment,
          ...platformField(entry.platform),
        });
      else dropped.push({ candidate, reason: 'NotRegisteredForApp' });
    } else
      dropped.push({
        candidate,
        reason:
          set !== undefined && movedAwayMark(set, candidate.token) !== undefined
            ? 'DeviceMoved'
            : 'NotRegistered',
      });
  }
  return { devices, dropped };
}

/**
 * The most devices of one user (for one app) a notification reaches, by default: the
 * cap of a device set (domain/device-set.ts), which registration keeps. The sender
 * cuts a set that holds more — written before the deployment lowered its cap, or
 * seeded straight into the table — to its most recently seen.
 */
export const MAX_DEVICES_PER_USER = DEFAULT_MAX_DEVICES_PER_USER;

/**
 * Keeps each user's `max` most recently seen devices; the others are returned apart,
 * to be counted (`TooManyDevices`) and not sent to.
 */
export function newestDevicesPerUser<Device extends { userId: string; lastSeenAt: string }>(
  devices: readonly Device[],
  max = MAX_DEVICES_PER_USER,
): { kept: Device[]; over: Device[] } {
  const byUser = new Map<string, Device[]>();
  for (const device of devices) {
    const list = byUser.get(device.userId) ?? [];
    list.push(device);
    byUser.set(device.userId, list);
  }
  const kept: Device[] = [];
  const over: Device[] = [];
  for (const list of byUser.values()) {
    if (list.length <= max) {
      kept.push(...list);
      continue;
    }
    list.sort((a, b) => b.lastSeenAt.localeCompare(a.lastSeenAt));
    kept.push(...list.slice(0, max));
    over.push(...list.slice(max));
  }
  return { kept, over };
}

/**
 * Whether a device a job part carries (a retry, a re-push round) is one the job
 * itself addresses: a user it names, or a token it names. Only the sender writes
 * such parts, from the job's own recipients; a part that carries anyone else was put
 * on the queue by someone else, and those devices get nothing.
 */
export function isAddressedBy(to: SendJob['to'], device: { token: string; userId: string }): boolean {
  if ('userIds' in to) return to.userIds.includes(device.userId);
  if ('tokens' in to) return to.tokens.includes(device.token);
  return to.activities.some((activity) => activity.userId === device.userId);
}
