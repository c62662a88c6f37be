import middy from '@middy/core';
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from 'aws-lambda';
import { notificationIdSchema } from '../../../domain/send-job';
import { getNotification } from '../../../use-cases/get-notification';
import { parsePathParameter } from '../http/request';
import { httpErrors, json } from '../http/response';

/** `GET /v1/notifications/{id}` (IAM) — per-device status of a tracked notification, with totals. */
export const handler = middy<APIGatewayProxyEventV2WithIAMAuthorizer>()
  .use(httpErrors())
  .handler(async (event) => {
    const notificationId = parsePathParameter(event, 'id', notificationIdSchema);
    return json(200, await getNotification(notificationId));
  });
