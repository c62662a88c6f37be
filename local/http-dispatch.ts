import type { APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { API_ROUTES, type ApiRoute, handlerEntry } from '../infra/api-routes';
import { grantsOf, runAsFunction } from './function-grants';
import {
  apiGatewayEvent,
  type Caller,
  decodeRequestPath,
  type HttpRequest,
  lambdaContext,
  matchRoute,
} from './lambda-events';

type HttpHandler = (event: never, context: Context) => Promise<APIGatewayProxyResultV2>;

/**
 * The handler module API Gateway would invoke for a route — the same file the stack
 * deploys for it (handlerEntry), loaded on first use like a cold start. Derived from
 * the route list, so a route added to api-routes.ts is served offline as it is.
 */
export async function loadRouteHandler(route: ApiRoute): Promise<HttpHandler> {
  const module: unknown = await import(`../${handlerEntry(route.name)}`);
  const handler: unknown =
    typeof module === 'object' && module !== null ? Reflect.get(module, 'handler') : undefined;
  if (typeof handler !== 'function') {
    throw new Error(`${handlerEntry(route.name)} exports no handler for ${route.method} ${route.path}`);
  }
  return handler as HttpHandler;
}

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** The route a request path (as received, percent-encoded) leads to, the way API Gateway routes it. */
export function findRoute(
  method: string,
  encodedPath: string,
): { route: ApiRoute; params: Record<string, string> } | undefined {
  const path = decodeRequestPath(encodedPath);
  for (const route of API_ROUTES) {
    const params = matchRoute(route, method, path);
    if (params !== undefined) return { route, params };
  }
  return undefined;
}

/**
 * What API Gateway does after its authorizer said yes: build the v2.0 event, invoke
 * the route's Lambda handler — holding it to the grants the stack gives that route's
 * function (the route's own access fields) — and turn its result into an HTTP response.
 */
export async function invokeRoute(
  route: ApiRoute,
  params: Record<string, string>,
  request: HttpRequest,
  caller: Caller,
): Promise<HttpResponse> {
  const event = apiGatewayEvent(route, request, params, caller);
  const functionName = `pushgate-${route.name}`;
  // Loaded inside: what the module does when first loaded (a cold start's init) runs with the grants too.
  const result = await runAsFunction(functionName, grantsOf(route), async () => {
    const handler = await loadRouteHandler(route);
    return handler(event as never, lambdaContext(functionName));
  });
  if (typeof result === 'string')
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: result };
  const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)]));
  return { statusCode: result.statusCode ?? 200, headers, body: result.body ?? '' };
}
