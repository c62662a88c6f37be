import { randomBytes, randomUUID } from 'node:crypto';
import type { ApiRoute } from '../../infra/api-routes';
import { findRoute, invokeRoute } from '../../local/http-dispatch';
import type { Caller } from '../../local/lambda-events';

export interface ApiAnswer {
  status: number;
  /** Response headers, lower-case names. */
  headers: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
  body: any;
  raw: string;
}

interface CallOptions {
  /** Calls as this signed-in app user (JWT `sub`). */
  as?: string;
  /** Calls with exactly these verified JWT claims (as API Gateway's authorizer passes them on). */
  claims?: Record<string, string | number | boolean | string[]>;
  /** Calls as a backend with IAM credentials. */
  backend?: boolean;
  body?: unknown;
  /** A raw body, sent as it is: text, or bytes (delivered as API Gateway would: text or base64). */
  rawBody?: string | Uint8Array;
  headers?: Record<string, string>;
  /** Invokes the function as the test alters its route (e.g. with fewer grants) instead of as deployed. */
  route?: (deployed: ApiRoute) => ApiRoute;
}

/**
 * Calls the API the way API Gateway would after its authorizer: builds the v2.0
 * event and invokes the deployed handler module.
 */
export async function api(method: string, url: string, options: CallOptions = {}): Promise<ApiAnswer> {
  const found = findRoute(method, url.split('?')[0] ?? url);
  // API Gateway's own answer when the (decoded) path matches no route.
  if (found === undefined)
    return { status: 404, headers: {}, body: { message: 'Not Found' }, raw: '{"message":"Not Found"}' };
  const caller: Caller = options.backend
    ? { iam: { userArn: 'arn:aws:iam::000000000000:role/backend' } }
    : { jwt: options.claims ?? { sub: options.as ?? 'nobody', iss: 'https://issuer.test', aud: 'pushgate' } };
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const headers = { 'content-type': 'application/json', ...options.headers };
  const route = options.route === undefined ? found.route : options.route(found.route);
  const response = await invokeRoute(route, found.params, { method, url, headers, body }, caller);
  return {
    status: response.statusCode,
    headers: Object.fromEntries(
      Object.entries(response.headers).map(([name, value]) => [name.toLowerCase(), value]),
    ),
    body: response.body ? JSON.parse(response.body) : undefined,
    raw: response.body,
  };
}

/**
 * A JWT with these claims and no valid signature, for the Authorization header:
 * API Gateway has verified the token before the handler runs, so the handler only
 * ever reads its payload.
 */
export function jwtWithClaims(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'ES256', typ: 'JWT' })}.${part(claims)}.${Buffer.from('unsigned').toString('base64url')}`;
}

export function newToken(bytes = 32): string {
  return randomBytes(bytes).toString('hex');
}

export function newUser(name = 'user'): string {
  return `${name}-${randomUUID()}`;
}
