import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from 'aws-lambda';
import { normalizeSendJob, sendJobSchema } from '../../../domain/send-job';
import { acceptSendRequest } from '../../../use-cases/accept-send-request';
import { parseJsonBody } from '../http/request';
import { httpErrors, json } from '../http/response';

/**
 * Lambda refuses a synchronous event over 6 MB (6 291 456 bytes) before the function
 * runs, and API Gateway then answers with its own error, not ours. The event is the
 * body as a JSON string inside a ~2–12 KB envelope: every `"` and `\\` of the body is
 * escaped to two bytes, so a job gains 2 bytes per recipient (its quotes) — 100 KB
 * for 50 000. 5 MiB leaves 1 MiB for that and the envelope: 50 000 tokens (3.4 MB) or
 * 50 000 user ids of up to ~100 characters fit; larger bodies get our JSON 413.
 */
export const MAX_SEND_BODY_BYTES = 5 * 1024 * 1024;

const TOO_LARGE_HINT =
  'Split the recipients over several requests (each up to 50 000), or publish the job to the SQS send queue, where any size is split for you.';

/** `POST /v1/notifications` (IAM) — 202 with the notification id; delivery happens from the send queue. */
export const handler = middy<APIGatewayProxyEventV2WithIAMAuthorizer>()
  .use(httpErrors())
  .handler(async (event) => {
    const input = parseJsonBody(event, sendJobSchema, MAX_SEND_BODY_BYTES, TOO_LARGE_HINT);
    const answer = await acceptSendRequest(normalizeSendJob(input, randomUUID()));
    return json(202, answer);
  });
