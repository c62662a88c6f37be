import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from 'aws-lambda';
import { notificationRecords, sendQueue, settings, trackingStore } from '../../../composition/api';
import { normalizeSendJob, sendJobSchema } from '../../../domain/send-job';
import { acceptSendRequest } from '../../../use-cases/accept-send-request';
import { parseJsonBody } from '../http/request';
import { httpErrors, json } from '../http/response';
import { MAX_SEND_BODY_BYTES } from './limits';

/** The ports its use case reads and writes through: a bundle carries no other adapter. */
const ports = { notificationRecords, sendQueue, settings, trackingStore };

export { MAX_SEND_BODY_BYTES };

const TOO_LARGE_HINT =
  'Split the recipients over several requests (each up to 50 000), or publish the job to the SQS send queue, where any size is split for you.';

/** `POST /v1/notifications` (IAM) — 202 with the notification id; delivery happens from the send queue. */
export const handler = middy<APIGatewayProxyEventV2WithIAMAuthorizer>()
  .use(httpErrors())
  .handler(async (event) => {
    const input = parseJsonBody(event, sendJobSchema, MAX_SEND_BODY_BYTES, TOO_LARGE_HINT);
    const answer = await acceptSendRequest(ports, normalizeSendJob(input, randomUUID()));
    return json(202, answer);
  });
