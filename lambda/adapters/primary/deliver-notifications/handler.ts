import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { deadLetter } from '../../../adapters/secondary/send-queue';
import { JobFailedError } from '../../../domain/errors';
import { DeliveryTally } from '../../../domain/job-part';
import { publishTally } from '../../../metrics';
import { logger } from '../../../observability';
import { deliverNotification } from '../../../use-cases/deliver-notification';
import { jobPartFromMessage } from './job-part-message';

const processor = new BatchProcessor(EventType.SQS);

/**
 * One send-queue message. A job that cannot succeed (bad job, unknown app,
 * oversize payload, APNs credential or request errors) is moved to the DLQ with
 * its reason and counted; any other error — including chunks another invocation
 * still holds (ChunksHeldElsewhereError) — fails only this record, so SQS
 * redelivers it after the visibility timeout and, past maxReceiveCount, redrives
 * it to the DLQ.
 */
async function deliverRecord(record: SQSRecord, context?: Context): Promise<void> {
  const tally = new DeliveryTally();
  const remaining = () => context?.getRemainingTimeInMillis() ?? 60_000;
  try {
    const sentAt = Number(record.attributes?.SentTimestamp);
    const jobPart = jobPartFromMessage(
      record.body,
      record.messageId,
      Number.isFinite(sentAt) ? new Date(sentAt) : new Date(),
    );
    await deliverNotification(jobPart, tally, remaining);
    const { notificationId } = jobPart.job;
    logger.info('delivered', {
      notificationId,
      part: jobPart.part,
      attempt: jobPart.attempt,
      ...tally.counts,
    });
  } catch (error) {
    if (!(error instanceof JobFailedError)) throw error;
    await deadLetter(record.body, error.reason, error.message, record.messageId);
    tally.jobsDeadLettered.push({ reason: error.reason });
    logger.error('job moved to the dead-letter queue', {
      reason: error.reason,
      detail: error.message,
      ...tally.counts,
    });
  } finally {
    publishTally(tally);
  }
}

/** The sender Lambda: SQS event source with ReportBatchItemFailures. */
export const handler = async (event: SQSEvent, context: Context) =>
  processPartialResponse(event, deliverRecord, processor, { context });
