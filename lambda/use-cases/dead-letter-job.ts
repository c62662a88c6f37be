import type { JobFailedError } from '../domain/errors';
import type { JobPart } from '../domain/job-part';
import type { Ports } from './ports';

/**
 * A job part that cannot succeed:
 *
 * 1. when its notification id is known (the message could be read) and is this job's
 *    (not a part refused as `NotificationIdConflict`, whose id another job holds), the
 *    reason is recorded on the notification — one write — so its status says why
 *    nobody got it;
 * 2. the message goes to the dead-letter queue with the reason in its attributes
 *    (`messageId` names the original when its body has to be cut to fit).
 *
 * In this order, so a failure of either fails the message and SQS delivers it again:
 * the record is keyed by part and attempt, so writing it twice changes nothing.
 */
export async function deadLetterJob(
  { notificationRecords, sendQueue }: Pick<Ports, 'notificationRecords' | 'sendQueue'>,
  body: string,
  jobPart: JobPart | undefined,
  failure: JobFailedError,
  messageId?: string,
  now = new Date(),
): Promise<void> {
  const ownId = failure.reason !== 'NotificationIdConflict';
  if (jobPart !== undefined && jobPart.job.notificationId !== '' && ownId) {
    await notificationRecords.recordDeadLetteredPart(jobPart.job.notificationId, {
      part: jobPart.part,
      attempt: jobPart.attempt,
      reason: failure.reason,
      detail: failure.message,
      at: now.toISOString(),
    });
  }
  await sendQueue.deadLetter(body, failure.reason, failure.message, messageId);
}
