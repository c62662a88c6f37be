import { markRequestEnqueued, takeNotificationId } from '../adapters/secondary/notifications-table';
import { enqueue } from '../adapters/secondary/send-queue';
import { recipientBuckets, saveRecipients } from '../adapters/secondary/tracking-table';
import { findApp } from '../config';
import { compileApnsRequest } from '../domain/apns-request';
import { NotificationIdConflictError, UnknownAppError } from '../domain/errors';
import { compileFcmMessage, reachesAndroid } from '../domain/fcm-message';
import { partJobFingerprints, partsOf } from '../domain/job-part';
import { withLiveActivityTimestamp } from '../domain/live-activity';
import {
  jobFingerprint,
  namedUsers,
  recipientCount,
  type SendJob,
  trackedRecipients,
} from '../domain/send-job';
import { logger } from '../observability';

export interface SendRequestAnswer {
  notificationId: string;
  /** How many users, tokens or activities the request names. */
  recipients: { users: number } | { tokens: number } | { activities: number };
  /** How many jobs it was split into on the send queue. */
  jobs: number;
  /** Whether it was sent with `track.receipts`: per-device statuses and receipts. */
  tracked: boolean;
}

/**
 * Accepts a backend's send request.
 *
 * 1. Refuse an app the deployment does not serve (UnknownApp) and a payload APNs
 *    would refuse (PayloadTooLarge) — or, for an app with FCM, a message FCM would
 *    (ReservedDataKey, PayloadTooLarge) — before anything is stored or queued.
 * 2. Take the notification id with a conditional write that also stores the job's
 *    fingerprint and its parts' (the sender delivers no other part under this id). Taken by a different job (other recipients or content), even one
 *    still being accepted: NotificationIdConflict. Taken by this same job: answer
 *    as the first time and enqueue nothing — unless that first request has not
 *    finished enqueuing (it crashed, or is still at it), then enqueue its jobs
 *    again: the sender deduplicates by notification id and part, so nobody is
 *    notified twice.
 * 3. A tracked job (`track.receipts`) stores who it is for (hashed), so a receipt
 *    can be checked the moment a push lands, before the sender records anything.
 * 4. Split the recipients into jobs (1 000 users, 2 000 tokens or 500 activities
 *    each) and put them on the send queue as ASCII JSON, batched within SQS's
 *    limits. A Live Activity push without `aps.timestamp` gets one now, so every
 *    retry carries the same.
 * 5. Mark the request enqueued and answer with the id and the counts.
 */
export async function acceptSendRequest(job: SendJob, now = new Date()): Promise<SendRequestAnswer> {
  const app = findApp(job.appId);
  if (app === undefined) throw new UnknownAppError(job.appId);
  compileApnsRequest(job, app.bundleId);
  if (app.fcm !== undefined && reachesAndroid(job)) compileFcmMessage(job, now.getTime());

  // The fingerprint is of the job as sent: a repeat without `aps.timestamp` is the same job.
  const parts = partsOf(withLiveActivityTimestamp(job, now));
  const tracked = job.track?.receipts === true;
  const answer: SendRequestAnswer = {
    notificationId: job.notificationId,
    recipients: recipientCount(job.to),
    jobs: parts.length,
    tracked,
  };
  const fingerprint = jobFingerprint(job);
  const recipients = trackedRecipients(job.to);
  const taken = await takeNotificationId(
    {
      notificationId: job.notificationId,
      answer: { ...answer },
      status: 'pending',
      createdAt: now.toISOString(),
      appId: job.appId,
      namedUsers: namedUsers(job.to),
      jobFingerprint: fingerprint,
      partJobs: partJobFingerprints(parts),
      ...(tracked
        ? {
            receipts: {
              appId: job.appId,
              to: 'tokens' in job.to ? 'tokens' : 'users',
              buckets: recipientBuckets(recipients.length),
            },
          }
        : {}),
    },
    now,
  );
  if (!taken.taken) {
    const previous = taken.existing.jobFingerprint;
    if (previous !== undefined && previous !== fingerprint) {
      throw new NotificationIdConflictError(job.notificationId);
    }
    if (taken.existing.status === 'enqueued') return taken.existing.answer as unknown as SendRequestAnswer;
    logger.warn('re-enqueuing a request whose first attempt has not finished', {
      notificationId: job.notificationId,
    });
  }
  if (tracked) await saveRecipients(job.notificationId, recipients, now);
  // A repeat enqueues the parts the record holds: a Live Activity timestamp from the first request's time.
  const enqueued = taken.taken
    ? parts
    : partsOf(withLiveActivityTimestamp(job, new Date(taken.existing.createdAt)));
  await enqueue(enqueued.map((part) => ({ body: JSON.stringify(part) })));
  await markRequestEnqueued(job.notificationId);
  return taken.taken ? answer : (taken.existing.answer as unknown as SendRequestAnswer);
}
