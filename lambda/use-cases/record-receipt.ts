import { recordReceipt as storeReceipt } from '../adapters/secondary/tracking-table';
import type { ReceiptEvent } from '../domain/tracking';

/**
 * The app acknowledges a notification on one of the caller's devices: `received`
 * (shown or handled) or `opened` (the user tapped it). Only a recipient device of
 * the caller of a tracked notification counts; anything else is ReceiptNotFound.
 * An acknowledged device gets no re-push.
 */
export async function recordReceipt(
  notificationId: string,
  token: string,
  userId: string,
  event: ReceiptEvent,
) {
  await storeReceipt(notificationId, token, userId, event);
}
