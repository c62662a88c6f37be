import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { listDeliveries } from '../lambda/adapters/secondary/tracking-table';
import { userIdSchema } from '../lambda/domain/user';
import { APNS_FAULTS_PATH, apnsFaultsRoute } from './apns-faults-route';
import { DEFAULT_INBOX_PAGE } from './apns-simulator/inbox';
import { findRoute, invokeRoute } from './http-dispatch';
import type { Caller } from './lambda-events';
import type { LocalIssuer } from './oidc';
import { isSigV4, verifySigV4 } from './sigv4';
import type { LocalStack } from './stack';

/** API Gateway's own payload limit. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const DASHBOARD = join(import.meta.dirname, 'dashboard', 'index.html');

export interface LocalServerOptions {
  adminKey: string;
  issuer: LocalIssuer;
  stack: LocalStack;
  appId: string;
}

/**
 * The offline API Gateway: verifies the caller the way the deployed authorizers
 * do (JWT for app routes; IAM for backend routes — a SigV4 signature made with the
 * local credentials, or the admin key as a shortcut),
 * answers their refusals with API Gateway's own bodies, and hands everything else
 * to the route's Lambda handler as a v2.0 event. Also serves `/_local/*` and the
 * dashboard, which exist only offline.
 */
export function createLocalServer(options: LocalServerOptions): Server {
  return createServer((request, response) => {
    handle(options, request, response).catch((error) => {
      console.error('offline server error', error);
      send(response, 500, { message: 'Internal Server Error' });
    });
  });
}

async function handle(options: LocalServerOptions, request: IncomingMessage, response: ServerResponse) {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const method = request.method ?? 'GET';
  const raw = await readBody(request);
  if (raw === undefined) return send(response, 413, { message: 'Request Entity Too Large' });
  const body = raw.toString('utf8');

  if (url.pathname === '/' && method === 'GET') {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    return response.end(readFileSync(DASHBOARD));
  }
  if (url.pathname.startsWith('/_local/')) return handleLocal(options, method, url, body, response);

  const found = findRoute(method, url.pathname);
  if (found === undefined) return send(response, 404, { message: 'Not Found' });
  const headers = Object.fromEntries(
    Object.entries(request.headers).map(([name, value]) => [
      name,
      Array.isArray(value) ? value.join(',') : (value ?? ''),
    ]),
  );
  let caller: Caller;
  if (found.route.auth === 'jwt') {
    const claims = await options.issuer.verify(headers.authorization);
    if (claims === undefined) {
      response.setHeader('www-authenticate', 'Bearer');
      return send(response, 401, { message: 'Unauthorized' });
    }
    caller = { jwt: claims };
  } else if (headers.authorization === `Bearer ${options.adminKey}`) {
    caller = { iam: { userArn: 'arn:aws:iam::000000000000:user/local-admin' } };
  } else if (isSigV4(headers.authorization)) {
    const verdict = verifySigV4({ method, url: request.url ?? '/', headers: request.headers, body: raw });
    if (!verdict.ok) {
      response.setHeader('x-amzn-ErrorType', verdict.errorType);
      return send(response, 403, { message: verdict.message });
    }
    caller = { iam: { userArn: `arn:aws:iam::000000000000:user/${verdict.accessKeyId}` } };
  } else {
    return send(response, 403, { message: 'Forbidden' });
  }
  const result = await invokeRoute(
    found.route,
    found.params,
    { method, url: request.url ?? '/', headers, body },
    caller,
  );
  response.writeHead(result.statusCode, result.headers);
  response.end(result.body);
}

