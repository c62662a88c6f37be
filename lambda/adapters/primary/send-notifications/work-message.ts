import { JobFailedError, PushgateError } from '../../../domain/errors';
import { withLiveActivityTimestamp } from '../../../domain/live-activity';
import { normalizeSendJob, sendJobSchema } from '../../../domain/send-job';
import { isWork, type Work } from '../../../domain/work';
import { parseStrictJson } from '../../../strict-json';
import { parseWith } from '../../../validation';

/**
 * Reads a send-queue message: a public send job (from the API or any AWS service;
 * validated with the same schema as the API) or the sender's own follow-up work.
 * Anything unreadable is a JobFailedError('InvalidJob') and goes to the DLQ. A
 * public Live Activity job without `aps.timestamp` gets the time it was sent
 * (`sentAt`, the same on every redelivery).
 */
export function workFromMessage(body: string, messageId: string, sentAt = new Date()): Work {
  let value: unknown;
  try {
    value = parseStrictJson(body, 'The message body');
  } catch (error) {
    if (error instanceof PushgateError) throw new JobFailedError('InvalidJob', error.message);
    throw error;
  }
  try {
    if (isWork(value)) {
      const job = normalizeSendJob(parseWith(sendJobSchema, value.job), value.job.notificationId);
      return { ...value, job };
    }
    // SQS keeps a message's id across redeliveries: a job without an id gets a stable one.
    return {
      pushgate: 'work/v1',
      job: withLiveActivityTimestamp(normalizeSendJob(parseWith(sendJobSchema, value), messageId), sentAt),
      part: '0',
      attempt: 0,
      published: true,
    };
  } catch (error) {
    if (error instanceof PushgateError) throw new JobFailedError('InvalidJob', error.message);
    throw error;
  }
}
