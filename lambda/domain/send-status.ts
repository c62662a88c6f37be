/**
 * What happened to a send, tracked or not: every chunk's completion record carries a
 * few counters (users named, users with no device, devices, outcomes by reason), so a
 * notification nobody could reach still has a status that says why — at no extra
 * write: the counters ride on the write that marks the chunk completed.
 */

import { OUTCOME_NAMES, type OutcomeName, statusOf } from './outcomes';
import { DEVICE_STATUSES, type DeviceStatus } from './tracking';

/** What one chunk did (also what one job part did, summed over its chunks). */
export interface ChunkSummary {
  /** Users the chunk named (jobs to users). */
  users: number;
  /** Of those, users with no device of the app to push to (none registered, or none still theirs). */
  usersWithoutDevices: number;
  /** Devices the chunk handled: every device it pushed to or dropped. */
  devices: number;
  /** Devices per final outcome (`retried`: sent on to a later attempt). Zeros left out. */
  outcomes: Partial<Record<OutcomeName, number>>;
  /** Devices per `outcome:reason` (e.g. `pruned:Unregistered`). */
  reasons: Record<string, number>;
}

/** A chunk's summary as read back: which part and attempt it belongs to. */
export interface RecordedSummary {
  part: string;
  attempt: number;
  summary: ChunkSummary;
}

/** A job part the sender moved to the dead-letter queue, with why. */
export interface DeadLetteredPart {
  part: string;
  attempt: number;
  reason: string;
  detail: string;
  at: string;
}

/** How far a send reached (first deliveries only): users named, users without a device, devices found. */
export interface ReachTotals {
  users: number;
  usersWithoutDevices: number;
  devices: number;
}

/** Device totals per status (every status present) for a send nobody tracked per device. */
export type StatusCounts = { devices: number } & Record<DeviceStatus, number>;

/** A part name of a re-push round: "0/2r1" (its retries keep the name, at attempt > 0). */
function isRepushPart(part: string): boolean {
  return part.includes('r');
}

/** A first delivery of a part of the job: "0", "0.3" — not a retry or a re-push round. */
function isFirstDelivery({ part, attempt }: { part: string; attempt: number }): boolean {
  return attempt === 0 && !part.includes('/');
}

/** Who the first deliveries reached: users named, users with no device, devices found. */
export function reachTotals(summaries: readonly RecordedSummary[]): ReachTotals {
  const totals: ReachTotals = { users: 0, usersWithoutDevices: 0, devices: 0 };
  for (const recorded of summaries) {
    if (!isFirstDelivery(recorded)) continue;
    totals.users += recorded.summary.users;
    totals.usersWithoutDevices += recorded.summary.usersWithoutDevices;
    totals.devices += recorded.summary.devices;
  }
  return totals;
}

/**
 * One final status per device from the chunks' counters: each device of a first
 * delivery ends in one outcome, or is `retried` — then it is handled again by a retry
 * chunk (attempt > 0), which counts it once more. So the devices still waiting for a
 * retry are those retried less those a retry chunk handled. Re-push rounds send again
 * to devices already accepted, and change no status here.
 */
export function untrackedCounts(summaries: readonly RecordedSummary[]): StatusCounts {
  const counted = summaries.filter((recorded) => !isRepushPart(recorded.part));
  const counts: StatusCounts = {
    devices: reachTotals(summaries).devices,
    ...(Object.fromEntries(DEVICE_STATUSES.map((status) => [status, 0])) as Record<DeviceStatus, number>),
  };
  for (const outcome of OUTCOME_NAMES) {
    const devices = counted.reduce((total, recorded) => total + (recorded.summary.outcomes[outcome] ?? 0), 0);
    counts[statusOf(outcome)] += devices;
  }
  // A retried device is queued until a retry chunk handles it; that chunk counts its outcome.
  const retriesHandled = counted
    .filter((recorded) => recorded.attempt > 0)
    .reduce((total, recorded) => total + recorded.summary.devices, 0);
  counts[statusOf('retried')] = Math.max(0, counts[statusOf('retried')] - retriesHandled);
  return counts;
}

/** Devices per `outcome:reason` over every chunk but re-push rounds, largest first. */
export function reasonTotals(summaries: readonly RecordedSummary[]): Record<string, number> {
  const totals = new Map<string, number>();
  for (const recorded of summaries) {
    if (isRepushPart(recorded.part)) continue;
    for (const [key, count] of Object.entries(recorded.summary.reasons)) {
      totals.set(key, (totals.get(key) ?? 0) + count);
    }
  }
  return Object.fromEntries([...totals].sort((a, b) => b[1] - a[1]));
}

/** What the status report needs to explain a send that reached nobody. */
export interface ReachFacts {
  appId?: string;
  /** How many users or tokens the request named (from its answer). */
  named?: { users: number } | { tokens: number } | { activities: number };
  reach: ReachTotals;
  counts: StatusCounts;
  reasons: Record<string, number>;
  deadLettered: readonly DeadLetteredPart[];
  complete: boolean | undefined;
}

/**
 * Why nobody could be reached, in a sentence a person understands — or undefined
 * while some device got it, or may still get it (a part still in progress, a retry
 * still waiting).
 */
export function unreachableReason(facts: ReachFacts): string | undefined {
  const { counts, reach, deadLettered } = facts;
  if (counts.accepted + counts.received + counts.opened + counts.queued > 0) return undefined;
  const last = deadLettered.at(-1);
  if (last !== undefined && facts.complete !== true) {
    return `The job was moved to the dead-letter queue (${last.reason}: ${last.detail}). Nothing more is sent unless it is redriven.`;
  }
  if (facts.complete !== true) return undefined;
  const app = facts.appId === undefined ? 'this app' : `app ${facts.appId}`;
  if (reach.devices === 0) {
    if (reach.users > 0) {
      return reach.users === 1
        ? `The user this notification names has no device registered for ${app}.`
        : `None of the ${reach.users} users this notification names has a device registered for ${app}.`;
    }
    const named = facts.named;
    if (named !== undefined && 'activities' in named)
      return `None of the ${named.activities} activities this notification names has an update token registered for ${app}.`;
    return `No device or token this notification names is registered for ${app}.`;
  }
  const why = Object.entries(facts.reasons)
    .filter(([key]) => !key.startsWith('retried:'))
    .map(([key, count]) => `${count} ${key.replace(':', ' (')})`)
    .join(', ');
  return `No device accepted it: ${why || `${counts.failed} failed, ${counts.pruned} pruned`}.`;
}
