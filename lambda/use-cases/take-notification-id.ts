import { type JobPart, partJobFingerprints, partKey, publishedPartKeys } from '../domain/job-part';
import {
  initialStatus,
  judgeExistingRecord,
  type LeanClaim,
  type SendRequestRecord,
} from '../domain/notification-records';
import { recipientBuckets } from '../domain/recipient-hashes';
import {
  jobFingerprint,
  namedUsers,
  recipientCount,
  type SendJob,
  trackedRecipients,
} from '../domain/send-job';
import type { Ports } from './ports';

/** What taking an id writes to: the request record, and where a tracked job's recipients are counted. */
export type TakeIdPorts = Pick<Ports, 'notificationRecords'>;

export interface SendRequestAnswer {
  notificationId: string;
  /** How many users, tokens or activities the request names, each counted once. */
  recipients: { users: number } | { tokens: number } | { activities: number };
  /** How many job parts it was split into on the send queue. */
  parts: number;
  /**
   * The same as `parts`, under its first name — kept until the next major release, so
   * a caller that reads `jobs` keeps working.
   * @deprecated read `parts`
   */
  jobs: number;
  /** Whether it was sent with `track.receipts`: per-device statuses and receipts. */
  tracked: boolean;
}

/**
 * The send answer, its keys always in this order (a repeat answers byte for byte what
 * the first request did). `parts` is also given as `jobs`, its deprecated first name.
 */
export function sendRequestAnswer(
  notificationId: string,
  recipients: SendRequestAnswer['recipients'],
  parts: number,
  tracked: boolean,
): SendRequestAnswer {
  return { notificationId, recipients, parts, jobs: parts, tracked };
}

/**
 * The answer a request record holds, as first given: a record written before `parts`
 * existed holds only `jobs`, which counted the same parts. DynamoDB keeps a map's keys
 * in no particular order, so the answer is built again in sendRequestAnswer's.
 */
export function storedSendRequestAnswer(stored: Record<string, unknown>): SendRequestAnswer {
  const { notificationId, recipients, parts, jobs, tracked } = stored as Partial<SendRequestAnswer>;
  return sendRequestAnswer(
    notificationId as string,
    recipients as SendRequestAnswer['recipients'],
    (parts ?? jobs) as number,
    tracked as boolean,
  );
}

/**
 * What taking a job's notification id came to:
 * - `taken`: the id was free and now holds this job;
 * - `repeat`: this same job took it before — the record it wrote then;
 * - `conflict`: another job holds it (other recipients, content or options) — the
 *   record it wrote.
 * Which of the last two is judgeExistingRecord's to say, as everywhere else.
 */
export type TakenId =
  | { kind: 'taken'; answer: SendRequestAnswer }
  | { kind: 'repeat'; record: SendRequestRecord }
  | { kind: 'conflict'; record: SendRequestRecord };

/** How the caller takes the id, besides the job and its parts. */
export interface TakeOptions {
  /** Published straight to the send queue as this part: on the queue already, as that part. */
  publishedAs?: string;
  /** The API's parts of a lean job, put on the queue before the record (accept-send-request). */
  enqueued?: true;
  /** The sender's claim on a lean job, taken with the id (delivery/lean.ts). */
  claim?: LeanClaim;
  /**
   * The sender holds the id for a part that came under it with no request holding it
   * (the record expired, or someone put the part on the queue under an id nobody took):
   * a request later sent under the id is then a conflict (409), instead of finding the
   * part's chunks done and sending nothing, its report made of the part's outcomes.
   * `parts` is that one part. The record keeps no part fingerprints or names, so the
   * part's siblings (a redrive after the record expired) are held to nothing, as
   * before; and no one who may acknowledge (its recipients were never saved).
   */
  holding?: true;
}

/**
 * Takes a notification id for a send job — the one way to, whether the job came
 * through the API (accept-send-request) or was published straight to the send queue
 * (delivery/plan.ts) — so a job under a taken id is a repeat or a conflict alike
 * from either entry, whichever came first.
 *
 * One conditional write stores the job's fingerprint, its parts' fingerprints (the
 * sender delivers no other part under this id), the answer, who may acknowledge a
 * tracked job, and its status (initialStatus: `enqueued` when the job is on the send
 * queue already — `publishedAs`, `enqueued`, `holding` — else `pending`, and the
 * caller marks it `enqueued` with markRequestEnqueued once every part is on the queue).
 * An id already taken is a repeat or a conflict as judgeExistingRecord says.
 *
 * `parts` are the job's parts as the caller enqueues them (with the Live Activity
 * timestamp the API adds); `now` dates the record and its expiry. The record also
 * keeps which parts without devices are the job's, by job and name (partKey): the
 * API's, or the split the sender makes of a published job.
 *
 * `claim`: a lean job (domain/lean-job.ts) is claimed for delivery in the same write —
 * its one DynamoDB write on the happy path through the queue.
 */
export async function takeJobNotificationId(
  { notificationRecords }: TakeIdPorts,
  job: SendJob,
  parts: readonly JobPart[],
  now: Date,
  { publishedAs, enqueued, claim, holding }: TakeOptions = {},
): Promise<TakenId> {
  const published = publishedAs !== undefined;
  const tracked = job.track?.receipts === true;
  const answer = sendRequestAnswer(job.notificationId, recipientCount(job.to), parts.length, tracked);
  const taken = await notificationRecords.takeNotificationId(
    {
      notificationId: job.notificationId,
      answer: { ...answer },
      status: initialStatus(published || enqueued === true || holding === true),
      createdAt: now.toISOString(),
      appId: job.appId,
      namedUsers: namedUsers(job.to),
      jobFingerprint: jobFingerprint(job),
      ...(holding === true
        ? {}
        : {
            partJobs: partJobFingerprints(parts),
            partKeys: published ? publishedPartKeys(job, publishedAs) : parts.map(partKey),
            ...(published ? { publishedPart: publishedAs } : {}),
            partsIssuedRecorded: true,
          }),
      ...(tracked && holding !== true
        ? {
            receipts: {
              appId: job.appId,
              to: 'tokens' in job.to ? 'tokens' : 'users',
              buckets: recipientBuckets(trackedRecipients(job.to).length),
            },
          }
        : {}),
      ...claim,
    },
    now,
  );
  if (taken.taken) return { kind: 'taken', answer };
  return { kind: judgeExistingRecord(job, taken.existing), record: taken.existing };
}
