import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { expect } from 'vitest';
import { SENDER } from '../../infra/queue-settings';
import { ENVIRONMENT } from '../../lambda/environment';
import { api } from './api';
import { db, type SenderHarness } from './sender-harness';

/** One receive of a send-queue message, as the event source hands it to the sender. */
export function received(messageId: string, body: unknown, receiveCount: number): SQSRecord {
  const now = String(Date.now());
  return {
    messageId,
    receiptHandle: `${messageId}-${receiveCount}`,
    body: JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: now,
      SenderId: 'backend',
      ApproximateFirstReceiveTimestamp: now,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:pushgate-send',
    awsRegion: 'us-east-1',
  };
}

// A fresh invocation's time: too little, and the sender would hand the job to a continuation message.
const context = { getRemainingTimeInMillis: () => SENDER.timeoutSeconds * 1000 } as Context;

/** One sender invocation, as SQS makes it — also when it hands the same message out again. */
export async function invokeSender(records: SQSRecord[]): Promise<SQSBatchResponse> {
  const { handler } = await import('../../lambda/adapters/primary/deliver-notifications/handler');
  return handler({ Records: records }, context);
}

/** A Notifications table item, read consistently. */
export async function notificationsItem(
  key: Record<string, unknown>,
): Promise<Record<string, unknown> | undefined> {
  const { Item } = await db.send(
    new GetCommand({
      TableName: process.env[ENVIRONMENT.notificationsTable],
      Key: key,
      ConsistentRead: true,
    }),
  );
  return Item;
}

/** `GET /v1/notifications/{id}`'s report (a 200 expected). */
export async function notificationStatus(id: string) {
  const answer = await api('GET', `/v1/notifications/${id}`, { backend: true });
  expect(answer.status).toBe(200);
  return answer.body;
}

/** How many times each token got this notification in the APNs inbox, sorted by token. */
export function pushesOf(harness: SenderHarness, notificationId: string): [string, number][] {
  const counts = new Map<string, number>();
  for (const entry of harness.simulator.inbox) {
    if ((entry.payload as { pushgate?: { id?: string } }).pushgate?.id !== notificationId) continue;
    counts.set(entry.token, (counts.get(entry.token) ?? 0) + 1);
  }
  return [...counts].sort(([a], [b]) => a.localeCompare(b));
}

/** `pushesOf` when every one of these tokens got it exactly once. */
export const once = (tokens: readonly string[]) =>
  [...tokens].sort().map((token): [string, number] => [token, 1]);

/** The report of a one-user send whose every device accepted it, as the chunk path gives it. */
export const allAccepted = (id: string, devices: number) => ({
  notificationId: id,
  tracked: false,
  recipients: { users: 1, usersWithoutDevices: 0 },
  parts: 1,
  jobs: 1,
  counts: { devices, accepted: devices, queued: 0, failed: 0, pruned: 0, received: 0, opened: 0 },
  reasons: {},
  progress: { parts: 1, partsDone: 1, chunksInProgress: 0, complete: true },
  devices: [],
});
