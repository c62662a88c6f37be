import { NotFoundError } from '../domain/errors';
import { leanDoneSummary } from '../domain/lean-job';
import type { ChunkProgress, NotificationTracking, SendRequestRecord } from '../domain/notification-records';
import {
  type ReachTotals,
  reachTotals,
  reasonTotals,
  unreachableReason,
  untrackedCounts,
} from '../domain/send-status';
import { countByStatus, mergeTrackedDevices } from '../domain/tracking';
import type { SendRequestAnswer } from './accept-send-request';
import type { Ports } from './ports';

/** Where a notification's report is read from. */
export type ReportPorts = Pick<Ports, 'notificationRecords' | 'trackingStore'>;

/** Devices per page of a notification's report: the default and the most a caller may ask. */
export const MAX_PAGE_DEVICES = 1_000;

/** Where a page starts: after this device in (userId, token) order. */
export interface PageStart {
  userId: string;
  token: string;
}

/**
 * A notification's status report, for backends, one page of devices at a time —
 * for every notification, tracked or not.
 *
 * 1. Read the send request and every record of the notification (a Query per shard):
 *    the chunks' outcomes and tallies, the receipts, the chunks' progress and the
 *    parts moved to the dead-letter queue.
 * 2. Nothing recorded and no send request under this id: NotificationNotFound.
 * 3. `recipients` repeats the send answer's count (users: with how many had no
 *    device); `counts` are devices per status — per device for a tracked job
 *    (receipts included), from the chunks' tallies for an untracked one; `reasons`
 *    counts devices per outcome and reason; when nobody was or will be reached,
 *    `reason` says why in a sentence.
 * 4. A tracked job lists its devices: the page after `after` in (userId, token)
 *    order — stable while devices are added.
 * 5. `progress` says whether every part's devices have been confirmed and pushed to, so
 *    a stuck or lost part shows as not complete rather than as a short list.
 *
 * A lean job finished with every device accepted has no chunk completion: its claim on
 * the request record says which invocation held it, and that invocation's done item
 * lists it with who it reached (addLeanJob) — the same report, one read more.
 */
export async function getNotification(
  ports: ReportPorts,
  notificationId: string,
  page: { limit: number; after?: PageStart } = { limit: MAX_PAGE_DEVICES },
) {
  const [tracking, request] = await Promise.all([
    ports.trackingStore.readTracking(notificationId),
    ports.notificationRecords.findSendRequest(notificationId),
  ]);
  await addLeanJob(ports, notificationId, request, tracking);
  if (
    tracking.progress.length === 0 &&
    tracking.receipts.length === 0 &&
    tracking.deadLettered.length === 0 &&
    request === undefined
  ) {
    throw new NotFoundError(
      'NotificationNotFound',
      'No notification with this id is known (tracking data expires after 30 days).',
    );
  }
  const reported = mergeTrackedDevices(tracking.chunks, tracking.receipts);
  reported.sort(byUserAndToken);
  const { after } = page;
  const start = after === undefined ? 0 : reported.findIndex((d) => byUserAndToken(d, after) > 0);
  const rest = start < 0 ? [] : reported.slice(start);
  const devices = rest.slice(0, page.limit);
  const last = devices.at(-1);
  const answer = request?.answer as Partial<SendRequestAnswer> | undefined;
  // A record written before `parts` existed holds only `jobs`, the same count.
  const stored = answer?.parts ?? answer?.jobs;
  const parts = typeof stored === 'number' ? stored : undefined;
  const tracked = request?.receipts !== undefined || reported.length > 0;
  const totals = reachTotals(tracking.summaries);
  const counts = tracked
    ? { devices: reported.length, ...countByStatus(reported) }
    : untrackedCounts(tracking.summaries);
  const reasons = reasonTotals(tracking.summaries);
  const progress = progressOf(tracking.progress, parts);
  const recipients = recipientsOf(answer?.recipients, totals);
  const reason = unreachableReason({
    ...(request?.appId === undefined ? {} : { appId: request.appId }),
    ...(answer?.recipients === undefined ? {} : { named: answer.recipients }),
    reach: totals,
    counts,
    reasons,
    deadLettered: tracking.deadLettered,
    complete: progress.complete,
  });
  return {
    notificationId,
    tracked,
    ...(recipients === undefined ? {} : { recipients }),
    ...(parts === undefined ? {} : { parts, jobs: parts }),
    counts,
    reasons,
    ...(reason === undefined ? {} : { reason }),
    ...(tracking.deadLettered.length === 0 ? {} : { deadLettered: tracking.deadLettered }),
    progress,
    devices,
    ...(rest.length > devices.length && last !== undefined
      ? { next: { userId: last.userId, token: last.token } satisfies PageStart }
      : {}),
  };
}

