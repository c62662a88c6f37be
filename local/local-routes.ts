import type { ServerResponse } from 'node:http';
import { userIdSchema } from '../lambda/domain/user';
import { APNS_FAULTS_PATH, apnsFaultsRoute } from './apns-faults-route';
import { DEFAULT_INBOX_PAGE } from './apns-simulator/inbox';
import { callRoute } from './call-route';
import { notificationDetail, recentNotifications } from './dashboard-notifications';
import { dashboardState } from './dashboard-state';
import { DISCARD_PATH, deadLetterAction, REDRIVE_PATH } from './dead-letter-actions';
import { FCM_FAULTS_PATH, fcmFaultsRoute } from './fcm-faults-route';
import { sendEmpty, sendJson } from './respond';
import type { LocalServerOptions } from './server';

/**
 * The routes that exist only offline, under `/_local/`: dev JWTs, the APNs and FCM
 * simulators' inboxes and fault scripts, the local queues, the dashboard's state, its
 * notifications (from the tables) and its send form (which calls the send route as
 * an IAM caller would). docs/offline.md lists them; server.ts guards them against
 * web pages (local-guard.ts).
 */
export async function handleLocalRoute(
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
      return sendJson(response, 400, {
        error: { code: 'MalformedJson', message: 'The request body is not valid JSON.' },
      });
    }
    const valid = userIdSchema.safeParse(sub);
    if (!valid.success) {
      const rule = valid.error.issues[0]?.message ?? '';
      return sendJson(response, 400, {
        error: { code: 'InvalidRequest', message: `Send {"sub": "<user id>"}. ${rule}` },
      });
    }
    return sendJson(response, 200, { token: await issuer.mint(valid.data) });
  }
  if (route === 'GET /_local/apns/inbox') {
    const after = integerParameter(url, 'after', 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = integerParameter(url, 'limit', DEFAULT_INBOX_PAGE, 1, DEFAULT_INBOX_PAGE);
    if (after === undefined || limit === undefined) {
      return sendJson(response, 400, {
        error: {
          code: 'InvalidRequest',
          message: `after must be a whole number ≥ 0 and limit a whole number from 1 to ${DEFAULT_INBOX_PAGE}.`,
        },
      });
    }
    if (!stack.simulator)
      return sendJson(response, 200, { total: 0, notifications: [], note: 'Real APNs sandbox in use.' });
    const page = stack.simulator.received.page(after, limit);
    return sendJson(response, 200, {
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
  if (route === 'GET /_local/fcm/inbox') {
    const after = integerParameter(url, 'after', 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = integerParameter(url, 'limit', DEFAULT_INBOX_PAGE, 1, DEFAULT_INBOX_PAGE);
    if (after === undefined || limit === undefined) {
      return sendJson(response, 400, {
        error: {
          code: 'InvalidRequest',
          message: `after must be a whole number ≥ 0 and limit a whole number from 1 to ${DEFAULT_INBOX_PAGE}.`,
        },
      });
    }
    return sendJson(response, 200, stack.fcmSimulator.received.page(after, limit));
  }
  if (route === 'DELETE /_local/fcm/inbox') {
    stack.fcmSimulator.clearInbox();
    return sendEmpty(response, 204);
  }
  if (url.pathname === FCM_FAULTS_PATH) {
    const answer = fcmFaultsRoute(stack.fcmSimulator, method, body);
    if (answer.body === undefined) return sendEmpty(response, answer.status);
    return sendJson(response, answer.status, answer.body);
  }
  if (route === 'GET /_local/queues') {
    return sendJson(response, 200, {
      endpoint: stack.sqsServer.endpoint,
      sendQueueUrl: stack.queues.sendQueueUrl,
      deadLetterQueueUrl: stack.queues.deadLetterQueueUrl,
    });
  }
  if (route === 'DELETE /_local/apns/inbox') {
    stack.simulator?.clearInbox();
    return sendEmpty(response, 204);
  }
  if (url.pathname === APNS_FAULTS_PATH) {
    const answer = apnsFaultsRoute(stack.simulator, method, body);
    if (answer.body === undefined) return sendEmpty(response, answer.status);
    return sendJson(response, answer.status, answer.body);
  }
  if (method === 'POST' && (url.pathname === REDRIVE_PATH || url.pathname === DISCARD_PATH)) {
    const answer = await deadLetterAction(stack, url.pathname, body);
    return sendJson(response, answer.status, answer.body);
  }
  if (route === 'GET /_local/state')
    return sendJson(response, 200, await dashboardState(stack, options.appId));
  if (route === 'GET /_local/notifications')
    return sendJson(response, 200, await recentNotifications(url.searchParams.get('search') ?? ''));
  if (method === 'GET' && url.pathname.startsWith(NOTIFICATION_PREFIX)) {
    const id = decodeURIComponent(url.pathname.slice(NOTIFICATION_PREFIX.length));
    const detail = await notificationDetail(stack, id);
    if (detail === undefined) {
      return sendJson(response, 404, {
        error: { code: 'NotificationNotFound', message: `No notification "${id.slice(0, 128)}" is known.` },
      });
    }
    return sendJson(response, 200, detail);
  }
  if (route === 'POST /_local/send') {
    const result = await callRoute('POST', '/v1/notifications', body, {
      iam: { userArn: 'arn:aws:iam::000000000000:user/local-dashboard' },
    });
    response.writeHead(result.statusCode, result.headers);
    return response.end(result.body);
  }
  return sendJson(response, 404, { message: 'Not Found' });
}

/** `GET /_local/notifications/{id}`: one notification in full, for the dashboard. */
const NOTIFICATION_PREFIX = '/_local/notifications/';

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
