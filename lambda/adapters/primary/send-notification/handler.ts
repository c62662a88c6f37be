import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from 'aws-lambda';
import { normalizeSendJob, sendJobSchema } from '../../../domain/send-job';
import { acceptSendRequest } from '../../../use-cases/accept-send-request';
import { parseJsonBody } from '../http/request';
import { httpErrors, json } from '../http/response';

/** 50 000 user ids of typical length (UUIDs) fit; API Gateway's own limit is 10 MB. */
export const MAX_SEND_BODY_BYTES = 8 * 1024 * 1024;

/** `POST /v1/notifications` (IAM) — 202 with the notification id; delivery happens from the send queue. */
export const handler = middy<APIGatewayProxyEventV2WithIAMAuthorizer>()
  .use(httpErrors())
  .handler(async (event) => {
    const input = parseJsonBody(event, sendJobSchema, MAX_SEND_BODY_BYTES);
    const answer = await acceptSendRequest(normalizeSendJob(input, randomUUID()));
    return json(202, answer);
  });
