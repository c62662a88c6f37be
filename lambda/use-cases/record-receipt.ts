import { NotFoundError } from '../domain/errors';
import type { ReceiptEvent } from '../domain/tracking';
import type { Ports } from './ports';

/**
 * The app acknowledges a notification on one of the caller's devices: `received`
 * (shown or handled) or `opened` (the user tapped it). It is kept whenever it
 * arrives — also before the sender has recorded the APNs answer — so the device
 * gets no re-push. Checked without the sender's records:
 *
 * 1. The notification was sent with `track.receipts` (its request record says so,
 *    with the app and who the job was for).
 * 2. The device is in the caller's device set (read strongly consistent), for that app.
 * 3. The job named the caller (a job to users) or the token (a job to tokens).
 * 4. One write: the receipt's own item.
 * Any failed check is ReceiptNotFound, the same for each, so nothing leaks.
 */
export async function recordReceipt(
  {
    deviceRegistry,
    notificationRecords,
    trackingStore,
  }: Pick<Ports, 'deviceRegistry' | 'notificationRecords' | 'trackingStore'>,
  notificationId: string,
  token: string,
  userId: string,
  event: ReceiptEvent,
): Promise<void> {
  const request = await notificationRecords.findSendRequest(notificationId);
  const receipts = request?.receipts;
  const device = receipts === undefined ? undefined : await deviceRegistry.heldBy(userId, token);
  const recipient =
    receipts !== undefined &&
    device?.userId === userId &&
    device.entry.appId === receipts.appId &&
    (await trackingStore.isRecipient(
      notificationId,
      receipts.buckets,
      receipts.to === 'users' ? userId : token,
    ));
  if (!recipient) {
    throw new NotFoundError(
      'ReceiptNotFound',
      'No tracked notification with this id was sent to this device of yours. Receipts exist only for notifications sent with "track": {"receipts": true}.',
    );
  }
  await trackingStore.recordReceipt(notificationId, token, userId, event);
}
