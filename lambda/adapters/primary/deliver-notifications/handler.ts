import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { senderPorts } from '../../../composition/sender';
import { DeliveryTally } from '../../../domain/delivery-tally';
import { JobFailedError } from '../../../domain/errors';
import type { JobPart } from '../../../domain/job-part';
import { logger } from '../../../observability';
import { deadLetterJob } from '../../../use-cases/dead-letter-job';
import { deliverNotification } from '../../../use-cases/deliver-notification';
import { LeanInvocation, recordLeanCompletions } from '../../../use-cases/delivery/lean';
import { jobPartFromMessage } from './job-part-message';

/**
 * One send-queue message. A job that cannot succeed (bad job, unknown app,
 * oversize payload, APNs credential or request errors) is moved to the DLQ with
 * its reason (also recorded on its notification) and counted; any other error —
 * including chunks another invocation still holds (ChunksHeldElsewhereError) —
 * fails only this record, so SQS redelivers it after the visibility timeout and,
 * past maxReceiveCount, redrives it to the DLQ. Either way one INFO line says what
 * the part did: users, devices, outcomes by reason.
 */
async function deliverRecord(
  record: SQSRecord,
  invocation: LeanInvocation,
  context?: Context,
): Promise<void> {
  const tally = new DeliveryTally();
  const remaining = () => context?.getRemainingTimeInMillis() ?? 60_000;
  let jobPart: JobPart | undefined;
  try {
    const sentAt = Number(record.attributes?.SentTimestamp);
    jobPart = jobPartFromMessage(
      record.body,
      record.messageId,
      Number.isFinite(sentAt) ? new Date(sentAt) : new Date(),
    );
    await deliverNotification(senderPorts, jobPart, tally, remaining, invocation);
    logger.info('delivered', partReport(jobPart, tally));
  } catch (error) {
    if (!(error instanceof JobFailedError)) throw error;
    await deadLetterJob(senderPorts, record.body, jobPart, error, record.messageId);
    tally.jobsDeadLettered.push({ reason: error.reason });
    logger.error('job moved to the dead-letter queue', {
      reason: error.reason,
      detail: error.message,
      ...(jobPart === undefined ? { messageId: record.messageId } : partReport(jobPart, tally)),
    });
  } finally {
    senderPorts.metrics.publishTally(tally);
  }
}

/** What a job part did, for its log line: who it named, what each device came to and why. */
function partReport(jobPart: JobPart, tally: DeliveryTally) {
  return {
    notificationId: jobPart.job.notificationId,
    part: jobPart.part,
    attempt: jobPart.attempt,
    ...tally.reach,
    ...tally.counts,
    reasons: Object.fromEntries(tally.reasons),
  };
}

/**
 * The sender Lambda: SQS event source with ReportBatchItemFailures. The lean jobs the
 * invocation finished are recorded in one write before it answers — so before SQS
 * deletes any of their messages (use-cases/delivery/lean.ts). A processor per
 * invocation: it holds the record handler, and offline runs invocations side by side.
 */
export const handler = async (event: SQSEvent, context: Context) => {
  const invocation = new LeanInvocation();
  const processor = new BatchProcessor(EventType.SQS);
  try {
    return await processPartialResponse(
      event,
      (record: SQSRecord) => deliverRecord(record, invocation, context),
      processor,
      { context },
    );
  } finally {
    await recordLeanCompletions(senderPorts, invocation);
  }
};
