import type { ApnsEnvironment } from './simulator';

/** A notification the simulator accepted (answered 200). */
export interface InboxEntry {
  /** 1 for the first notification accepted since the inbox was last emptied. */
  seq: number;
  token: string;
  topic: string;
  environment: ApnsEnvironment;
  apnsId: string;
  /** The APNs request headers (`apns-*`), lower-case names. */
  headers: Record<string, string>;
  payload: unknown;
  receivedAt: string;
}

export interface InboxPage<Entry extends { seq: number } = InboxEntry> {
  /** Every notification accepted since the inbox was last emptied, including those no longer kept. */
  total: number;
  notifications: Entry[];
  /** The `after` of the following page; absent on the last page. */
  next?: number;
}

export const DEFAULT_INBOX_PAGE = 10_000;
export const DEFAULT_INBOX_KEEP = 200_000;

/**
 * What the simulator accepted, oldest first, numbered from 1. Memory stays bounded:
 * at least the latest `keep` entries are kept; older ones are dropped in slices of
 * a tenth of `keep`, so a push costs O(1) amortized instead of a shift per entry.
 * The APNs and FCM simulators each keep one, of their own entries.
 */
export class Inbox<Entry extends { seq: number } = InboxEntry> {
  private list: Entry[] = [];
  private count = 0;
  private readonly slack: number;

  constructor(private readonly keep: number = DEFAULT_INBOX_KEEP) {
    if (!Number.isInteger(keep) || keep < 1)
      throw new Error(`inbox keep must be a positive integer, not ${keep}`);
    this.slack = Math.max(1, Math.floor(keep / 10));
  }

  /** Every notification accepted since the inbox was last emptied. */
  get total(): number {
    return this.count;
  }

  /** The entries still kept, oldest first (read-only view). */
  get entries(): readonly Entry[] {
    return this.list;
  }

  add(entry: Omit<Entry, 'seq'>): Entry {
    this.count++;
    const kept = { seq: this.count, ...entry } as Entry;
    this.list.push(kept);
    if (this.list.length > this.keep + this.slack) this.list = this.list.slice(this.list.length - this.keep);
    return kept;
  }

  clear(): void {
    this.list = [];
    this.count = 0;
  }

  /** Up to `limit` entries with `seq > after`, oldest first (entries dropped for memory are skipped). */
  page(after = 0, limit = DEFAULT_INBOX_PAGE): InboxPage<Entry> {
    const first = this.list[0]?.seq ?? this.count + 1;
    const start = Math.max(0, after + 1 - first);
    const notifications = this.list.slice(start, start + limit);
    const last = notifications.at(-1)?.seq;
    return {
      total: this.count,
      notifications,
      ...(last !== undefined && last < this.count ? { next: last } : {}),
    };
  }
}
