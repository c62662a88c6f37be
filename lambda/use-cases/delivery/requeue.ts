import {
  devicePartFingerprint,
  devicePartsOf,
  JOB_PART_FORMAT,
  type JobPart,
  refusedPartName,
  repushPartName,
  retryPartName,
} from '../../domain/job-part';
import { recordedStatus } from '../../domain/outcomes';
import type { PushDevice } from '../../domain/push-device';
import { MAX_DELIVERY_ATTEMPTS, MAX_SQS_DELAY_SECONDS, retryDelaySeconds } from '../../domain/retry-policy';
import { DEFAULT_MAX_REPUSHES } from '../../domain/tracking';
import { logger } from '../../observability';
import { deadLetterJob } from '../dead-letter-job';
import type { Ports } from '../ports';
import type { Delivery } from './plan';
import type { RefusedPlatform } from './push-by-platform';
import type { Settled } from './settle';

/**
 * Step 5, requeue: exactly the devices of a chunk that need a retry go back on the
 * send queue, as many to a message as fit (devicePartsOf), with a growing delay (at least the
 * longest `retry-after`); after the last attempt they are dead-lettered with their
 * reasons.
 */
export async function requeueRetries(delivery: Delivery, chunk: number, settled: Settled): Promise<void> {
  const { retries } = settled;
  if (retries.length === 0) return;
  const { jobPart, tally, ports } = delivery;
  const attempt = jobPart.attempt + 1;
  const reasonOf = new Map(retries.map((r) => [r.device, r.reason]));
  const parts = devicePartsOf(
    {
      pushgate: JOB_PART_FORMAT,
      job: jobPart.job,
      attempt,
      ...(jobPart.repush === undefined ? {} : { repush: jobPart.repush }),
    },
    retryPartName(jobPart.part, chunk),
    retries.map((r) => r.device),
    (device) => reasonOf.get(device) ?? 'unknown',
  );
  // Dead-lettered parts too: `npm run redrive` puts them back on the queue as they are.
  await recordIssued(ports, jobPart.job.notificationId, parts);
  if (attempt >= MAX_DELIVERY_ATTEMPTS) {
    for (const part of parts) {
      const reasons = [...new Set(Object.values(part.reasons ?? {}))].join(', ');
      await ports.sendQueue.deadLetter(
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
    for (const [index, recorded] of settled.statuses.entries()) {
      const reason = reasons.get(recorded.token);
      if (reason !== undefined)
        settled.statuses[index] = recordedStatus(recorded, 'deadLettered', `${reason} (retries exhausted)`);
    }
    logger.error('dead-lettered devices after the last attempt', {
      notificationId: jobPart.job.notificationId,
      devices: retries.length,
      reasons: summary,
    });
    return;
  }
  const retryAfter = Math.max(0, ...retries.map((r) => r.retryAfterSeconds ?? 0));
  const delaySeconds = retryDelaySeconds(attempt, retryAfter, ports.settings.retryBaseDelaySeconds);
  await ports.sendQueue.enqueue(parts.map((part) => ({ body: JSON.stringify(part), delaySeconds })));
  for (const r of retries) {
    tally.add('retried', r.reason);
    tally.countPlatform('retried', r.device);
  }
}

/**
 * Dead-letters the devices of a chunk whose platform or APNs environment refused the job
 * (a credential or job error) while its other devices were pushed to: as parts carrying
 * just them (recorded as the sender's, so a redrive is read as its own), each with its
 * refusal's reason — a redrive after the fix reaches them alone, never the devices
 * already reached. Each is counted `deadLettered` and, when tracked, recorded failed.
 */
export async function deadLetterRefused(
  delivery: Delivery,
  chunk: number,
  refusals: readonly RefusedPlatform[],
  settled: Settled,
): Promise<void> {
  const { jobPart, tally, ports } = delivery;
  for (const [index, { devices, error }] of refusals.entries()) {
    const parts = devicePartsOf(
      {
        pushgate: JOB_PART_FORMAT,
        job: jobPart.job,
        attempt: jobPart.attempt + 1,
        ...(jobPart.repush === undefined ? {} : { repush: jobPart.repush }),
      },
      refusedPartName(jobPart.part, chunk, index),
      devices,
      () => error.reason,
    );
    await recordIssued(ports, jobPart.job.notificationId, parts);
    for (const part of parts) await deadLetterJob(ports, JSON.stringify(part), part, error);
    for (const device of devices) {
      tally.add('deadLettered', error.reason);
      tally.countPlatform('deadLettered', device);
      settled.statuses.push(recordedStatus(device, 'deadLettered', error.reason));
    }
    logger.error(
      'dead-lettered the devices of a platform or environment that refused the job; the others were pushed to',
      {
        notificationId: jobPart.job.notificationId,
        part: jobPart.part,
        devices: devices.length,
        reason: error.reason,
        detail: error.message,
      },
    );
  }
}

/**
 * Schedules the next re-push round for the devices APNs just accepted, if the job
 * asks for one: as many to a message as fit (devicePartsOf).
 */
export async function scheduleRepush(
  delivery: Delivery,
  chunk: number,
  accepted: PushDevice[],
): Promise<void> {
  const { jobPart, ports } = delivery;
  const track = jobPart.job.track;
  if (accepted.length === 0 || !track?.receipts || track.repushAfterSeconds === undefined) return;
  const round = (jobPart.repush?.round ?? 0) + 1;
  if (round > (track.maxRepushes ?? DEFAULT_MAX_REPUSHES)) return;
  const dueAt = Date.now() + track.repushAfterSeconds * 1000;
  const parts = devicePartsOf(
    { pushgate: JOB_PART_FORMAT, job: jobPart.job, attempt: 0, repush: { round, dueAt } },
    repushPartName(jobPart.part, chunk, round),
    accepted,
  );
  const delaySeconds = Math.min(MAX_SQS_DELAY_SECONDS, track.repushAfterSeconds);
  await recordIssued(ports, jobPart.job.notificationId, parts);
  await ports.sendQueue.enqueue(parts.map((part) => ({ body: JSON.stringify(part), delaySeconds })));
}

/**
 * Records parts with devices as the sender's own before they are queued, so the
 * sender can tell them from parts anyone else writes under the notification's id
 * (delivery/plan.ts).
 */
export async function recordIssued(
  { notificationRecords }: Pick<Ports, 'notificationRecords'>,
  notificationId: string,
  parts: readonly JobPart[],
): Promise<void> {
  await notificationRecords.recordIssuedParts(
    notificationId,
    parts.map((part) => ({
      part: part.part,
      attempt: part.attempt,
      fingerprint: devicePartFingerprint(part),
    })),
  );
}
