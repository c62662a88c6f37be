import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  parseSortKey,
  progressKey,
  progressPrefix,
  receiptKey,
  recipientsKey,
  requestKey,
  trackingPageKey,
} from '../../lambda/adapters/secondary/notifications-keys';
import {
  decodeChunkTracking,
  encodeChunkTracking,
  encodeChunkTrackingPages,
  MAX_TRACKING_PAGE_BYTES,
  mergeTrackedDevices,
  packChunkTracking,
  type RecordedStatus,
  unpackChunkTracking,
} from '../../lambda/domain/tracking';

const token = (n: number, bytes = 32) => n.toString(16).padStart(2 * bytes, '0');

describe('chunk tracking encoding', () => {
  it('round-trips every status, reason and user, for tokens of 16 to 200 bytes', () => {
    const outcomes: RecordedStatus[] = [
      { token: token(1), userId: 'alice', status: 'accepted' },
      { token: token(2, 16), userId: 'bob', status: 'pruned', reason: 'Unregistered' },
      { token: token(3, 200), userId: 'alice', status: 'queued', reason: 'TooManyRequests' },
      { token: token(4), userId: 'a:b,c"d\\e', status: 'failed', reason: 'Unregistered' },
    ];
    const encoded = encodeChunkTracking(outcomes);
    expect(encoded.users).toEqual(['alice', 'bob', 'a:b,c"d\\e']);
    expect(encoded.reasons).toEqual(['Unregistered', 'TooManyRequests']);
    expect(decodeChunkTracking(encoded)).toEqual(outcomes);
    expect(decodeChunkTracking(encodeChunkTracking([]))).toEqual([]);
  });

  it('round-trips FCM tokens exactly — case, ":", ".", "-" and "_" — next to APNs ones', () => {
    const outcomes: RecordedStatus[] = [
      { token: 'fMEP0vJqS0:APA91bHq-X3_mF.2mb', userId: 'alice', status: 'accepted' },
      { token: token(5), userId: 'alice', status: 'accepted' },
      { token: 'a:b:c', userId: 'bob', status: 'pruned', reason: 'UNREGISTERED' },
      { token: 'AbC', userId: 'bob', status: 'queued', reason: 'UNAVAILABLE' },
    ];
    expect(decodeChunkTracking(encodeChunkTracking(outcomes))).toEqual(outcomes);
  });

  it('keeps a 32-byte token under 50 bytes per device', () => {
    const outcomes = Array.from({ length: 500 }, (_, i) => ({
      token: token(i),
      userId: `user-${i % 100}`,
      status: 'accepted' as const,
    }));
    expect(encodeChunkTracking(outcomes).outcomes.length / 500).toBeLessThan(50);
  });

  it('packs a chunk losslessly, and a chunk of 200 random tokens of 100 users into fewer write units', () => {
    const outcomes: RecordedStatus[] = Array.from({ length: 100 }, () => randomUUID()).flatMap(
      (userId, i) => [
        { token: randomBytes(32).toString('hex'), userId, status: 'accepted' },
        i % 10 === 0
          ? { token: 'fMEP0vJqS0:APA91bHq-X3_mF.2mb', userId, status: 'pruned', reason: 'UNREGISTERED' }
          : { token: randomBytes(32).toString('hex'), userId, status: 'queued', reason: 'TooManyRequests' },
      ],
    );
    const encoded = encodeChunkTracking(outcomes);
    const packed = packChunkTracking(encoded);
    expect(decodeChunkTracking(unpackChunkTracking(packed))).toEqual(outcomes);
    // What DynamoDB bills: the attributes' bytes, one write unit per KB.
    const asText = encoded.outcomes.length + encoded.users.join('').length + encoded.reasons.join('').length;
    expect(Math.ceil(packed.byteLength / 1024)).toBeLessThan(Math.ceil(asText / 1024) - 2);
    expect(() => unpackChunkTracking(packChunkTracking({ outcomes: 1 } as never))).toThrow(/malformed/);
  });
});

