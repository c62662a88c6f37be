import { findSendRequest } from '../adapters/secondary/notifications-table';
import { listDeliveries } from '../adapters/secondary/tracking-table';
import { NotFoundError } from '../domain/errors';
import { countByStatus } from '../domain/tracking';

/**
 * A notification's delivery report, for backends.
 *
 * 1. Read every tracked recipient device (one Query).
 * 2. Nothing tracked and no send request under this id: NotificationNotFound.
 * 3. Answer with the totals per status and each device's status, times and reason.
 */
export async function getNotification(notificationId: string) {
  const [deliveries, request] = await Promise.all([
    listDeliveries(notificationId),
    findSendRequest(notificationId),
  ]);
  if (deliveries.length === 0 && request === undefined) {
    throw new NotFoundError(
      'NotificationNotFound',
      'No notification with this id is known (tracking data expires after 30 days).',
    );
  }
  deliveries.sort((a, b) => a.userId.localeCompare(b.userId) || a.token.localeCompare(b.token));
  return {
    notificationId,
    tracked: deliveries.length > 0,
    counts: { devices: deliveries.length, ...countByStatus(deliveries) },
    devices: deliveries,
  };
}
