import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { ApiRoute } from '../infra/api-routes';

/**
 * Who API Gateway says the caller is: a verified JWT's claims (as the authorizer
 * passes them on), or an IAM principal.
 */
export type Caller =
  | { jwt: Record<string, string | number | boolean | string[]> }
  | { iam: { userArn: string } };

export interface HttpRequest {
  method: string;
  /** Path and query as received, e.g. `/v1/devices/ab12?x=1`. */
  url: string;
  headers: Record<string, string>;
  /** The bytes as received; a string stands for its UTF-8 bytes (in-process callers). */
  body?: string | Uint8Array;
}

/** Content types the HTTP API passes to Lambda as text; every other body arrives base64-encoded. */
const TEXT_MEDIA_TYPE = /^\s*(?:text\/[^\s;]+|application\/(?:json|xml|javascript))\s*(?:;|$)/i;

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The body as API Gateway's HTTP API (payload 2.0) passes it to Lambda: as text when
 * the content type is textual, base64-encoded with `isBase64Encoded` otherwise. A
 * Lambda event is JSON text, so bytes that are not UTF-8 can only travel base64: a
 * textual body that is not UTF-8 arrives base64-encoded too, never with U+FFFD in
 * place of its bytes (docs/decisions/strict-json-bodies.md).
 */
export function eventBody(
  body: string | Uint8Array | undefined,
  contentType: string | undefined,
): { body?: string; isBase64Encoded: boolean } {
  if (body === undefined || body.length === 0) return { isBase64Encoded: false };
  const textual = TEXT_MEDIA_TYPE.test(contentType ?? '');
  if (typeof body === 'string') {
    return textual
      ? { body, isBase64Encoded: false }
      : { body: Buffer.from(body, 'utf8').toString('base64'), isBase64Encoded: true };
  }
  if (textual) {
    try {
      return { body: UTF8.decode(body), isBase64Encoded: false };
    } catch {
      // not UTF-8: base64, below
    }
  }
  return { body: Buffer.from(body).toString('base64'), isBase64Encoded: true };
}

/**
 * The request path as API Gateway's HTTP API passes it on: percent-decoded once,
 * before routing — so `%2F` separates segments like `/`, and `%2541` becomes `%41`,
 * never `A`. Escapes that are not valid UTF-8 are left as they were.
 */
export function decodeRequestPath(path: string): string {
  return path.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run.replace(/%[0-7][0-9A-Fa-f]/g, (ascii) => decodeURIComponent(ascii));
    }
  });
}

/**
 * Matches an already decoded request path against a route template; returns the
 * path parameters, which are used as they are (the handlers never decode them).
 */
export function matchRoute(
  route: ApiRoute,
  method: string,
  path: string,
): Record<string, string> | undefined {
  if (route.method !== method) return undefined;
  const templateParts = route.path.split('/');
  const pathParts = path.split('/');
  if (templateParts.length !== pathParts.length) return undefined;
  const parameters: Record<string, string> = {};
  for (const [index, part] of templateParts.entries()) {
    const actual = pathParts[index] ?? '';
    const name = /^\{(\w+)\}$/.exec(part)?.[1];
    if (name !== undefined) {
      if (actual === '') return undefined;
      parameters[name] = actual;
    } else if (part !== actual) {
      return undefined;
    }
  }
  return parameters;
}

/**
 * An API Gateway HTTP API (payload format 2.0) event, shaped the way AWS delivers
 * it to a Lambda integration: lower-case header names, `$default` stage, the
 * authorizer's verdict in `requestContext.authorizer`.
 */
export function apiGatewayEvent(
  route: ApiRoute,
  request: HttpRequest,
  pathParameters: Record<string, string>,
  caller: Caller | undefined,
): APIGatewayProxyEventV2 {
  const [encodedPath = '/', rawQueryString = ''] = request.url.split('?', 2);
  const rawPath = decodeRequestPath(encodedPath);
  const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const now = new Date();
  const authorizer =
    caller === undefined
      ? undefined
      : 'jwt' in caller
        ? { jwt: { claims: caller.jwt, scopes: null } }
        : {
            iam: {
              accessKey: 'ASIALOCAL',
              accountId: '000000000000',
              callerId: 'LOCAL',
              cognitoIdentity: null,
              principalOrgId: null,
              userArn: caller.iam.userArn,
              userId: 'LOCAL',
            },
          };
  const event = {
    version: '2.0',
    routeKey: `${route.method} ${route.path}`,
    rawPath,
    rawQueryString,
    headers,
    ...(rawQueryString ? { queryStringParameters: queryStringParameters(rawQueryString) } : {}),
    ...(Object.keys(pathParameters).length ? { pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      ...(authorizer === undefined ? {} : { authorizer }),
      domainName: headers.host ?? '127.0.0.1',
      domainPrefix: (headers.host ?? '127').split('.')[0] ?? 'local',
      http: {
        method: route.method,
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: `${route.method} ${route.path}`,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...eventBody(request.body, headers['content-type']),
  };
  return event as APIGatewayProxyEventV2;
}

/** Decoded query parameters as payload 2.0 has them: a repeated name's values joined with commas. */
function queryStringParameters(rawQueryString: string): Record<string, string> {
  const parameters = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    const earlier = parameters.get(name);
    parameters.set(name, earlier === undefined ? value : `${earlier},${value}`);
  }
  return Object.fromEntries(parameters);
}

/** A Lambda context like the runtime passes; the deadline is the function's timeout. */
export function lambdaContext(functionName: string, timeoutMs = 30_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
