import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from 'aws-lambda';
import { notificationRecords, sendQueue, settings, trackingStore } from '../../../composition/api';
import { PushgateError } from '../../../domain/errors';
import { normalizeSendJob, type SendJob, sendJobSchema } from '../../../domain/send-job';
import { acceptSendRequests } from '../../../use-cases/accept-send-request';
import { parseWith } from '../../../validation';
import { parseJsonBody } from '../http/request';
import { httpErrors, json } from '../http/response';
import { MAX_SEND_BODY_BYTES } from '../send-notification/limits';
import { notificationBatchEnvelope } from './schema';

/** The ports its use case reads and writes through: a bundle carries no other adapter. */
const ports = { notificationRecords, sendQueue, settings, trackingStore };

const TOO_LARGE_HINT = 'Split the notifications over several requests.';

/** One job's line in the answer, in request order. */
interface BatchResult {
  notificationId?: string;
  status: number;
  error?: { code: string; message: string };
}

/**
 * `POST /v1/notification-batches` (IAM) — up to 500 send jobs, each validated, made
 * idempotent and enqueued on its own: 200 with one result per job, 202 or the 4xx
 * that job alone would have got from `POST /v1/notifications`. A body that is not a
 * batch at all is refused as a whole.
 */
export const handler = middy<APIGatewayProxyEventV2WithIAMAuthorizer>()
  .use(httpErrors())
  .handler(async (event) => {
    const { notifications } = parseJsonBody(
      event,
      notificationBatchEnvelope,
      MAX_SEND_BODY_BYTES,
      TOO_LARGE_HINT,
    );
    const results: BatchResult[] = new Array(notifications.length);
    const jobs: SendJob[] = [];
    const positions: number[] = [];
    notifications.forEach((value, index) => {
      try {
        jobs.push(normalizeSendJob(parseWith(sendJobSchema, value, `Notification ${index}`), randomUUID()));
        positions.push(index);
      } catch (error) {
        if (!(error instanceof PushgateError)) throw error;
        results[index] = refused(namedId(value), error);
      }
    });
    const accepted = await acceptSendRequests(ports, jobs);
    accepted.forEach((result, i) => {
      const job = jobs[i] as SendJob;
      results[positions[i] as number] =
        result instanceof PushgateError
          ? refused(job.notificationId, result)
          : { notificationId: result.notificationId, status: 202 };
    });
    return json(200, { results });
  });

function refused(notificationId: string | undefined, error: PushgateError): BatchResult {
  return {
    ...(notificationId === undefined ? {} : { notificationId }),
    status: error.statusCode,
    error: { code: error.code, message: error.message },
  };
}

/** The id a refused job named, when it named one as a string (echoed so the caller can match it). */
function namedId(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const id: unknown = Reflect.get(value, 'notificationId');
  return typeof id === 'string' && id.length <= 128 ? id : undefined;
}
