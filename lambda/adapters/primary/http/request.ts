import type { APIGatewayProxyEventV2, APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import type * as z from 'zod/mini';
import {
  InvalidRequestError,
  InvalidSubjectError,
  RequestTooLargeError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
} from '../../../domain/errors';
import { userIdSchema } from '../../../domain/user';
import { parseWith } from '../../../validation';

/**
 * The `sub` claim API Gateway's JWT authorizer verified: the only source of the
 * caller's id. It must pass the same rules as a user id in a backend route, so every
 * device registered through an app route can also be listed and erased.
 */
export function callerUserId(event: APIGatewayProxyEventV2WithJWTAuthorizer): string {
  const sub: unknown = event.requestContext.authorizer?.jwt?.claims?.sub;
  if (sub === undefined || sub === '') throw new UnauthorizedError();
  const typeInToken = subClaimType(event.headers?.authorization);
  if (typeof sub !== 'string' || (typeInToken !== undefined && typeInToken !== 'string')) {
    throw new InvalidSubjectError('it is not a string.');
  }
  const result = userIdSchema.safeParse(sub);
  if (!result.success) throw new InvalidSubjectError(result.error.issues[0]?.message ?? 'it is malformed.');
  return sub;
}

/**
 * API Gateway hands claims to the function as strings — a numeric `sub` arrives as
 * "123", an array as "[a b]" — so the JSON type is read from the token the
 * authorizer verified (already checked there; only its payload is decoded here).
 */
function subClaimType(authorization: string | undefined): string | undefined {
  const payload = /^Bearer [\w-]+\.([\w-]+)\.[\w-]*$/i.exec(authorization ?? '')?.[1];
  if (payload === undefined) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return typeof claims === 'object' && claims !== null ? typeof Reflect.get(claims, 'sub') : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A path parameter as API Gateway's HTTP API delivers it: already percent-decoded,
 * once. It is never decoded again — `%2541` in the URL is the three characters `%41`.
 */
export function pathParameter(event: APIGatewayProxyEventV2, name: string): string {
  const value = event.pathParameters?.[name];
  if (value === undefined) throw new InvalidRequestError(`The path has no ${name}.`);
  return value;
}

/** A path parameter validated by a schema; messages name the parameter, not the body. */
export function parsePathParameter<Schema extends z.ZodMiniType>(
  event: APIGatewayProxyEventV2,
  name: string,
  schema: Schema,
): z.output<Schema> {
  return parseWith(schema, pathParameter(event, name), `The path parameter "${name}"`);
}

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * Reads the JSON body and validates it against a schema. Each way a body can be
 * wrong has its own stable code: UnsupportedMediaType, RequestTooLarge, MissingBody,
 * MalformedJson, NestingTooDeep, UnknownField, InvalidRequest.
 */
export function parseJsonBody<Schema extends z.ZodMiniType>(
  event: APIGatewayProxyEventV2,
  schema: Schema,
  maxBytes: number,
  tooLargeHint?: string,
): z.output<Schema> {
  if (event.body === undefined || event.body === '') {
    throw new InvalidRequestError('The request needs a JSON body.', 'MissingBody');
  }
  const contentType = event.headers?.['content-type'];
  if (contentType === undefined || !JSON_MEDIA_TYPE.test(contentType)) throw new UnsupportedMediaTypeError();
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (Buffer.byteLength(text) > maxBytes) throw new RequestTooLargeError(maxBytes, tooLargeHint);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new InvalidRequestError('The request body is not valid JSON.', 'MalformedJson');
  }
  return parseWith(schema, body);
}
