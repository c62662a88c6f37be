import middy from '@middy/core';
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from 'aws-lambda';
import { notificationRecords, trackingStore } from '../../../composition/api';
import { InvalidRequestError } from '../../../domain/errors';
import { notificationIdSchema } from '../../../domain/send-job';
import { getNotification, MAX_PAGE_DEVICES } from '../../../use-cases/get-notification';
import { parsePathParameter } from '../http/request';
import { httpErrors, json } from '../http/response';
import { decodePageToken, encodePageToken } from './page-token';

/** The ports its use case reads and writes through: a bundle carries no other adapter. */
const ports = { notificationRecords, trackingStore };

/**
 * `GET /v1/notifications/{id}?limit=&nextToken=` (IAM) — per-device status of a
 * notification, one page of at most 1 000 devices, with totals over every device.
 */
export const handler = middy<APIGatewayProxyEventV2WithIAMAuthorizer>()
  .use(httpErrors())
  .handler(async (event) => {
    const notificationId = parsePathParameter(event, 'id', notificationIdSchema);
    // Only limit and nextToken get here: httpErrors() refuses any other (QUERY_PARAMETERS).
    const query = event.queryStringParameters ?? {};
    const after = query.nextToken === undefined ? undefined : decodePageToken(query.nextToken);
    const { next, ...report } = await getNotification(ports, notificationId, {
      limit: parseLimit(query.limit),
      ...(after === undefined ? {} : { after }),
    });
    return json(200, { ...report, ...(next === undefined ? {} : { nextToken: encodePageToken(next) }) });
  });

function parseLimit(limit: string | undefined): number {
  if (limit === undefined) return MAX_PAGE_DEVICES;
  if (!/^[0-9]{1,4}$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_PAGE_DEVICES) {
    throw new InvalidRequestError(
      `"limit" must be a whole number from 1 to ${MAX_PAGE_DEVICES}.`,
      'InvalidLimit',
    );
  }
  return Number(limit);
}
