import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { apiPorts } from '../lambda/composition/api';
import { NotFoundError } from '../lambda/domain/errors';
import { ENVIRONMENT } from '../lambda/environment';
import { getNotification } from '../lambda/use-cases/get-notification';
import { peekDeadLetters } from './dead-letters';
import type { LocalStack } from './stack';

/** Notifications listed at once, newest first; each is read whole, so a few dozen. */
const LISTED = 25;
/** Pushes of one notification shown in its detail, the latest. */
const PUSHES_SHOWN = 50;

/** A send as the dashboard lists it: what was asked, and what came of it. */
interface ListedSend {
  notificationId: string;
  createdAt: string;
  namedUsers: string[];
}

/**
 * The latest sends, from the Notifications table — every send request (also those
 * that reached nobody) and every job the sender dead-lettered (also one whose id was
 * never taken) — each with its status as `GET /v1/notifications/{id}` answers it.
 * `search` keeps those whose id contains it or that name a user equal to it.
 */
export async function recentNotifications(search: string) {
  const sends = await scanSends();
  const wanted = search.trim();
  const matching = sends
    .filter(
      (send) => wanted === '' || send.notificationId.includes(wanted) || send.namedUsers.includes(wanted),
    )
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
    .slice(0, LISTED);
  return {
    total: sends.length,
    notifications: await Promise.all(
      matching.map(async (send) => ({ ...send, ...(await listedStatus(send.notificationId)) })),
    ),
  };
}

/**
 * A status read offline costs a Query per shard (a third of a second on a busy
 * machine), and the page asks every few seconds: one still changing is read again
 * after STATUS_FRESH_MS, one that is final (complete, untracked, nothing
 * dead-lettered: only a redrive changes it) after STATUS_FINAL_MS.
 */
const STATUS_FRESH_MS = 2_000;
const STATUS_FINAL_MS = 30_000;
type NotificationStatus = Awaited<ReturnType<typeof getNotification>>;
const statuses = new Map<string, { at: number; status: Omit<NotificationStatus, 'devices' | 'next'> }>();

async function listedStatus(notificationId: string) {
  const cached = statuses.get(notificationId);
  if (cached !== undefined) {
    const { status } = cached;
    const final = status.progress.complete === true && !status.tracked && status.deadLettered === undefined;
    if (Date.now() - cached.at < (final ? STATUS_FINAL_MS : STATUS_FRESH_MS)) return status;
  }
  const {
    devices: _devices,
    next: _next,
    ...status
  } = await getNotification(apiPorts, notificationId, { limit: 1 });
  if (statuses.size > 1_000) statuses.clear();
  statuses.set(notificationId, { at: Date.now(), status });
  return status;
}

/** Request records and dead-letter records: one scan of the table, keys and a few fields only. */
async function scanSends(): Promise<ListedSend[]> {
  const dynamo = new DynamoDBClient({});
  const byId = new Map<string, ListedSend>();
  try {
    let start: Record<string, never> | undefined;
    do {
      const page = await dynamo.send(
        new ScanCommand({
          TableName: process.env[ENVIRONMENT.notificationsTable],
          FilterExpression: 'sk = :request OR begins_with(sk, :deadLetter)',
          ProjectionExpression: 'pk, sk, createdAt, namedUsers, #at',
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: { ':request': { S: 'request' }, ':deadLetter': { S: 'dead-letter#' } },
          ExclusiveStartKey: start,
        }),
      );
      for (const raw of page.Items ?? []) {
        const item = unmarshall(raw);
        // `notification#<id>` for the request, `notification#<id>#s<shard>` for a dead letter.
        const notificationId = String(item.pk)
          .replace(/^notification#/, '')
          .replace(/#s\d+$/, '');
        // A request record wins over the sender's dead-letter records of the same id.
        if (item.sk !== 'request' && byId.has(notificationId)) continue;
        byId.set(notificationId, {
          notificationId,
          createdAt: String(item.createdAt ?? item.at ?? ''),
          namedUsers: Array.isArray(item.namedUsers) ? item.namedUsers.map(String) : [],
        });
      }
      start = page.LastEvaluatedKey as typeof start;
    } while (start);
  } finally {
    dynamo.destroy();
  }
  return [...byId.values()];
}

/**
 * One notification in full: its status with every device, the request (when, whom),
 * the pushes the simulator received for it (APNs headers: collapse id, push type,
 * priority, expiration; re-push rounds show as repeated pushes) and its jobs on the
 * dead-letter queue.
 */
export async function notificationDetail(stack: LocalStack, notificationId: string) {
  let status: Awaited<ReturnType<typeof getNotification>>;
  try {
    status = await getNotification(apiPorts, notificationId);
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
  const request = await apiPorts.notificationRecords.findSendRequest(notificationId);
  const pushes = (stack.simulator?.inbox ?? [])
    .filter((entry) => (entry.payload as { pushgate?: { id?: unknown } }).pushgate?.id === notificationId)
    .slice(-PUSHES_SHOWN)
    .reverse()
    .map(({ seq, token, headers, payload, receivedAt }) => ({ seq, token, headers, payload, receivedAt }));
  const { deadLetters } = await peekDeadLetters(stack.sqs, stack.queues.deadLetterQueueUrl);
  return {
    ...status,
    ...(request === undefined
      ? {}
      : { createdAt: request.createdAt, namedUsers: request.namedUsers ?? [], appId: request.appId }),
    pushes,
    deadLetters: deadLetters.filter((letter) => letter.notificationId === notificationId),
  };
}
