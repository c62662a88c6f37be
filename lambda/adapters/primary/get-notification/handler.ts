import middy from '@middy/core';
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from 'aws-lambda';
import { InvalidRequestError } from '../../../domain/errors';
import { notificationIdSchema } from '../../../domain/send-job';
import { getNotification, MAX_PAGE_DEVICES, type PageStart } from '../../../use-cases/get-notification';
import { parsePathParameter } from '../http/request';
import { httpErrors, json } from '../http/response';

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
    const { next, ...report } = await getNotification(notificationId, {
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

/** The page token is opaque to callers: where the next page starts, base64url JSON. */
function encodePageToken(start: PageStart): string {
  return Buffer.from(JSON.stringify([start.userId, start.token])).toString('base64url');
}

function decodePageToken(token: string): PageStart {
  const invalid = new InvalidRequestError(
    '"nextToken" is not one this API gave out; pass the nextToken of the previous page unchanged.',
    'InvalidNextToken',
  );
  if (token.length > 2_048 || !/^[A-Za-z0-9_-]+$/.test(token)) throw invalid;
  let start: unknown;
  try {
    start = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  if (!Array.isArray(start) || start.length !== 2) throw invalid;
  const [userId, token_] = start as unknown[];
  if (typeof userId !== 'string' || typeof token_ !== 'string') throw invalid;
  return { userId, token: token_ };
}
