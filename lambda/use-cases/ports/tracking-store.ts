import type { ChunkProgress, NotificationTracking } from '../../domain/notification-records';
import type { ChunkTracking, ReceiptEvent } from '../../domain/tracking';

export type { ChunkProgress, NotificationTracking };

/**
 * What a tracked notification keeps per device: who may acknowledge it (stored hashed,
 * in buckets), the receipts, outcome pages too long for a chunk's own record — and the
 * whole of a notification's records, read back for its report.
 */
export interface TrackingStore {
  saveRecipients(notificationId: string, recipients: readonly string[], now?: Date): Promise<void>;
  isRecipient(notificationId: string, buckets: number, recipient: string): Promise<boolean>;
  recordReceipt(notificationId: string, token: string, userId: string, event: ReceiptEvent): Promise<void>;
  saveTrackingPages(
    notificationId: string,
    part: string,
    attempt: number,
    chunk: number,
    pages: readonly ChunkTracking[],
  ): Promise<void>;
  /** The tokens among `tokens` that acknowledged the notification. */
  acknowledgedTokens(notificationId: string, tokens: readonly string[]): Promise<Set<string>>;
  readTracking(notificationId: string): Promise<NotificationTracking>;
}
