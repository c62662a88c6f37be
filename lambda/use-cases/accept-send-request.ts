import { compileApnsRequest } from '../domain/apns-request';
import { mapConcurrent } from '../domain/concurrency';
import { NotificationIdConflictError, PushgateError, UnknownAppError } from '../domain/errors';
import { compileFcmMessage, reachesAndroid } from '../domain/fcm-message';
import { type JobPart, partsOf } from '../domain/job-part';
import { isLeanJob } from '../domain/lean-job';
import { withLiveActivityTimestamp } from '../domain/live-activity';
import { holderOf, judgeExistingRecord, type SendRequestRecord } from '../domain/notification-records';
import { type SendJob, trackedRecipients } from '../domain/send-job';
import { logger } from '../observability';
import type { Ports } from './ports';
import {
  type SendRequestAnswer,
  storedSendRequestAnswer,
  takeJobNotificationId,
} from './take-notification-id';

export type { SendRequestAnswer } from './take-notification-id';

/** What accepting a job reads and writes: the app catalogue, the request records, the recipients of tracked jobs, the queue. */
export type AcceptPorts = Pick<Ports, 'settings' | 'notificationRecords' | 'trackingStore' | 'sendQueue'>;

/** What accepting one job of a batch came to: its answer, or why it was refused (a 4xx). */
export type SendRequestResult = SendRequestAnswer | PushgateError;

/** Notification ids taken at once: a batch of 500 in a few round trips, well within the SDK's 50 sockets. */
const TAKE_CONCURRENCY = 16;

/**
 * Accepts a backend's send request (`POST /v1/notifications`): acceptSendRequests
 * with one job, its refusal thrown.
 */
export async function acceptSendRequest(
  ports: AcceptPorts,
  job: SendJob,
  now = new Date(),
): Promise<SendRequestAnswer> {
  const [result] = await acceptSendRequests(ports, [job], now);
  if (result === undefined) throw new Error('no result for the job');
  if (result instanceof PushgateError) throw result;
  return result;
}

/**
 * Accepts send jobs, each on its own: one job's refusal never sinks the others.
 * Results come in the order of the jobs.
 *
 * 1. Refuse an app the deployment does not serve (UnknownApp) and a payload APNs
 *    would refuse (PayloadTooLarge) — or, for an app with FCM, a message FCM would
 *    (ReservedDataKey, PayloadTooLarge) — before anything is stored or queued.
 * 2. Take each notification id (takeJobNotificationId, as the sender does for a job
 *    published to the queue). Taken by a different job (other recipients or content), even one
 *    still being accepted: NotificationIdConflict. Taken by this same job: answer
 *    as the first time and enqueue nothing — unless that first request has not
 *    finished enqueuing (it crashed, or is still at it), then enqueue its jobs
 *    again: the sender deduplicates by notification id and part, so nobody is
 *    notified twice. An id named twice in one batch is taken once: the second
 *    naming gets the first one's result when it is the same job, and
 *    NotificationIdConflict when it is not.
 * 3. A tracked job (`track.receipts`) stores who it is for (hashed), so a receipt
 *    can be checked the moment a push lands, before the sender records anything.
 * 4. Split the recipients into jobs (1 000 users, 2 000 tokens or 500 activities
 *    each) and put every job of every request on the send queue as ASCII JSON,
 *    batched within SQS's limits. A Live Activity push without `aps.timestamp` gets
 *    one now, so every retry carries the same.
 * 5. Mark the requests enqueued and answer with the ids and the counts.
 *
 * A lean job (one user or a few, untracked: domain/lean-job.ts) is accepted in the
 * other order, so that it costs one write here, not two (docs/decisions/lean-jobs.md):
 * its record is read (a repeat or a conflict is answered from it, nothing enqueued),
 * then the job goes on the queue (marked `enqueuedBeforeId`), then its id is taken
 * with the record already `enqueued` — no mark after. A conflict that raced in between
 * is answered 409 and its queued job is dropped by the sender; a request that crashed
 * before taking the id left a job the sender takes the id for, as this would have.
 */
