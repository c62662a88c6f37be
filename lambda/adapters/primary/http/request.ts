import type { APIGatewayProxyEventV2, APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import type * as z from 'zod/mini';
import {
  InvalidRequestError,
  RequestTooLargeError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
} from '../../../domain/errors';

import { parseWith } from '../../../validation';

/** The `sub` claim API Gateway's JWT authorizer verified: the only source of the caller's id. */
export function callerUserId(event: APIGatewayProxyEventV2WithJWTAuthorizer): string {
  const sub = event.requestContext.authorizer?.jwt?.claims?.sub;
  if (typeof sub !== 'string' || sub.length === 0) throw new UnauthorizedError();
  return sub;
}

export function pathParameter(event: APIGatewayProxyEventV2, name: string): string {
  const value = event.pathParameters?.[name];
  if (value === undefined) throw new InvalidRequestError(`The path has no ${name}.`);
  try {
    return decodeURIComponent(value);
  } catch {
    throw new InvalidRequestError(`The ${name} in the path is not validly URL-encoded.`);
  }
}

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * Reads the JSON body and validates it against a schema. Each way a body can be
 * wrong has its own stable code: UnsupportedMediaType, RequestTooLarge, MissingBody,
 * MalformedJson, UnknownField, InvalidRequest.
 */
export function parseJsonBody<Schema extends z.ZodMiniType>(
  event: APIGatewayProxyEventV2,
  schema: Schema,
  maxBytes: number,
): z.output<Schema> {
  if (event.body === undefined || event.body === '') {
    throw new InvalidRequestError('The request needs a JSON body.', 'MissingBody');
  }
  const contentType = event.headers?.['content-type'];
  if (contentType === undefined || !JSON_MEDIA_TYPE.test(contentType)) throw new UnsupportedMediaTypeError();
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (Buffer.byteLength(text) > maxBytes) throw new RequestTooLargeError(maxBytes);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new InvalidRequestError('The request body is not valid JSON.', 'MalformedJson');
  }
  return parseWith(schema, body);
}
