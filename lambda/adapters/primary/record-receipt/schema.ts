import * as z from 'zod/mini';
import { RECEIPT_EVENTS } from '../../../domain/tracking';

export const MAX_RECEIPT_BODY_BYTES = 2048;

/** Body of `POST /v1/notifications/{id}/receipts`. */
export const receiptBody = z.strictObject({
  token: z
    .string()
    .check(z.minLength(1, 'Send the device token the notification arrived on.'), z.maxLength(500)),
  event: z.enum(RECEIPT_EVENTS, { error: 'The event is "received" or "opened".' }),
});