export async function acceptSendRequests(
  ports: AcceptPorts,
  jobs: readonly SendJob[],
  now = new Date(),
): Promise<SendRequestResult[]> {
  const results: (SendRequestResult | undefined)[] = jobs.map((job) => refusal(ports, job, now));
  const first = new Map<string, number>();
  const repeats: { index: number; of: number }[] = [];
  const unique: number[] = [];
  jobs.forEach((job, index) => {
    if (results[index] !== undefined) return;
    const earlier = first.get(job.notificationId);
    if (earlier === undefined) {
      first.set(job.notificationId, index);
      unique.push(index);
    } else if (judgeExistingRecord(job, holderOf(jobs[earlier] as SendJob)) === 'repeat') {
      repeats.push({ index, of: earlier });
    } else {
      results[index] = new NotificationIdConflictError(job.notificationId);
    }
  });

  const toEnqueue: { job: SendJob; parts: JobPart[] }[] = [];
  const leanToTake: number[] = [];
  await mapConcurrent(unique, TAKE_CONCURRENCY, async (index) => {
    const job = jobs[index] as SendJob;
    if (isLeanJob(job)) {
      const existing = await ports.notificationRecords.findSendRequest(job.notificationId);
      if (existing === undefined) {
        leanToTake.push(index);
        toEnqueue.push({ job, parts: leanParts(job) });
        return;
      }
      const repeat = repeatOf(job, existing);
      results[index] = repeat.result;
      // Its record never marked enqueued (an older version's): its parts again, claimed once by the sender.
      if (repeat.enqueue !== undefined) toEnqueue.push({ job, parts: repeat.enqueue.map(beforeId) });
      return;
    }
    const taking = await takeId(ports, job, now);
    results[index] = taking.result;
    if (taking.enqueue !== undefined) toEnqueue.push({ job, parts: taking.enqueue });
  });
  await mapConcurrent(
    toEnqueue.filter(({ job }) => job.track?.receipts === true),
    TAKE_CONCURRENCY,
    ({ job }) => ports.trackingStore.saveRecipients(job.notificationId, trackedRecipients(job.to), now),
  );
  await ports.sendQueue.enqueue(
    toEnqueue.flatMap(({ parts }) => parts.map((part) => ({ body: JSON.stringify(part) }))),
  );
  await mapConcurrent(leanToTake, TAKE_CONCURRENCY, async (index) => {
    const job = jobs[index] as SendJob;
    const taken = await takeJobNotificationId(ports, job, partsOf(job), now, { enqueued: true });
    // Taken in between by the sender for this very job (its message came first), or by
    // another request: answered from the record; a conflict's queued job is dropped.
    results[index] =
      taken.kind === 'taken'
        ? taken.answer
        : taken.kind === 'conflict'
          ? new NotificationIdConflictError(job.notificationId)
          : repeatOf(job, taken.record).result;
  });
  await mapConcurrent(
    toEnqueue.filter(({ job }) => !isLeanJob(job)),
    TAKE_CONCURRENCY,
    ({ job }) => ports.notificationRecords.markRequestEnqueued(job.notificationId),
  );

  for (const { index, of } of repeats) results[index] = results[of];
  return results.map((result) => {
    if (result === undefined) throw new Error('a job was left without an result');
    return result;
  });
}

/** Step 1: why the job cannot be sent at all, before anything is stored. */
function refusal({ settings }: AcceptPorts, job: SendJob, now: Date): PushgateError | undefined {
  try {
    const app = settings.findApp(job.appId);
    if (app === undefined) throw new UnknownAppError(job.appId);
    compileApnsRequest(job, app.bundleId);
    if (app.fcm !== undefined && reachesAndroid(job)) compileFcmMessage(job, now.getTime());
    return undefined;
  } catch (error) {
    if (error instanceof PushgateError) return error;
    throw error;
  }
}

/** Step 2 for one job: its result, and the parts to enqueue when it is new or its first request did not finish. */
async function takeId(
  ports: AcceptPorts,
  job: SendJob,
  now: Date,
): Promise<{ result: SendRequestResult; enqueue?: JobPart[] }> {
  // The fingerprint is of the job as sent: a repeat without `aps.timestamp` is the same job.
  const parts = partsOf(withLiveActivityTimestamp(job, now));
  const taken = await takeJobNotificationId(ports, job, parts, now);
  if (taken.kind === 'taken') return { result: taken.answer, enqueue: parts };
  if (taken.kind === 'conflict') return { result: new NotificationIdConflictError(job.notificationId) };
  return repeatOf(job, taken.record);
}

/** A lean job's parts as the API enqueues them: before its id is taken (accept-send-request's lean order). */
function leanParts(job: SendJob): JobPart[] {
  return partsOf(job).map(beforeId);
}

function beforeId(part: JobPart): JobPart {
  return { ...part, enqueuedBeforeId: true };
}

/**
 * The answer to a job whose id a record holds: another job's — NotificationIdConflict;
 * this same job's — the first answer, and, when that first request has not finished
 * enqueuing, its parts to enqueue again.
 */
function repeatOf(
  job: SendJob,
  record: SendRequestRecord,
): { result: SendRequestResult; enqueue?: JobPart[] } {
  if (judgeExistingRecord(job, record) === 'conflict')
    return { result: new NotificationIdConflictError(job.notificationId) };
  // DynamoDB keeps a map's keys in no particular order: the repeat answers in the first one's.
  const firstAnswer = storedSendRequestAnswer(record.answer);
  if (record.status === 'enqueued') return { result: firstAnswer };
  logger.warn('re-enqueuing a request whose first attempt has not finished', {
    notificationId: job.notificationId,
  });
  // The parts the record holds: a Live Activity timestamp from the first request's time.
  return {
    result: firstAnswer,
    enqueue: partsOf(withLiveActivityTimestamp(job, new Date(record.createdAt))),
  };
}
