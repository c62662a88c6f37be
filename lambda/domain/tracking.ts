/**
 * Per-device delivery tracking, for notifications sent with `track.receipts`.
 * APNs answering 200 means accepted, not shown: only the app knows, and tells us
 * with a receipt. Statuses only move forward: queued → accepted → received → opened;
 * pruned and failed are final.
 */
export const DELIVERY_STATUSES = ['queued', 'accepted', 'received', 'opened', 'pruned', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const RECEIPT_EVENTS = ['received', 'opened'] as const;
export type ReceiptEvent = (typeof RECEIPT_EVENTS)[number];

/** Tracking data lives this long after its last change (DynamoDB TTL). */
export const TRACKING_TTL_DAYS = 30;

/** Re-pushes when `repushAfterSeconds` is given without `maxRepushes`. */
export const DEFAULT_MAX_REPUSHES = 1;

export interface DeviceDelivery {
  token: string;
  userId: string;
  status: DeliveryStatus;
  apnsId?: string;
  acceptedAt?: string;
  receivedAt?: string;
  openedAt?: string;
  reason?: string;
  repushes?: number;
  updatedAt: string;
}

export function trackingExpiry(now: Date): number {
  return Math.floor(now.getTime() / 1000) + TRACKING_TTL_DAYS * 86_400;
}

/** Totals per status, every status present (zeros included) so dashboards need no special cases. */
export function countByStatus(deliveries: readonly DeviceDelivery[]): Record<DeliveryStatus, number> {
  const counts = Object.fromEntries(DELIVERY_STATUSES.map((status) => [status, 0])) as Record<
    DeliveryStatus,
    number
  >;
  for (const delivery of deliveries) counts[delivery.status]++;
  return counts;
}