/**
 * Adds what a lean job's claim says to the notification's records, unless a chunk
 * completion recorded it (the unhappy path): listed in its holder's done item, its
 * chunk completed with every planned device accepted; held under a live lease, its
 * chunk in progress; neither (its holder stopped), nothing — not complete.
 */
async function addLeanJob(
  { notificationRecords }: ReportPorts,
  notificationId: string,
  request: SendRequestRecord | undefined,
  tracking: NotificationTracking,
): Promise<void> {
  if (request?.claimedBy === undefined) return;
  const part = request.claimedPart ?? '0';
  const recorded = tracking.progress.some(
    (chunk) => chunk.part === part && chunk.attempt === 0 && chunk.chunk === 0 && chunk.completed,
  );
  if (recorded) return;
  const done = await notificationRecords.leanJobsDone(request.claimedBy, false);
  if (done.has(notificationId)) {
    // Who it reached: in the done item (claims are written before the devices are read),
    // or on the claim itself as the first lean version wrote it.
    const plan = done.get(notificationId) ?? request.planned;
    tracking.progress.push({ part, attempt: 0, chunk: 0, completed: true, chunks: 1 });
    if (plan !== undefined) tracking.summaries.push({ part, attempt: 0, summary: leanDoneSummary(plan) });
  } else if ((request.claimedUntil ?? 0) > Date.now()) {
    tracking.progress.push({ part, attempt: 0, chunk: 0, completed: false });
  }
}

/** The send answer's `recipients`, with — for a job to users — how many of them had no device. */
function recipientsOf(named: SendRequestAnswer['recipients'] | undefined, totals: ReachTotals) {
  if (named === undefined) return undefined;
  return 'users' in named ? { ...named, usersWithoutDevices: totals.usersWithoutDevices } : named;
}

function byUserAndToken(a: PageStart, b: PageStart): number {
  return a.userId < b.userId
    ? -1
    : a.userId > b.userId
      ? 1
      : a.token < b.token
        ? -1
        : a.token > b.token
          ? 1
          : 0;
}

/**
 * How far the send has come: parts whose every chunk is completed (first delivery),
 * and chunks some invocation holds right now. `complete` only when every part the
 * request was split into is done and nothing is in flight (retries still waiting
 * show as `queued` devices).
 */
function progressOf(progress: readonly ChunkProgress[], parts: number | undefined) {
  const firstTries = new Map<string, { done: number; chunks?: number }>();
  let chunksInProgress = 0;
  for (const chunk of progress) {
    if (!chunk.completed) chunksInProgress++;
    if (chunk.attempt !== 0 || chunk.part.includes('/')) continue;
    const part = firstTries.get(chunk.part) ?? { done: 0 };
    if (chunk.completed) part.done++;
    if (chunk.chunks !== undefined) part.chunks = chunk.chunks;
    firstTries.set(chunk.part, part);
  }
  const partsDone = [...firstTries.values()].filter(
    (p) => p.chunks !== undefined && p.done >= p.chunks,
  ).length;
  return {
    ...(parts === undefined ? {} : { parts }),
    partsDone,
    chunksInProgress,
    ...(parts === undefined ? {} : { complete: partsDone >= parts && chunksInProgress === 0 }),
  };
}