describe('chunk tracking pages', () => {
  const itemBytes = (page: { outcomes: string; users: string[]; reasons: string[] }) =>
    Buffer.byteLength(page.outcomes) +
    [...page.users, ...page.reasons].reduce((sum, text) => sum + Buffer.byteLength(text) + 3, 0);

  it('outcomes of 3 200 devices with 1 000-character FCM tokens are cut into pages under the limit, in order', () => {
    const outcomes: RecordedStatus[] = Array.from({ length: 3_200 }, (_, i) => ({
      token: `${String(i).padStart(8, '0')}:${'K'.repeat(991)}`,
      userId: `${'u'.repeat(250)}${i % 100}`,
      status: i % 7 === 0 ? ('queued' as const) : ('accepted' as const),
      ...(i % 7 === 0 ? { reason: 'UNAVAILABLE' } : {}),
    }));
    const pages = encodeChunkTrackingPages(outcomes);
    expect(pages.length).toBeGreaterThan(10);
    for (const page of pages) expect(itemBytes(page)).toBeLessThanOrEqual(MAX_TRACKING_PAGE_BYTES);
    expect(pages.flatMap((page) => decodeChunkTracking(page))).toEqual(outcomes);
  });

  it('APNs-sized outcomes stay one page, the single record as before', () => {
    const outcomes = Array.from({ length: 3_200 }, (_, i) => ({
      token: token(i),
      userId: `user-${i % 100}`,
      status: 'accepted' as const,
    }));
    expect(encodeChunkTrackingPages(outcomes)).toEqual([encodeChunkTracking(outcomes)]);
    expect(encodeChunkTrackingPages([])).toEqual([encodeChunkTracking([])]);
  });
});

describe('merging chunk records and receipts', () => {
  const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
  const device = (status: RecordedStatus['status'], reason?: string): RecordedStatus => ({
    token: token(7),
    userId: 'alice',
    status,
    ...(reason === undefined ? {} : { reason }),
  });

  it('a retry that got through wins over the queued first try, whatever order the records come in', () => {
    const [merged] = mergeTrackedDevices(
      [
        { at: at(5), statuses: [device('accepted')] },
        { at: at(1), statuses: [device('queued', 'InternalServerError')] },
      ],
      [],
    );
    expect(merged).toMatchObject({ status: 'accepted', acceptedAt: at(5) });
    expect(merged?.reason).toBeUndefined();
  });

  it('pruned and failed are final; re-push rounds are counted', () => {
    const [merged] = mergeTrackedDevices(
      [
        { at: at(1), statuses: [device('accepted')] },
        { at: at(3), round: 1, statuses: [device('failed', 'Unregistered (retries exhausted)')] },
        { at: at(4), round: 2, statuses: [device('queued', 'InternalServerError')] },
      ],
      [],
    );
    expect(merged).toMatchObject({
      status: 'failed',
      repushes: 2,
      reason: 'Unregistered (retries exhausted)',
    });
  });

  it('a receipt wins, also one that arrived before any sender record', () => {
    const receipt = { token: token(7), userId: 'alice', receivedAt: at(2), openedAt: at(3) };
    expect(mergeTrackedDevices([], [receipt])).toEqual([
      {
        token: token(7),
        userId: 'alice',
        status: 'opened',
        receivedAt: at(2),
        openedAt: at(3),
        updatedAt: at(3),
      },
    ]);
    const [merged] = mergeTrackedDevices(
      [{ at: at(9), statuses: [device('accepted')] }],
      [{ token: token(7), userId: 'alice', receivedAt: at(2) }],
    );
    expect(merged).toMatchObject({ status: 'received', acceptedAt: at(9) });
  });
});

describe('sort keys read back', () => {
  it('a progress key gives back its part, attempt and chunk; a receipt key its token; others nothing', () => {
    const progress = progressKey('n-1', '0.3/2r1', 4, 17);
    expect(parseSortKey(progress.sk)).toEqual({ kind: 'progress', part: '0.3/2r1', attempt: 4, chunk: 17 });
    const token = 'ab'.repeat(32);
    expect(parseSortKey(receiptKey('n-1', token).sk)).toEqual({ kind: 'receipt', token });
    expect(parseSortKey(recipientsKey('n-1', 3).sk)).toEqual({ kind: 'other' });
    expect(parseSortKey(requestKey('n-1').sk)).toEqual({ kind: 'other' });
    expect(parseSortKey(trackingPageKey('n-1', '0.3/2r1', 4, 17, 2).sk)).toEqual({
      kind: 'trackingPage',
      part: '0.3/2r1',
      attempt: 4,
      chunk: 17,
      page: 2,
    });
    expect(trackingPageKey('n-1', '0', 0, 1, 1).sk.startsWith(progressPrefix('0', 0))).toBe(false);
  });
});
