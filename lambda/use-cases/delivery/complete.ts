import { encodeChunkTrackingPages } from '../../domain/tracking';
import type { Delivery } from './plan';
import type { Settled } from './settle';

/**
 * Marks the chunk completed, with the chunk's tally (users, devices, outcomes by
 * reason: what the notification's status reports for every job); for a tracked job
 * (`track.receipts`) the same single write holds every device's outcome, compactly
 * (see encodeChunkTracking) — or, for outcomes over one item's worth (long FCM
 * tokens), their first page, the others written just before as items of their own. `delivery.tally` is the chunk's own.
 */
export async function completeChunk(delivery: Delivery, chunk: number, settled: Settled): Promise<void> {
  const { jobPart, ports } = delivery;
  const { notificationId } = jobPart.job;
  const tracked = jobPart.job.track?.receipts === true;
  const pages = tracked ? encodeChunkTrackingPages(settled.statuses) : [];
  if (pages.length > 1)
    await ports.trackingStore.saveTrackingPages(notificationId, jobPart.part, jobPart.attempt, chunk, pages);
  await ports.notificationRecords.markChunkCompleted(notificationId, jobPart.part, jobPart.attempt, chunk, {
    chunks: delivery.chunks.length,
    summary: delivery.tally.summary(),
    ...(pages[0] === undefined ? {} : { tracking: pages[0] }),
    ...(pages.length > 1 ? { trackingPages: pages.length } : {}),
    ...(tracked && jobPart.repush !== undefined ? { round: jobPart.repush.round } : {}),
  });
}
