/**
 * Per-device tracking, for notifications sent with `track.receipts`.
 * APNs answering 200 means accepted, not shown: only the app knows, and tells us
 * with a receipt. Statuses only move forward: queued → accepted → received → opened;
 * pruned and failed are final.
 */

import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { DAY_SECONDS, expiresAfter } from './expiry';
export const DEVICE_STATUSES = ['queued', 'accepted', 'received', 'opened', 'pruned', 'failed'] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

export const RECEIPT_EVENTS = ['received', 'opened'] as const;
export type ReceiptEvent = (typeof RECEIPT_EVENTS)[number];

/** Tracking data lives this long after its last change (DynamoDB TTL). */
export const TRACKING_TTL_DAYS = 30;

/** Re-pushes when `repushAfterSeconds` is given without `maxRepushes`. */
export const DEFAULT_MAX_REPUSHES = 1;

export interface TrackedDevice {
  token: string;
  userId: string;
  status: DeviceStatus;
  apnsId?: string;
  acceptedAt?: string;
  receivedAt?: string;
  openedAt?: string;
  reason?: string;
  repushes?: number;
  updatedAt: string;
}

export function trackingExpiry(now: Date): number {
  return expiresAfter(now, TRACKING_TTL_DAYS * DAY_SECONDS);
}

/** Totals per status, every status present (zeros included) so dashboards need no special cases. */
export function countByStatus(devices: readonly TrackedDevice[]): Record<DeviceStatus, number> {
  const counts = Object.fromEntries(DEVICE_STATUSES.map((status) => [status, 0])) as Record<
    DeviceStatus,
    number
  >;
  for (const device of devices) counts[device.status]++;
  return counts;
}

/** What the sender knows about a device: its statuses before any acknowledgement. */
export type SenderStatus = Extract<DeviceStatus, 'queued' | 'accepted' | 'pruned' | 'failed'>;

/** One device's status as one chunk of a send records it (its outcome, as the report shows it). */
export interface RecordedStatus {
  token: string;
  userId: string;
  status: SenderStatus;
  reason?: string;
}

/**
 * The outcomes of a chunk as one small record: user ids and reasons listed once,
 * each device a short entry `<token, base64url>:<status letter><user index>[:<reason index>]`.
 * DynamoDB bills writes per KB, so a device costs about 50 bytes instead of an item.
 */
export interface ChunkTracking {
  outcomes: string;
  users: string[];
  reasons: string[];
}

const STATUS_LETTER: Record<SenderStatus, string> = { queued: 'q', accepted: 'a', pruned: 'p', failed: 'f' };
const LETTER_STATUS = new Map(Object.entries(STATUS_LETTER).map(([status, letter]) => [letter, status]));

/**
 * An APNs token (hex) is kept as base64url; an FCM token as itself behind `~`, its
 * `:` written `!` (neither occurs in an FCM token, and `:` and `,` separate entries).
 */
const FCM_MARK = '~';

function encodeTrackedToken(token: string): string {
  return /^[0-9a-f]+$/.test(token) && token.length % 2 === 0
    ? Buffer.from(token, 'hex').toString('base64url')
    : `${FCM_MARK}${token.replaceAll(':', '!')}`;
}

function decodeTrackedToken(encoded: string): string {
  return encoded.startsWith(FCM_MARK)
    ? encoded.slice(FCM_MARK.length).replaceAll('!', ':')
    : Buffer.from(encoded, 'base64url').toString('hex');
}

export function encodeChunkTracking(outcomes: readonly RecordedStatus[]): ChunkTracking {
  const users: string[] = [];
  const reasons: string[] = [];
  const indexOf = (list: string[], value: string) => {
    const found = list.indexOf(value);
    return found >= 0 ? found : list.push(value) - 1;
  };
  const entries = outcomes.map(({ token, userId, status, reason }) => {
    const head = `${encodeTrackedToken(token)}:${STATUS_LETTER[status]}${indexOf(users, userId)}`;
    return reason === undefined ? head : `${head}:${indexOf(reasons, reason)}`;
  });
  return { outcomes: entries.join(','), users, reasons };
}

/**
 * The most bytes of outcomes one item holds: DynamoDB caps an item at 400 KB, and the
 * chunk's record keeps its key, claim and summary beside them. ~50 bytes a device for
 * APNs tokens (a chunk of 8 000 fits), but an FCM token can be 4 096 characters, and
 * a chunk of 100 users 3 200 devices: such a chunk's outcomes go in several pages.
 */
export const MAX_TRACKING_PAGE_BYTES = 300 * 1024;

/**
 * A chunk's outcomes as pages of at most MAX_TRACKING_PAGE_BYTES, each encoded on its
 * own (its users and reasons listed in it); one page — the usual case — when they fit.
 * Deterministic, so a chunk sent again writes the same pages.
 */
