/**
 * The shape of the Notifications table (per-notification records: delivery
 * progress, the send request under its id, per-device tracking), shared by the
 * adapter, the CDK stack and the offline stack.
 */
export const NOTIFICATIONS_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
} as const;

/** Progress records outlive the DLQ's 14-day retention, so a redriven job still skips finished chunks. */
export const PROGRESS_TTL_DAYS = 15;

export function notificationPk(notificationId: string): string {
  return `notification#${notificationId}`;
}

/** The prefix of every progress record of one part of a job at one attempt. */
export function progressPrefix(part: string, attempt: number): string {
  return `progress#${part}#${attempt}#`;
}

export function progressKey(notificationId: string, part: string, attempt: number, chunk: number) {
  return {
    pk: notificationPk(notificationId),
    sk: `${progressPrefix(part, attempt)}${String(chunk).padStart(6, '0')}`,
  };
}

/** How long a notification id stays taken: repeats within it get the original answer. */
export const IDEMPOTENCY_WINDOW_DAYS = 7;

/** The record of a send request (its answer, for idempotent repeats). */
export function requestKey(notificationId: string) {
  return { pk: notificationPk(notificationId), sk: 'request' };
}

/** A recipient device's tracking record (only for `track.receipts`). */
export function deliveryKey(notificationId: string, token: string) {
  return { pk: notificationPk(notificationId), sk: `device#${token}` };
}

export const DELIVERY_PREFIX = 'device#';

/** The APNs provider token the whole fleet shares for one key (see the gateway's provider-token module). */
export function providerTokenKey(keyName: string) {
  return { pk: `provider-token#${keyName}`, sk: 'provider-token' };
}
