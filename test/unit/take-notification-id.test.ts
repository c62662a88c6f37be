import { beforeEach, describe, expect, it } from 'vitest';
import { partJobFingerprints, partKey, partsOf, publishedPartKeys } from '../../lambda/domain/job-part';
import type { SendRequestRecord } from '../../lambda/domain/notification-records';
import { jobFingerprint, type SendJob } from '../../lambda/domain/send-job';
import { takeJobNotificationId } from '../../lambda/use-cases/take-notification-id';
import { type InMemoryPorts, inMemoryPorts } from '../support/in-memory-ports';

/**
 * Taking a notification id, the one rule the API and the sender (for jobs published
 * to the queue) share — on the in-memory request records, whose conditional write
 * answers as DynamoDB's would: taken, or the record already there.
 */
let ports: InMemoryPorts;

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
  ports = inMemoryPorts();
});

/** The record the one take wrote (or tried to). */
function written(): SendRequestRecord | undefined {
  return ports.notificationRecords.takes[0]?.record;
}

describe('taking a notification id', () => {
  it('a free id holds the job as pending: its fingerprint, its parts’, the answer, dated now', async () => {
    const sent = job();
    const parts = partsOf(sent);
    const taken = await takeJobNotificationId(ports, sent, parts, now);
    const answer = { notificationId: 'n-1', recipients: { users: 1_500 }, parts: 2, jobs: 2, tracked: false };
    expect(taken).toEqual({ kind: 'taken', answer });
    expect(ports.notificationRecords.takes).toHaveLength(1);
    expect(ports.notificationRecords.takes[0]?.now).toBe(now);
    expect(written()).toEqual({
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
    await takeJobNotificationId(ports, sent, partsOf(sent), now, { publishedAs: '0' });
    const record = written();
    expect(record?.status).toBe('enqueued');
    // Its parts are the sender's split of it, named under the part it came as.
    expect(record?.publishedPart).toBe('0');
    expect(record?.partKeys).toEqual(partsOf(sent, '0').map(partKey));
    expect(record?.partKeys).toEqual(publishedPartKeys(sent, '0'));
    expect(record?.partKeys).not.toEqual(partsOf(sent).map(partKey));
  });

  it('a tracked job also records who may acknowledge it', async () => {
    const sent = job({ track: { receipts: true }, to: { tokens: ['a'.repeat(64)] } });
    await takeJobNotificationId(ports, sent, partsOf(sent), now);
    const record = written();
    expect(record?.receipts).toEqual({ appId: 'com.example.app', to: 'tokens', buckets: 1 });
    expect(record?.answer).toMatchObject({ tracked: true, recipients: { tokens: 1 } });
  });

  it('an id the same job took is a repeat, whatever its status, with the record it wrote', async () => {
    const sent = job();
    for (const status of ['pending', 'enqueued'] as const) {
      const existing = recordOf(sent, { status });
      ports.notificationRecords.requests.set(sent.notificationId, existing);
      expect(await takeJobNotificationId(ports, sent, partsOf(sent), now)).toEqual({
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
      ports.notificationRecords.requests.set(sent.notificationId, existing);
      expect(await takeJobNotificationId(ports, sent, partsOf(sent), now)).toEqual({
        kind: 'conflict',
        record: existing,
      });
    }
  });
});

describe('holding a free id for a part no request holds', () => {
  it('writes the same record as any take, without part fingerprints, names or who may acknowledge', async () => {
    const sent = job({ track: { receipts: true } });
    const [part] = partsOf(sent);
    if (part === undefined) throw new Error('no part');
    const taken = await takeJobNotificationId(ports, sent, [part], now, { holding: true });
    const answer = { notificationId: 'n-1', recipients: { users: 1_500 }, parts: 1, jobs: 1, tracked: true };
    expect(taken).toEqual({ kind: 'taken', answer });
    expect(written()).toEqual({
      notificationId: 'n-1',
      answer,
      // On the queue already: the part came from it.
      status: 'enqueued',
      createdAt: now.toISOString(),
      appId: 'com.example.app',
      namedUsers: Array.from({ length: 20 }, (_, i) => `user-${i}`),
      jobFingerprint: jobFingerprint(sent),
    });
  });

  it('an id already held is judged as any take is, the record handed back either way', async () => {
    const sent = job();
    const [part] = partsOf(sent);
    if (part === undefined) throw new Error('no part');
    const mine = recordOf(sent);
    ports.notificationRecords.requests.set('n-1', mine);
    expect(await takeJobNotificationId(ports, sent, [part], now, { holding: true })).toEqual({
      kind: 'repeat',
      record: mine,
    });
    const other = recordOf(job({ aps: { alert: 'other' } }));
    ports.notificationRecords.requests.set('n-1', other);
    expect(await takeJobNotificationId(ports, sent, [part], now, { holding: true })).toEqual({
      kind: 'conflict',
      record: other,
    });
  });
});
