import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { SendRequestRecord } from '../../lambda/adapters/secondary/notifications-table';
import { partJobFingerprints, partKey, partsOf, publishedPartKeys } from '../../lambda/domain/job-part';
import { jobFingerprint, type SendJob } from '../../lambda/domain/send-job';

/**
 * Taking a notification id, the one rule the API and the sender (for jobs published
 * to the queue) share — with the table's conditional write replaced by a double that
 * answers as DynamoDB would: taken, or the record already there.
 */
const takeNotificationId = vi.fn(
  async (
    _record: SendRequestRecord,
    _now?: Date,
  ): Promise<{ taken: true } | { taken: false; existing: SendRequestRecord }> => ({ taken: true }),
);
vi.mock('../../lambda/adapters/secondary/notifications-table', () => ({ takeNotificationId }));

const { takeJobNotificationId } = await import('../../lambda/use-cases/take-notification-id');

const now = new Date('2026-12-06T05:00:00.000Z');
const job = (extra: Partial<SendJob> = {}): SendJob =>
  ({
    notificationId: 'n-1',
    appId: 'com.example.app',
    to: { userIds: Array.from({ length: 1_500 }, (_, i) => `user-${i}`) },
    aps: { alert: 'hi' },
    ...extra,
  }) as SendJob;

const recordOf = (sent: SendJob, extra: Partial<SendRequestRecord> = {}): SendRequestRecord => ({
  notificationId: sent.notificationId,
  answer: { notificationId: sent.notificationId, recipients: { users: 1_500 }, jobs: 2, tracked: false },
  status: 'enqueued',
  createdAt: '2026-12-05T00:00:00.000Z',
  jobFingerprint: jobFingerprint(sent),
  ...extra,
});

beforeEach(() => {
  takeNotificationId.mockReset();
  takeNotificationId.mockResolvedValue({ taken: true });
});

describe('taking a notification id', () => {
  it('a free id holds the job as pending: its fingerprint, its parts’, the answer, dated now', async () => {
    const sent = job();
    const parts = partsOf(sent);
    const taken = await takeJobNotificationId(sent, parts, now);
    const answer = { notificationId: 'n-1', recipients: { users: 1_500 }, jobs: 2, tracked: false };
    expect(taken).toEqual({ kind: 'taken', answer });
    expect(takeNotificationId).toHaveBeenCalledTimes(1);
    const [record, at] = takeNotificationId.mock.calls[0] ?? [];
    expect(at).toBe(now);
    expect(record).toEqual({
      notificationId: 'n-1',
      answer,
      status: 'pending',
      createdAt: now.toISOString(),
      appId: 'com.example.app',
      namedUsers: Array.from({ length: 20 }, (_, i) => `user-${i}`),
      jobFingerprint: jobFingerprint(sent),
      partJobs: partJobFingerprints(parts),
      partKeys: parts.map(partKey),
      partsIssuedRecorded: true,
    });
  });

  it('a job already on the send queue (published to it) holds its id as enqueued from the start', async () => {
    const sent = job();
    await takeJobNotificationId(sent, partsOf(sent), now, { publishedAs: '0' });
    const [record] = takeNotificationId.mock.calls[0] ?? [];
    expect(record?.status).toBe('enqueued');
    // Its parts are the sender's split of it, named under the part it came as.
    expect(record?.publishedPart).toBe('0');
    expect(record?.partKeys).toEqual(partsOf(sent, '0').map(partKey));
    expect(record?.partKeys).toEqual(publishedPartKeys(sent, '0'));
    expect(record?.partKeys).not.toEqual(partsOf(sent).map(partKey));
  });

  it('a tracked job also records who may acknowledge it', async () => {
    const sent = job({ track: { receipts: true }, to: { tokens: ['a'.repeat(64)] } });
    await takeJobNotificationId(sent, partsOf(sent), now);
    const [record] = takeNotificationId.mock.calls[0] ?? [];
    expect(record?.receipts).toEqual({ appId: 'com.example.app', to: 'tokens', buckets: 1 });
    expect(record?.answer).toMatchObject({ tracked: true, recipients: { tokens: 1 } });
  });

  it('an id the same job took is a repeat, whatever its status, with the record it wrote', async () => {
    const sent = job();
    for (const status of ['pending', 'enqueued'] as const) {
      const existing = recordOf(sent, { status });
      takeNotificationId.mockResolvedValueOnce({ taken: false, existing });
      expect(await takeJobNotificationId(sent, partsOf(sent), now)).toEqual({
        kind: 'repeat',
        record: existing,
      });
    }
  });

  it('an id another job holds is a conflict: other recipients, other content, or a record without a fingerprint', async () => {
    const sent = job();
    const holders = [
      recordOf(job({ to: { userIds: ['someone-else'] } })),
      recordOf(job({ aps: { alert: 'other' } })),
      { ...recordOf(sent), jobFingerprint: undefined },
    ];
    for (const existing of holders) {
      takeNotificationId.mockResolvedValueOnce({ taken: false, existing });
      expect(await takeJobNotificationId(sent, partsOf(sent), now)).toEqual({ kind: 'conflict' });
    }
  });
});
