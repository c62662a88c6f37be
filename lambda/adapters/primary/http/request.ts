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
import { parseStrictJson } from '../../../strict-json';
import { keyPath, parseWith } from '../../../validation';

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

/** Refuses bytes that are not UTF-8 instead of replacing them with U+FFFD. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Reads the JSON body and validates it against a schema. Each way a body can be
 * wrong has its own stable code: UnsupportedMediaType, RequestTooLarge, MissingBody,
 * InvalidEncoding, MalformedJson, DuplicateKey, NestingTooDeep, InvalidUnicode,
 * UnknownField, InvalidRequest.
 *
 * API Gateway's HTTP API hands a body to Lambda as text when its content type is
 * textual (`application/json`), and base64-encoded (`isBase64Encoded`) otherwise,
 * e.g. for `application/vnd.example+json`. A base64 body must be UTF-8, as RFC 8259
 * requires of JSON (docs/decisions/strict-json-bodies.md).
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
  const text = bodyText(event.body, event.isBase64Encoded, maxBytes, tooLargeHint);
  return parseWith(schema, parseStrictJson(text, 'The request body'));
}

function bodyText(body: string, isBase64Encoded: boolean, maxBytes: number, tooLargeHint?: string): string {
  if (!isBase64Encoded) {
    if (Buffer.byteLength(body) > maxBytes) throw new RequestTooLargeError(maxBytes, tooLargeHint);
    return body;
  }
  const bytes = Buffer.from(body, 'base64');
  if (bytes.length > maxBytes) throw new RequestTooLargeError(maxBytes, tooLargeHint);
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new InvalidRequestError(
      'The request body is not UTF-8 text; send JSON encoded as UTF-8.',
      'InvalidEncoding',
    );
  }
}

/**
 * The query parameters each route reads, by API Gateway route key; a route not
 * listed reads none. Any other parameter is refused, never ignored: `GET
 * /v1/devices?userId=bob` must not answer as if it listed bob's devices. The OpenAPI
 * description documents exactly these (scripts/openapi.ts refuses to differ).
 */
export const QUERY_PARAMETERS: Readonly<Record<string, readonly string[]>> = {
  'GET /v1/notifications/{id}': ['limit', 'nextToken'],
};

/** Refuses a query parameter the route does not read (UnknownQueryParameter). */
export function refuseUnknownQueryParameters(event: APIGatewayProxyEventV2): void {
  const known = QUERY_PARAMETERS[event.routeKey] ?? [];
  const unknown = Object.keys(event.queryStringParameters ?? {}).find((name) => !known.includes(name));
  if (unknown === undefined) return;
  const reads =
    known.length === 0 ? 'this route reads none' : `use ${known.map((name) => `"${name}"`).join(' and ')}`;
  throw new InvalidRequestError(
    `Unknown query parameter "${keyPath([unknown])}"; ${reads}.`,
    'UnknownQueryParameter',
  );
}
