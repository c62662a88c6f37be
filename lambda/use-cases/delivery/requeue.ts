import { recordIssuedParts } from '../../adapters/secondary/notifications-table';
import { deadLetter, enqueue } from '../../adapters/secondary/send-queue';
import { config } from '../../config';
import { tokenHash } from '../../domain/device-token';
import {
  DEVICES_PER_PART,
  type DeviceTarget,
  devicePartFingerprint,
  devicePartNames,
  JOB_PART_FORMAT,
  type JobPart,
  repushPartName,
  retryPartName,
} from '../../domain/job-part';
import { MAX_DELIVERY_ATTEMPTS, MAX_SQS_DELAY_SECONDS, retryDelaySeconds } from '../../domain/retry-policy';
import { DEFAULT_MAX_REPUSHES } from '../../domain/tracking';
import { logger } from '../../observability';
import type { Delivery } from './plan';
import type { Settled } from './settle';

/**
 * Step 5, requeue: exactly the devices of a chunk that need a retry go back on the
 * send queue, DEVICES_PER_PART to a message, with a growing delay (at least the
 * longest `retry-after`); after the last attempt they are dead-lettered with their
 * reasons.
 */
export async function requeueRetries(delivery: Delivery, chunk: number, settled: Settled): Promise<void> {
  const { retries } = settled;
  if (retries.length === 0) return;
  const { jobPart, tally } = delivery;
  const attempt = jobPart.attempt + 1;
  const groups = inGroups(retries, DEVICES_PER_PART);
  const names = devicePartNames(retryPartName(jobPart.part, chunk), groups.length);
  const parts = groups.map(
    (group, i): JobPart => ({
      pushgate: JOB_PART_FORMAT,
      job: jobPart.job,
      part: names[i] ?? '',
      attempt,
      devices: group.map((r) => r.device),
      reasons: Object.fromEntries(group.map((r) => [tokenHash(r.device.token), r.reason])),
      ...(jobPart.repush === undefined ? {} : { repush: jobPart.repush }),
    }),
  );
  // Dead-lettered parts too: `npm run redrive` puts them back on the queue as they are.
  await recordIssued(jobPart.job.notificationId, parts);
  if (attempt >= MAX_DELIVERY_ATTEMPTS) {
    for (const part of parts) {
      const reasons = [...new Set(Object.values(part.reasons ?? {}))].join(', ');
      await deadLetter(
        JSON.stringify(part),
        'RetriesExhausted',
        `${part.devices?.length ?? 0} devices still failing: ${reasons}`,
      );
    }
    const summary = [...new Set(retries.map((r) => r.reason))].join(', ');
    const reasons = new Map(retries.map((r) => [r.device.token, r.reason]));
    for (const r of retries) {
      tally.add('deadLettered', r.reason);
      tally.countPlatform('deadLettered', r.device);
    }
    for (const outcome of settled.outcomes) {
      const reason = reasons.get(outcome.token);
      if (reason === undefined) continue;
      outcome.status = 'failed';
      outcome.reason = `${reason} (retries exhausted)`;
    }
    logger.error('dead-lettered devices after the last attempt', {
      notificationId: jobPart.job.notificationId,
      devices: retries.length,
      reasons: summary,
    });
    return;
  }
  const retryAfter = Math.max(0, ...retries.map((r) => r.retryAfterSeconds ?? 0));
  const delaySeconds = retryDelaySeconds(attempt, retryAfter, config.retryBaseDelaySeconds);
  await enqueue(parts.map((part) => ({ body: JSON.stringify(part), delaySeconds })));
  for (const r of retries) {
    tally.add('retried', r.reason);
    tally.countPlatform('retried', r.device);
  }
}

/**
 * Schedules the next re-push round for the devices APNs just accepted, if the job
 * asks for one: DEVICES_PER_PART to a message.
 */
export async function scheduleRepush(
  delivery: Delivery,
  chunk: number,
  accepted: DeviceTarget[],
): Promise<void> {
  const { jobPart } = delivery;
  const track = jobPart.job.track;
  if (accepted.length === 0 || !track?.receipts || track.repushAfterSeconds === undefined) return;
  const round = (jobPart.repush?.round ?? 0) + 1;
  if (round > (track.maxRepushes ?? DEFAULT_MAX_REPUSHES)) return;
  const dueAt = Date.now() + track.repushAfterSeconds * 1000;
  const groups = inGroups(accepted, DEVICES_PER_PART);
  const names = devicePartNames(repushPartName(jobPart.part, chunk, round), groups.length);
  const delaySeconds = Math.min(MAX_SQS_DELAY_SECONDS, track.repushAfterSeconds);
  const rounds = groups.map(
    (devices, i): JobPart => ({
      pushgate: JOB_PART_FORMAT,
      job: jobPart.job,
      part: names[i] ?? '',
      attempt: 0,
      devices,
      repush: { round, dueAt },
    }),
  );
  await recordIssued(jobPart.job.notificationId, rounds);
  await enqueue(rounds.map((next) => ({ body: JSON.stringify(next), delaySeconds })));
}

/**
 * Records parts with devices as the sender's own before they are queued, so the
 * sender can tell them from parts anyone else writes under the notification's id
 * (delivery/plan.ts).
 */
export async function recordIssued(notificationId: string, parts: readonly JobPart[]): Promise<void> {
  await recordIssuedParts(
    notificationId,
    parts.map((part) => ({
      part: part.part,
      attempt: part.attempt,
      fingerprint: devicePartFingerprint(part),
    })),
  );
}

function inGroups<T>(items: readonly T[], size: number): T[][] {
  const groups: T[][] = [];
  for (let start = 0; start < items.length; start += size) groups.push(items.slice(start, start + size));
  return groups;
}
