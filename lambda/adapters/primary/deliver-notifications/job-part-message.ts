import { JobFailedError, PushgateError } from '../../../domain/errors';
import { JOB_PART_FORMAT, type JobPart } from '../../../domain/job-part';
import { isJobPart, JOB_PART_ENVELOPE_LEVELS, jobPartSchema } from '../../../domain/job-part-schema';
import { withLiveActivityTimestamp } from '../../../domain/live-activity';
import { normalizeSendJob, sendJobSchema } from '../../../domain/send-job';
import { parseStrictJson } from '../../../strict-json';
import { MAX_JSON_NESTING, parseWith } from '../../../validation';

/**
 * Reads a send-queue message: a public send job (from the API or any AWS service;
 * validated with the same schema as the API) or a part of a job the sender wrote
 * (a split, a retry, a re-push round; its envelope checked by `jobPartSchema`).
 * Anything unreadable is a JobFailedError('InvalidJob') and goes to the DLQ. A
 * public Live Activity job without `aps.timestamp` gets the time it was sent
 * (`sentAt`, the same on every redelivery).
 */
export function jobPartFromMessage(body: string, messageId: string, sentAt = new Date()): JobPart {
  let value: unknown;
  try {
    value = parseStrictJson(body, 'The message body', MAX_JSON_NESTING + JOB_PART_ENVELOPE_LEVELS);
  } catch (error) {
    if (error instanceof PushgateError) throw new JobFailedError('InvalidJob', error.message);
    throw error;
  }
  try {
    if (isJobPart(value)) {
      const { job: partJob, ...envelope } = value;
      const part = parseWith(jobPartSchema, envelope);
      const input = parseWith(sendJobSchema, partJob, 'The job');
      // A part's job has its id: only the sender writes parts, after fixing it.
      const job = normalizeSendJob(input, input.notificationId ?? '');
      if (job.notificationId === '')
        throw new JobFailedError('InvalidJob', 'A job part names no notification id.');
      return { ...part, job };
    }
    // SQS keeps a message's id across redeliveries: a job without an id gets a stable one.
    // Held to MAX_JSON_NESTING here (the scan allowed a part's envelope more), as the API holds it.
    return {
      pushgate: JOB_PART_FORMAT,
      job: withLiveActivityTimestamp(
        normalizeSendJob(parseWith(sendJobSchema, value, 'The message body'), messageId),
        sentAt,
      ),
      part: '0',
      attempt: 0,
      published: true,
    };
  } catch (error) {
    if (error instanceof PushgateError) throw new JobFailedError('InvalidJob', error.message);
    throw error;
  }
}
