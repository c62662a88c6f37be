import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { PushgateError } from '../../../domain/errors';
import { logger } from '../../../observability';
import { refuseUnknownQueryParameters } from './request';

type HttpResult = Exclude<APIGatewayProxyResultV2, string>;

export function json(statusCode: number, body: unknown): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  };
}

export function noContent(): HttpResult {
  return { statusCode: 204 };
}

function errorResponse(error: PushgateError): HttpResult {
  const response = json(error.statusCode, { error: { code: error.code, message: error.message } });
  if (error.retryAfterSeconds !== undefined)
    response.headers = { ...response.headers, 'retry-after': String(error.retryAfterSeconds) };
  return response;
}

/**
 * The middleware every HTTP handler uses. Before the handler, the one check every
 * route shares: a query parameter the route does not read is refused. After it, the
 * one place errors become HTTP responses: a PushgateError below 500 is shown to the
 * caller as it is; anything else is logged and becomes a generic 500 with no
 * internals in the body.
 */
export function httpErrors<Event extends APIGatewayProxyEventV2>(): MiddlewareObj<Event, HttpResult> {
  return {
    before: async (request) => {
      refuseUnknownQueryParameters(request.event);
    },
    onError: async (request) => {
      const { error } = request;
      if (error instanceof PushgateError && error.statusCode < 500) {
        logger.info('request refused', { code: error.code, status: error.statusCode });
        request.response = errorResponse(error);
        return;
      }
      logger.error('request failed', { error });
      request.response = json(500, {
        error: { code: 'InternalError', message: 'Something went wrong on our side; try again later.' },
      });
    },
  };
}
