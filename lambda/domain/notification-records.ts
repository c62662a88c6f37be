import type { LeanPlan } from './lean-job';
import { jobFingerprint, type SendJob } from './send-job';
import type { ChunkSummary, DeadLetteredPart, RecordedSummary } from './send-status';
import type { ChunkTracking, Receipt, RecordedChunk } from './tracking';

/**
 * What the Notifications table keeps about a notification, as the use cases read and
 * write it: the request record (the id taken, its answer, a lean job's claim), the
 * chunks' claims and completions, and what its report is built from. The table's own
 * layout (keys, shards, packed attributes) stays in its adapter.
 */

/** What the sender reads before it delivers a part: its progress, and whose parts its id holds. */
export interface PartProgress {
  /** The chunks of the part already completed at this attempt. */
  done: Set<number>;
  /**
   * The fingerprints of the parts the request under this id enqueued (see
   * partJobFingerprint); undefined when there is no such record — expired, not yet
   * visible to an eventually consistent read, or written before records kept them.
   */
  partJobs: string[] | undefined;
  /**
   * For a part that carries devices, under a request that says the sender records them
   * (partsIssuedRecorded): the fingerprints the sender recorded writing under its name
   * and attempt (see recordIssuedParts; empty when it recorded none).
   */
  issued?: Set<string>;
  /** The request's parts without devices, by job and name (partKey); undefined on older records. */
  partKeys?: string[];
}

/**
 * What claiming a chunk found: `claimed` — this invocation holds it now;
 * `completed` — an earlier delivery finished it; `held` — another invocation holds
 * an unexpired lease and has not finished (a concurrent duplicate delivery, or one
 * that crashed: only the lease's end tells them apart).
 */
export type ChunkClaim = 'claimed' | 'completed' | 'held';

/** What a completed chunk records besides its completion. */
export interface ChunkRecord {
  /** Chunks of the part at this attempt, so a reader can tell a part still in progress. */
  chunks: number;
  /** What the chunk did (every job): a few hundred bytes on the same write. */
  summary?: ChunkSummary;
  /** Each device's outcome (tracked jobs only). */
  tracking?: ChunkTracking;
  /** How many pages the outcomes take when more than this record's one (the tracking store's saveTrackingPages). */
  trackingPages?: number;
  round?: number;
}

export interface SendRequestRecord {
  notificationId: string;
  /** What the API answered (202 body). */
  answer: Record<string, unknown>;
  /** `pending` until every job of the request is on the queue. */
  status: 'pending' | 'enqueued';
  createdAt: string;
  /** The job's app (absent on records from before it was kept). */
  appId?: string;
  /** The first NAMED_USERS_KEPT user ids the job names, so a person can find it by user. */
  namedUsers?: string[];
  /** The job's fingerprint: a repeat must ask for exactly the same (absent on records from before it existed). */
  jobFingerprint?: string;
  /**
   * The fingerprints of the jobs of the parts it enqueued (partJobFingerprint): a
   * part naming this id must be one of them (absent on records from before they existed).
   */
  partJobs?: string[];
  /**
   * The sender records every part with devices it queues under this id (recordIssuedParts),
   * so one it did not record is foreign. Absent on records from before it did: their
   * retries and re-push rounds, queued by the older version, are not held to it.
   */
  partsIssuedRecorded?: boolean;
  /**
   * The parts without devices the sender may deliver under this id, by job and name
   * (partKey): the API's parts, or the split of a job published to the queue. Absent
   * on records from before they were kept: their parts are held to partJobs only.
   */
  partKeys?: string[];
  /** The part name a job published straight to the queue came as: its own redelivery. */
  publishedPart?: string;
  /** Tracked jobs: who may acknowledge (see saveRecipients), without the sender's records. */
  receipts?: { appId: string; to: 'users' | 'tokens'; buckets: number };
  /** A lean job's claim (LeanClaim): absent until the sender claims it, and on every other job. */
  claimedBy?: string;
  claimedUntil?: number;
  claimedPart?: string;
  /**
   * Who a lean job was about to push to, on claims the first lean version wrote (it read
   * the devices before claiming); now its holder's done item keeps it (recordLeanJobsDone).
   */
  planned?: LeanPlan;
}