async function handleLocal(
  options: LocalServerOptions,
  method: string,
  url: URL,
  body: string,
  response: ServerResponse,
) {
  const { stack, issuer } = options;
  const route = `${method} ${url.pathname}`;
  if (route === 'POST /_local/tokens') {
    let sub: unknown;
    try {
      sub = (JSON.parse(body || '{}') as { sub?: unknown }).sub;
    } catch {
      return send(response, 400, {
        error: { code: 'MalformedJson', message: 'The request body is not valid JSON.' },
      });
    }
    const valid = userIdSchema.safeParse(sub);
    if (!valid.success) {
      const rule = valid.error.issues[0]?.message ?? '';
      return send(response, 400, {
        error: { code: 'InvalidRequest', message: `Send {"sub": "<user id>"}. ${rule}` },
      });
    }
    return send(response, 200, { token: await issuer.mint(valid.data) });
  }
  if (route === 'GET /_local/apns/inbox') {
    const after = integerParameter(url, 'after', 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = integerParameter(url, 'limit', DEFAULT_INBOX_PAGE, 1, DEFAULT_INBOX_PAGE);
    if (after === undefined || limit === undefined) {
      return send(response, 400, {
        error: {
          code: 'InvalidRequest',
          message: `after must be a whole number ≥ 0 and limit a whole number from 1 to ${DEFAULT_INBOX_PAGE}.`,
        },
      });
    }
    if (!stack.simulator)
      return send(response, 200, { total: 0, notifications: [], note: 'Real APNs sandbox in use.' });
    const page = stack.simulator.received.page(after, limit);
    return send(response, 200, {
      total: page.total,
      notifications: page.notifications.map(({ seq, token, topic, headers, payload, receivedAt }) => ({
        seq,
        token,
        topic,
        headers,
        payload,
        receivedAt,
      })),
      ...(page.next === undefined ? {} : { next: page.next }),
    });
  }
  if (route === 'GET /_local/queues') {
    return send(response, 200, {
      endpoint: stack.sqsServer.endpoint,
      sendQueueUrl: stack.queues.sendQueueUrl,
      deadLetterQueueUrl: stack.queues.deadLetterQueueUrl,
    });
  }
  if (route === 'DELETE /_local/apns/inbox') {
    stack.simulator?.clearInbox();
    response.writeHead(204);
    return response.end();
  }
  if (url.pathname === APNS_FAULTS_PATH) {
    const answer = apnsFaultsRoute(stack.simulator, method, body);
    if (answer.body === undefined) {
      response.writeHead(answer.status);
      return response.end();
    }
    return send(response, answer.status, answer.body);
  }
  if (route === 'GET /_local/state') return send(response, 200, await dashboardState(options));
  if (route === 'POST /_local/send') {
    const result = await invokeRoute(
      findRoute('POST', '/v1/notifications')?.route ?? (undefined as never),
      {},
      { method: 'POST', url: '/v1/notifications', headers: { 'content-type': 'application/json' }, body },
      { iam: { userArn: 'arn:aws:iam::000000000000:user/local-dashboard' } },
    );
    response.writeHead(result.statusCode, result.headers);
    return response.end(result.body);
  }
  return send(response, 404, { message: 'Not Found' });
}

/** What the dashboard shows: devices by user, recent notifications per device, the inbox, DLQ depth. */
async function dashboardState({ stack, appId }: LocalServerOptions) {
  const dynamo = new DynamoDBClient({});
  try {
    const devices: Record<string, unknown>[] = [];
    let start: Record<string, never> | undefined;
    do {
      const page = await dynamo.send(
        new ScanCommand({ TableName: process.env.DEVICES_TABLE_NAME, ExclusiveStartKey: start, Limit: 500 }),
      );
      devices.push(...(page.Items ?? []).map((item) => unmarshall(item)));
      start = page.LastEvaluatedKey as typeof start;
    } while (start && devices.length < 2_000);
    const byUser: Record<
      string,
      { token: string; kind: string; environment: string; lastSeenAt: string; for?: string }[]
    > = {};
    for (const device of devices) {
      if (device.kind === 'activity') continue; // an activity id's owner, not a token
      // Live Activity tokens share the table under kind-prefixed keys, owned by `ownerId`.
      const liveActivity = typeof device.kind === 'string';
      const userId = String(liveActivity ? device.ownerId : device.userId);
      const list = byUser[userId] ?? [];
      byUser[userId] = list;
      const target = device.attributesType ?? device.activityId;
      list.push({
        token: String(liveActivity ? device.apnsToken : device.token),
        kind: liveActivity ? String(device.kind) : 'device',
        environment: String(device.environment),
        lastSeenAt: String(device.lastSeenAt),
        ...(target === undefined ? {} : { for: String(target) }),
      });
    }
    const inbox = (stack.simulator?.inbox ?? []).slice(-200);
    const inboxTotal = stack.simulator?.received.total ?? 0;
    const notifications = new Map<
      string,
      { notificationId: string; devices: { token: string; receivedAt: string }[]; title: string }
    >();
    for (const entry of inbox) {
      const payload = entry.payload as { pushgate?: { id?: string }; aps?: { alert?: unknown } };
      const id = payload.pushgate?.id ?? '(none)';
      const alert = payload.aps?.alert;
      const title =
        typeof alert === 'string' ? alert : String((alert as { title?: string } | undefined)?.title ?? '');
      const record = notifications.get(id) ?? { notificationId: id, devices: [], title };
      record.devices.push({ token: entry.token, receivedAt: entry.receivedAt });
      notifications.set(id, record);
    }
    const { Attributes = {} } = await stack.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: stack.queues.deadLetterQueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    const recent = await Promise.all(
      [...notifications.values()]
        .reverse()
        .slice(0, 20)
        .map(async (notification) => {
          const tracked = await listDeliveries(notification.notificationId);
          return {
            ...notification,
            deliveries: tracked.map(({ token, status, reason }) => ({ token, status, reason })),
          };
        }),
    );
    return {
      appId,
      devicesByUser: byUser,
      notifications: recent,
      inbox: inbox.slice(-20).reverse(),
      inboxTotal,
      deadLetterQueueDepth: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    };
  } finally {
    dynamo.destroy();
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

/** A whole-number query parameter within bounds; `fallback` when absent, undefined when invalid. */
function integerParameter(
  url: URL,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) return undefined;
  const value = Number(raw);
  return value >= min && value <= max ? value : undefined;
}

async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
