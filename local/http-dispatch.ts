import type { APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { API_ROUTES, type ApiRoute } from '../infra/api-routes';
import {
  apiGatewayEvent,
  type Caller,
  decodeRequestPath,
  type HttpRequest,
  lambdaContext,
  matchRoute,
} from './lambda-events';

type HttpHandler = (event: never, context: Context) => Promise<APIGatewayProxyResultV2>;

/** The deployed handler modules, loaded on first use like a cold start. */
const HANDLERS: Record<string, () => Promise<{ handler: HttpHandler }>> = {
  'register-device': () => import('../lambda/adapters/primary/register-device/handler'),
  'unregister-device': () => import('../lambda/adapters/primary/unregister-device/handler'),
  'list-my-devices': () => import('../lambda/adapters/primary/list-my-devices/handler'),
  'list-user-devices': () => import('../lambda/adapters/primary/list-user-devices/handler'),
  'erase-user-devices': () => import('../lambda/adapters/primary/erase-user-devices/handler'),
  'register-push-to-start-token': () =>
    import('../lambda/adapters/primary/register-push-to-start-token/handler'),
  'unregister-push-to-start-token': () =>
    import('../lambda/adapters/primary/unregister-push-to-start-token/handler'),
  'register-activity-token': () => import('../lambda/adapters/primary/register-activity-token/handler'),
  'unregister-activity-token': () => import('../lambda/adapters/primary/unregister-activity-token/handler'),
  'send-notification': () => import('../lambda/adapters/primary/send-notification/handler'),
  'get-notification': () => import('../lambda/adapters/primary/get-notification/handler'),
  'record-receipt': () => import('../lambda/adapters/primary/record-receipt/handler'),
};

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
 * the route's Lambda handler, and turn its result into an HTTP response.
 */
export async function invokeRoute(
  route: ApiRoute,
  params: Record<string, string>,
  request: HttpRequest,
  caller: Caller,
): Promise<HttpResponse> {
  const load = HANDLERS[route.name];
  if (load === undefined) throw new Error(`No handler module for route ${route.name}`);
  const { handler } = await load();
  const event = apiGatewayEvent(route, request, params, caller);
  const result = await handler(event as never, lambdaContext(`pushgate-${route.name}`));
  if (typeof result === 'string')
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: result };
  const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)]));
  return { statusCode: result.statusCode ?? 200, headers, body: result.body ?? '' };
}
