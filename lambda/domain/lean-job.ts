/**
 * The lean path: the chat-app case — one notification per message, to one user or a
 * few — costs one DynamoDB write through the send queue and two through the API
 * (docs/decisions/lean-jobs.md). Everything else takes the chunk path unchanged.
 */

import type { JobPart } from './job-part';
import { isLiveActivityJob } from './live-activity';
import type { SendJob } from './send-job';
import type { ChunkSummary } from './send-status';

/**
 * The most users a lean job names. Small on purpose: a lean job's completion is
 * recorded once per sender invocation (up to 10 jobs), so a sender that crashes after
 * pushing and before that record sends its invocation's lean jobs again on
 * redelivery — this bounds how many devices that ambiguous case can reach.
 */
export const LEAN_MAX_USERS = 10;
/** The most tokens a lean job names (a user has a handful of devices). */
export const LEAN_MAX_TOKENS = 20;

/**
 * A job for the lean path: untracked (a tracked job records every device's outcome,
 * a write of its own anyway), not a Live Activity push (its devices are read and
 * ended per activity), and naming at most LEAN_MAX_USERS users or LEAN_MAX_TOKENS
 * tokens — one part and one chunk.
 */
export function isLeanJob(job: SendJob): boolean {
  if (job.track !== undefined || isLiveActivityJob(job)) return false;
  const { to } = job;
  if ('userIds' in to) return new Set(to.userIds).size <= LEAN_MAX_USERS;
  if ('tokens' in to) return new Set(to.tokens).size <= LEAN_MAX_TOKENS;
  return false;
}

/**
 * A lean job's first delivery — not a retry, a re-push round or any part carrying
 * devices, which keep the chunk path (their progress records, their `issued#` check).
 */
export function isLeanDelivery(part: JobPart): boolean {
  return part.attempt === 0 && part.devices === undefined && part.repush === undefined && isLeanJob(part.job);
}

/** Who a lean job reached (its users' devices, read right before its pushes): kept in its invocation's done item. */
export interface LeanPlan {
  users: number;
  usersWithoutDevices: number;
  devices: number;
}

/**
 * What a lean job did when the invocation that claimed it lists it as done: every
 * device it planned was accepted (a job with any other outcome writes its chunk's
 * completion with its own tally instead) — the summary its chunk would have recorded.
 */
export function leanDoneSummary(plan: LeanPlan): ChunkSummary {
  return {
    users: plan.users,
    usersWithoutDevices: plan.usersWithoutDevices,
    devices: plan.devices,
    outcomes: plan.devices === 0 ? {} : { accepted: plan.devices },
    reasons: {},
  };
}