/** Where a send request stands: `pending` until every part of it is on the send queue. */
export type RequestStatus = SendRequestRecord['status'];

/**
 * The status a request record is written with when its id is taken — the one rule,
 * whoever takes it. `enqueued` when the job is on the send queue already: a job
 * published to it (its message stays there until delivered), a lean job the API queued
 * before taking its id (one write, not two), a part holding an id nobody took. Else
 * `pending`: the API takes a job's id before it queues the parts (so a second request
 * under the id finds it), and marks it `enqueued` once they are all on the queue; a
 * repeat of a `pending` request, or the sender finding one, puts them on again.
 */
export function initialStatus(onQueueAlready: boolean): RequestStatus {
  return onQueueAlready ? 'enqueued' : 'pending';
}

/**
 * What a job under a notification id another record (or an earlier job of the same
 * batch) holds is: a `repeat` when that is this same job — same recipients, content and
 * options (jobFingerprint) — else a `conflict`, NotificationIdConflict. A record without
 * a fingerprint cannot show it is this job's, and is another's. The one conflict rule:
 * the API, a batch, and the sender for published and lean jobs all ask this.
 */
export function judgeExistingRecord(
  job: SendJob,
  record: Pick<SendRequestRecord, 'jobFingerprint'>,
): 'repeat' | 'conflict' {
  return record.jobFingerprint !== undefined && record.jobFingerprint === jobFingerprint(job)
    ? 'repeat'
    : 'conflict';
}

/** The record shape judgeExistingRecord reads, for a job not stored yet (an earlier one of the same batch). */
export function holderOf(job: SendJob): Pick<SendRequestRecord, 'jobFingerprint'> {
  return { jobFingerprint: jobFingerprint(job) };
}

/**
 * A lean job's claim, kept on its request record — the one write of a lean job
 * through the queue, two with the API's (docs/decisions/lean-jobs.md).
 */
export interface LeanClaim {
  /** The sender invocation holding it; once done, its leanDoneKey item lists the job. */
  claimedBy: string;
  /** When the hold ends (ms since the epoch): under the queue's visibility timeout. */
  claimedUntil: number;
  /** The part it was claimed as: a chunk completion, when one is written, is under this name. */
  claimedPart: string;
}

/**
 * What a lean claim on an existing request record expects to find:
 * - `api`: the API's record of this very part, unclaimed — the happy path through the
 *   API, where the condition also vouches that the part is the request's own, so no
 *   read is needed (the condition names its part fingerprint and key);
 * - `unclaimed`: a record nobody claimed (already checked by a read);
 * - `takeover`: the claim a read found, its lease over and its job not done (the
 *   invocation holding it crashed) — still exactly that claim, so two redeliveries
 *   racing to take it over cannot both win.
 */
export type LeanClaimExpectation =
  | { kind: 'api'; partJob: string; partKey: string }
  | { kind: 'unclaimed' }
  | { kind: 'takeover'; claimedBy: string; claimedUntil: number };

/** A chunk's progress as read back from its record. */
export interface ChunkProgress {
  part: string;
  attempt: number;
  chunk: number;
  completed: boolean;
  /** Chunks of its part at this attempt (recorded at completion). */
  chunks?: number;
}

export interface NotificationTracking {
  chunks: RecordedChunk[];
  receipts: Receipt[];
  progress: ChunkProgress[];
  /** What each completed chunk did (every job, tracked or not). */
  summaries: RecordedSummary[];
  /** Parts the sender moved to the dead-letter queue. */
  deadLettered: DeadLetteredPart[];
}
