import middy from '@middy/core';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { deviceRegistry, notificationRecords, trackingStore } from '../../../composition/api';
import { namedDeviceToken } from '../../../domain/fcm-token';
import { notificationIdSchema } from '../../../domain/send-job';
import { recordReceipt } from '../../../use-cases/record-receipt';
import { callerUserId, parseJsonBody, parsePathParameter } from '../http/request';
import { httpErrors, noContent } from '../http/response';
import { MAX_RECEIPT_BODY_BYTES, receiptBody } from './schema';

/** The ports its use case reads and writes through: a bundle carries no other adapter. */
const ports = { deviceRegistry, notificationRecords, trackingStore };

/** `POST /v1/notifications/{id}/receipts` (JWT) — the app acknowledges a notification: 204. */
export const handler = middy<APIGatewayProxyEventV2WithJWTAuthorizer>()
  .use(httpErrors())
  .handler(async (event) => {
    const userId = callerUserId(event);
    const notificationId = parsePathParameter(event, 'id', notificationIdSchema);
    const body = parseJsonBody(event, receiptBody, MAX_RECEIPT_BODY_BYTES);
    await recordReceipt(ports, notificationId, namedDeviceToken(body.token), userId, body.event);
    return noContent();
  });