export function encodeChunkTrackingPages(outcomes: readonly RecordedStatus[]): ChunkTracking[] {
  const pages: RecordedStatus[][] = [[]];
  let bytes = 0;
  for (const outcome of outcomes) {
    // An upper bound: the entry, and its user id and reason as if each were new to the page.
    const size =
      encodeTrackedToken(outcome.token).length +
      16 +
      Buffer.byteLength(outcome.userId) +
      Buffer.byteLength(outcome.reason ?? '') +
      8;
    const current = pages[pages.length - 1] as RecordedStatus[];
    if (current.length > 0 && bytes + size > MAX_TRACKING_PAGE_BYTES) {
      pages.push([outcome]);
      bytes = size;
    } else {
      current.push(outcome);
      bytes += size;
    }
  }
  return pages.map((page) => encodeChunkTracking(page));
}

export function decodeChunkTracking(tracking: ChunkTracking): RecordedStatus[] {
  if (tracking.outcomes === '') return [];
  return tracking.outcomes.split(',').map((entry) => {
    const [token = '', statusAndUser = '', reason] = entry.split(':');
    const status = LETTER_STATUS.get(statusAndUser.charAt(0)) as SenderStatus | undefined;
    const userId = tracking.users[Number(statusAndUser.slice(1))];
    if (status === undefined || userId === undefined) throw new Error('malformed chunk tracking entry');
    return {
      token: decodeTrackedToken(token),
      userId,
      status,
      ...(reason === undefined ? {} : { reason: tracking.reasons[Number(reason)] ?? 'unknown' }),
    };
  });
}

/**
 * A chunk's tracking as it is stored: its JSON, deflated. DynamoDB bills a write per
 * KB of item, and this is the one write a tracked chunk makes bigger: 200 devices with
 * 100 users are about 11 KB as text and 7.5 KB deflated (a token is random, so its 32
 * bytes stay; the base64 alphabet, separators, statuses and user ids shrink).
 * Lossless: `unpackChunkTracking` gives back exactly what was packed.
 */
export function packChunkTracking(tracking: ChunkTracking): Uint8Array {
  return deflateRawSync(JSON.stringify(tracking));
}

export function unpackChunkTracking(packed: Uint8Array): ChunkTracking {
  const tracking = JSON.parse(inflateRawSync(packed).toString('utf8')) as Partial<ChunkTracking>;
  const strings = (value: unknown) =>
    Array.isArray(value) && value.every((element) => typeof element === 'string');
  if (typeof tracking.outcomes !== 'string' || !strings(tracking.users) || !strings(tracking.reasons))
    throw new Error('malformed packed chunk tracking');
  return tracking as ChunkTracking;
}

/** A chunk's device statuses as read back, with when they were recorded and the re-push round. */
export interface RecordedChunk {
  at: string;
  round?: number;
  statuses: RecordedStatus[];
}

export interface Receipt {
  token: string;
  userId: string;
  receivedAt: string;
  openedAt?: string;
}

/** Later sender statuses win over earlier ones by this rank; equal ranks by time. */
const SENDER_RANK: Record<SenderStatus, number> = { queued: 0, accepted: 1, pruned: 2, failed: 2 };

/**
 * One status per device from every chunk that sent to it (first try, retries,
 * re-push rounds) and its receipt. A receipt says the app has the notification,
 * so it wins over whatever the sender recorded — also when it arrived first.
 */
export function mergeTrackedDevices(
  chunks: readonly RecordedChunk[],
  receipts: readonly Receipt[],
): TrackedDevice[] {
  const byToken = new Map<string, TrackedDevice>();
  const ordered = [...chunks].sort((a, b) => a.at.localeCompare(b.at));
  for (const chunk of ordered) {
    for (const recorded of chunk.statuses) {
      const current = byToken.get(recorded.token);
      const next: TrackedDevice = current ?? {
        token: recorded.token,
        userId: recorded.userId,
        status: 'queued',
        updatedAt: chunk.at,
      };
      if (
        current === undefined ||
        SENDER_RANK[recorded.status] >= SENDER_RANK[current.status as SenderStatus]
      ) {
        next.status = recorded.status;
        if (recorded.reason === undefined) delete next.reason;
        else next.reason = recorded.reason;
      }
      if (recorded.status === 'accepted') next.acceptedAt = chunk.at;
      if (chunk.round !== undefined) next.repushes = Math.max(next.repushes ?? 0, chunk.round);
      next.updatedAt = chunk.at;
      byToken.set(recorded.token, next);
    }
  }
  for (const receipt of receipts) {
    const current = byToken.get(receipt.token) ?? {
      token: receipt.token,
      userId: receipt.userId,
      status: 'queued',
      updatedAt: receipt.receivedAt,
    };
    current.status = receipt.openedAt === undefined ? 'received' : 'opened';
    current.receivedAt = receipt.receivedAt;
    if (receipt.openedAt !== undefined) current.openedAt = receipt.openedAt;
    delete current.reason;
    const last = receipt.openedAt ?? receipt.receivedAt;
    if (last > current.updatedAt) current.updatedAt = last;
    byToken.set(receipt.token, current);
  }
  return [...byToken.values()];
}
