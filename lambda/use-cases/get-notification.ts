import { findSendRequest } from '../adapters/secondary/notifications-table';
import { type ChunkProgress, readTracking } from '../adapters/secondary/tracking-table';
import { NotFoundError } from '../domain/errors';
import { countByStatus, mergeDeliveries } from '../domain/tracking';

/** Devices per page of a notification's report: the default and the most a caller may ask. */
export const MAX_PAGE_DEVICES = 1_000;

/** Where a page starts: after this device in (userId, token) order. */
export interface PageStart {
  userId: string;
  token: string;
}

/**
 * A notification's delivery report, for backends, one page of devices at a time.
 *
 * 1. Read the send request and every record of the notification (a Query per shard):
 *    the chunks' outcomes, the receipts and the chunks' progress.
 * 2. Nothing recorded and no send request under this id: NotificationNotFound.
 * 3. Merge them into one status per device; `counts` cover every device, `devices`
 *    is the page after `after` in (userId, token) order — stable while devices are added.
 * 4. `progress` says whether every part's recipients have been resolved and sent, so
 *    a stuck or lost part shows as not complete rather than as a short list.
 */
export async function getNotification(
  notificationId: string,
  page: { limit: number; after?: PageStart } = { limit: MAX_PAGE_DEVICES },
) {
  const [tracking, request] = await Promise.all([
    readTracking(notificationId),
    findSendRequest(notificationId),
  ]);
  if (tracking.progress.length === 0 && tracking.receipts.length === 0 && request === undefined) {
    throw new NotFoundError(
      'NotificationNotFound',
      'No notification with this id is known (tracking data expires after 30 days).',
    );
  }
  const deliveries = mergeDeliveries(tracking.chunks, tracking.receipts);
  deliveries.sort(byUserAndToken);
  const { after } = page;
  const start = after === undefined ? 0 : deliveries.findIndex((d) => byUserAndToken(d, after) > 0);
  const rest = start < 0 ? [] : deliveries.slice(start);
  const devices = rest.slice(0, page.limit);
  const last = devices.at(-1);
  const parts = typeof request?.answer.jobs === 'number' ? request.answer.jobs : undefined;
  return {
    notificationId,
    tracked: deliveries.length > 0,
    counts: { devices: deliveries.length, ...countByStatus(deliveries) },
    progress: progressOf(tracking.progress, parts),
    devices,
    ...(rest.length > devices.length && last !== undefined
      ? { next: { userId: last.userId, token: last.token } satisfies PageStart }
      : {}),
  };
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
