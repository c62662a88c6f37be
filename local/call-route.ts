import { findRoute, type HttpResponse, invokeRoute } from './http-dispatch';
import type { Caller } from './lambda-events';

/**
 * Calls a route's handler in-process as an already verified caller — an IAM
 * principal or a JWT's claims — past the offline API Gateway's checks: for the
 * dashboard's send form and the benchmarks.
 */
export async function callRoute(
  method: string,
  path: string,
  body: unknown,
  caller: Caller,
): Promise<HttpResponse> {
  const found = findRoute(method, path);
  if (found === undefined) throw new Error(`no offline route for ${method} ${path}`);
  return invokeRoute(
    found.route,
    found.params,
    {
      method,
      url: path,
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    },
    caller,
  );
}
