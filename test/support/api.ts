import { randomBytes, randomUUID } from 'node:crypto';
import { findRoute, invokeRoute } from '../../local/http-dispatch';
import type { Caller } from '../../local/lambda-events';

export interface ApiAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
  body: any;
  raw: string;
}

interface CallOptions {
  /** Calls as this signed-in app user (JWT `sub`). */
  as?: string;
  /** Calls as a backend with IAM credentials. */
  backend?: boolean;
  body?: unknown;
  /** A raw body, sent as it is. */
  rawBody?: string;
  headers?: Record<string, string>;
}

/**
 * Calls the API the way API Gateway would after its authorizer: builds the v2.0
 * event and invokes the deployed handler module.
 */
export async function api(method: string, url: string, options: CallOptions = {}): Promise<ApiAnswer> {
  const found = findRoute(method, url.split('?')[0] ?? url);
  if (found === undefined) throw new Error(`No route for ${method} ${url}`);
  const caller: Caller = options.backend
    ? { iam: { userArn: 'arn:aws:iam::000000000000:role/backend' } }
    : { jwt: { sub: options.as ?? 'nobody', iss: 'https://issuer.test', aud: 'pushgate' } };
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const headers = { 'content-type': 'application/json', ...options.headers };
  const response = await invokeRoute(found.route, found.params, { method, url, headers, body }, caller);
  return {
    status: response.statusCode,
    body: response.body ? JSON.parse(response.body) : undefined,
    raw: response.body,
  };
}

export function newToken(bytes = 32): string {
  return randomBytes(bytes).toString('hex');
}

export function newUser(name = 'user'): string {
  return `${name}-${randomUUID()}`;
}
