import * as z from 'zod/mini';
import { MAX_FCM_TOKEN_LENGTH } from '../../../domain/fcm-token';
import { RECEIPT_EVENTS } from '../../../domain/tracking';

/** Room for the longest FCM registration token and the event. */
export const MAX_RECEIPT_BODY_BYTES = MAX_FCM_TOKEN_LENGTH + 1024;

/** Body of `POST /v1/notifications/{id}/receipts`. */
export const receiptBody = z.strictObject({
  token: z
    .string()
    .check(
      z.minLength(1, 'Send the device token the notification arrived on.'),
      z.maxLength(MAX_FCM_TOKEN_LENGTH),
    ),
  event: z.enum(RECEIPT_EVENTS, { error: 'The event is "received" or "opened".' }),
});
