import type { DeviceOwner } from './device';
import type { DeviceTarget } from './job-part';

/**
 * A device a chunk of work means to reach: a token, and the user it must still
 * belong to. `userId` is absent only for the first push of a job addressed to
 * tokens: there the backend named the device, whoever holds it (for this app).
 */
export interface Candidate {
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
  candidate: Candidate;
  reason: DropReason;
}

/** Why this candidate may not be sent to now, or undefined when it may. */
export function dropReason(
  candidate: Candidate,
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
 * candidate ends in exactly one of `recipients` or `dropped`.
 */
export function confirmRecipients(
  candidates: readonly Candidate[],
  owners: ReadonlyMap<string, DeviceOwner>,
  appId: string,
): { recipients: DeviceTarget[]; dropped: Dropped[] } {
  const recipients: DeviceTarget[] = [];
  const dropped: Dropped[] = [];
  for (const candidate of candidates) {
    const owner = owners.get(candidate.token);
    const reason = dropReason(candidate, owner, appId);
    if (reason !== undefined || owner === undefined)
      dropped.push({ candidate, reason: reason ?? 'NotRegistered' });
    else recipients.push({ token: owner.token, userId: owner.userId, appId, environment: owner.environment });
  }
  return { recipients, dropped };
}
