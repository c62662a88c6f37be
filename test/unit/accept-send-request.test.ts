import { beforeEach, describe, expect, it } from 'vitest';
import { NotificationIdConflictError, PushgateError } from '../../lambda/domain/errors';
import type { JobPart } from '../../lambda/domain/job-part';
import { isLeanJob } from '../../lambda/domain/lean-job';
import type { SendJob } from '../../lambda/domain/send-job';
import { acceptSendRequest, acceptSendRequests } from '../../lambda/use-cases/accept-send-request';
import { FAKE_APP, type InMemoryPorts, inMemoryPorts } from '../support/in-memory-ports';

/**
 * Accepting send requests on in-memory ports: the id taken once
 * (take-notification-id), a repeat answered from the record, a conflict refused, and
 * nothing stored or queued for a job refused up front.
 */

let ports: InMemoryPorts;
beforeEach(() => {
  ports = inMemoryPorts();
});

const job = (extra: Partial<SendJob> = {}): SendJob =>
  ({
    notificationId: 'n-1',
    appId: FAKE_APP.appId,
    to: { userIds: ['alice'] },
    aps: { alert: 'hi' },
    ...extra,
  }) as SendJob;
const tracked = (extra: Partial<SendJob> = {}) => job({ track: { receipts: true }, ...extra });

describe.each([
  ['a lean job (taken after it is queued)', job],
  ['a tracked job (taken before it is queued)', tracked],
])('%s', (_, make) => {
  it('sent twice: one record, one set of parts on the queue, the same answer', async () => {
    const first = await acceptSendRequest(ports, make());
    const queued = ports.sendQueue.sent.length;
    const second = await acceptSendRequest(ports, make());
    expect(second).toEqual(first);
    expect(first).toMatchObject({ notificationId: 'n-1', recipients: { users: 1 }, parts: 1, jobs: 1 });
    expect(ports.notificationRecords.requests.size).toBe(1);
    expect(ports.notificationRecords.requests.get('n-1')?.status).toBe('enqueued');
    expect(queued).toBe(1);
    expect(ports.sendQueue.sent).toHaveLength(1);
  });

  it('another job under the same id: 409 NotificationIdConflict, nothing more queued', async () => {
    await acceptSendRequest(ports, make());
    const other = acceptSendRequest(ports, make({ to: { userIds: ['bob'] } }));
    await expect(other).rejects.toBeInstanceOf(NotificationIdConflictError);
    await expect(other).rejects.toMatchObject({ statusCode: 409, code: 'NotificationIdConflict' });
    expect(ports.sendQueue.sent).toHaveLength(1);
    expect(ports.notificationRecords.requests.get('n-1')?.namedUsers).toEqual(['alice']);
  });
});

it('the two kinds of job really take different paths (what the table above relies on)', () => {
  expect(isLeanJob(job())).toBe(true);
  expect(isLeanJob(tracked())).toBe(false);
});

it('a job under an id a pending request holds is enqueued again (the first request did not finish)', async () => {
  await acceptSendRequest(ports, tracked());
  const record = ports.notificationRecords.requests.get('n-1');
  if (record !== undefined) record.status = 'pending';
  await acceptSendRequest(ports, tracked());
  expect(ports.sendQueue.sent).toHaveLength(2);
  expect(ports.sendQueue.sentParts<JobPart>().map((part) => part.part)).toEqual(['0', '0']);
});

it('an app the deployment does not serve is refused before anything is stored or queued', async () => {
  const refused = await acceptSendRequest(ports, job({ appId: 'com.example.other' })).catch(
    (e: unknown) => e,
  );
  expect(refused).toBeInstanceOf(PushgateError);
  expect(refused).toMatchObject({ statusCode: 400, code: 'UnknownApp' });
  expect(ports.notificationRecords.takes).toHaveLength(0);
  expect(ports.sendQueue.sent).toHaveLength(0);
});

it('in one batch: an id named twice by the same job is taken once; by another job, refused — the others go on', async () => {
  const outcomes = await acceptSendRequests(ports, [
    tracked(),
    tracked(),
    tracked({ to: { userIds: ['bob'] } }),
    tracked({ notificationId: 'n-2' }),
  ]);
  expect(outcomes[1]).toEqual(outcomes[0]);
  expect(outcomes[2]).toBeInstanceOf(NotificationIdConflictError);
  expect(outcomes[3]).toMatchObject({ notificationId: 'n-2' });
  expect(ports.notificationRecords.takes.map(({ record }) => record.notificationId)).toEqual(['n-1', 'n-2']);
  expect(ports.sendQueue.sentParts<JobPart>().map((part) => part.job.notificationId)).toEqual(['n-1', 'n-2']);
  // Tracked: who may acknowledge is stored before the parts are queued.
  expect([...(ports.trackingStore.recipients.get('n-1') ?? [])]).toEqual(['alice']);
});
