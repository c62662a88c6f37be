import { describe, expect, it } from 'vitest';
import { Inbox, type InboxEntry } from '../../local/apns-simulator/inbox';

function accepted(inbox: Inbox, count: number): void {
  for (let i = 0; i < count; i++) {
    inbox.add({
      token: `token-${inbox.total + 1}`,
      topic: 'com.example.app',
      environment: 'sandbox',
      apnsId: `id-${inbox.total + 1}`,
      headers: { 'apns-push-type': 'alert' },
      payload: { aps: { alert: 'Hi' } },
      receivedAt: new Date(0).toISOString(),
    });
  }
}

/** Follows `next` from the start, as a client pages through the whole inbox. */
function readAll(inbox: Inbox, limit: number): InboxEntry[] {
  const all: InboxEntry[] = [];
  let after: number | undefined = 0;
  while (after !== undefined) {
    const page = inbox.page(after, limit);
    all.push(...page.notifications);
    after = page.next;
  }
  return all;
}

describe('the APNs simulator inbox', () => {
  it('numbers notifications from 1, oldest first, with the total', () => {
    const inbox = new Inbox();
    accepted(inbox, 3);
    const page = inbox.page();
    expect(page.total).toBe(3);
    expect(page.notifications.map((entry) => [entry.seq, entry.token])).toEqual([
      [1, 'token-1'],
      [2, 'token-2'],
      [3, 'token-3'],
    ]);
    expect(page.next).toBeUndefined();
  });

  it('pages with after and limit; next is the after of the following page, absent on the last', () => {
    const inbox = new Inbox();
    accepted(inbox, 25);
    const first = inbox.page(0, 10);
    expect(first.notifications.map((entry) => entry.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(first.next).toBe(10);
    const third = inbox.page(20, 10);
    expect(third.notifications.map((entry) => entry.seq)).toEqual([21, 22, 23, 24, 25]);
    expect(third.next).toBeUndefined();
    expect(inbox.page(25, 10)).toEqual({ total: 25, notifications: [] });
    expect(inbox.page(1_000, 10)).toEqual({ total: 25, notifications: [] });
    expect(readAll(inbox, 7).map((entry) => entry.seq)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
  });

  it('a page that ends exactly at the newest entry has no next; one more arrival shows up after it', () => {
    const inbox = new Inbox();
    accepted(inbox, 20);
    expect(inbox.page(10, 10).next).toBeUndefined();
    accepted(inbox, 1);
    expect(inbox.page(20, 10).notifications.map((entry) => entry.seq)).toEqual([21]);
  });

  it('keeps at least the latest `keep` entries in bounded memory; total still counts every one', () => {
    const inbox = new Inbox(1_000);
    accepted(inbox, 5_555);
    expect(inbox.total).toBe(5_555);
    expect(inbox.entries.length).toBeGreaterThanOrEqual(1_000);
    expect(inbox.entries.length).toBeLessThanOrEqual(1_100);
    expect(inbox.entries.at(-1)?.seq).toBe(5_555);
    // Paging from the start skips what was dropped and reads every kept entry once, in order.
    const kept = readAll(inbox, 300).map((entry) => entry.seq);
    expect(kept[0]).toBe(inbox.entries[0]?.seq);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => 5_555 - kept.length + 1 + i));
    expect(kept.length).toBeGreaterThanOrEqual(1_000);
  });

  it('keeps 200 000 by default', () => {
    const inbox = new Inbox();
    accepted(inbox, 230_000);
    expect(inbox.entries.length).toBeGreaterThanOrEqual(200_000);
    expect(inbox.page(29_999, 1).notifications[0]?.seq).toBe(30_000);
  });

  it('clearing empties it and numbering starts again at 1', () => {
    const inbox = new Inbox();
    accepted(inbox, 5);
    inbox.clear();
    expect(inbox.page()).toEqual({ total: 0, notifications: [] });
    accepted(inbox, 1);
    expect(inbox.page().notifications[0]?.seq).toBe(1);
  });
});
