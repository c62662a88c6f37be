import { randomUUID } from 'node:crypto';
import { JobFailedError } from '../../domain/errors';
import { type JobPart, partJobFingerprint, partKey, partsOf } from '../../domain/job-part';
import { type LeanPlan, leanDoneSummary } from '../../domain/lean-job';
import {
  judgeExistingRecord,
  type LeanClaim,
  type SendRequestRecord,
} from '../../domain/notification-records';
import type { SendJob } from '../../domain/send-job';
import { logger } from '../../observability';
import type { Ports } from '../ports';
import { takeJobNotificationId } from '../take-notification-id';
import { publishedRepeatIsDeliverable, refuseForeignPart } from './plan';

/** A lean job this invocation finished with every device accepted: listed in its done item. */
interface LeanJobDone {
  notificationId: string;
  part: string;
  plan: LeanPlan;
}

/**
 * One sender invocation, as lean jobs see it: the id their claims name, and the jobs it
 * finished with every device accepted — recorded together, in one item, before the
 * invocation answers (recordLeanCompletions).
 */
export class LeanInvocation {
  readonly id = randomUUID();
  readonly done: LeanJobDone[] = [];
}

/** The claim a read of a request record found (none on a record nobody claimed). */
type ClaimSeen = Pick<SendRequestRecord, 'claimedBy' | 'claimedUntil' | 'claimedPart'>;

/** What claiming a lean job found (as claimChunk's answers for a chunk). */
export type LeanClaimResult = 'claimed' | 'completed' | 'held';

/**
 * Claims a lean job for this invocation, before its users' devices are read (so the
 * read stays right before the pushes), with one conditional write on its request record:
 * - published straight to the queue: the write that takes its notification id
 *   (takeJobNotificationId, as for any job) holds the claim too;
 * - from the API: one UpdateItem whose condition also vouches that the part is one the
 *   request enqueued (its fingerprint and key) — so no read on the happy path.
 * When that write's condition fails, the record is read to find out why: another job
 * under the id (NotificationIdConflict, the DLQ, nothing sent), a part the request
 * never enqueued (the same), or a claim already there — see claimFrom.
 */
export async function claimLeanJob(
  ports: Ports,
  jobPart: JobPart,
  invocation: LeanInvocation,
  leaseMs: number,
): Promise<LeanClaimResult> {
  const { job } = jobPart;
  const now = new Date();
  const claim: LeanClaim = {
    claimedBy: invocation.id,
    claimedUntil: now.getTime() + leaseMs,
    claimedPart: jobPart.part,
  };
  let record: ClaimSeen;
  if (jobPart.published) {
    const taken = await takeJobNotificationId(ports, job, partsOf(job), now, {
      publishedAs: jobPart.part,
      claim,
    });
    if (taken.kind === 'taken') return 'claimed';
    if (taken.kind === 'conflict') throw idTakenElsewhere(job);
    // The same job is on the queue under another name: that message delivers it.
    if (!(await publishedRepeatIsDeliverable(ports, jobPart, taken.record))) return 'completed';
    record = taken.record;
  } else {
    const expected = { kind: 'api', partJob: partJobFingerprint(job), partKey: partKey(jobPart) } as const;
    if (await ports.notificationRecords.claimLeanRequest(job.notificationId, claim, expected))
      return 'claimed';
    const found = await apiRecordOf(ports, jobPart, claim, now);
    if (found === 'claimed') return 'claimed';
    if (found === 'dropped') return 'completed';
    record = found;
  }
  return claimFrom(ports, jobPart, record, claim, now);
}

/**
 * The request record of a lean part from the API whose claim's condition failed, read
 * to find out why — or, when the API put the part on the queue before writing the
 * record (`enqueuedBeforeId`) and it is not there yet, the id taken here as the API
 * would take it, claimed in the same write (the API's own write then finds it: the
 * same job, answered 202). No record for any other part (expired, or never taken):
 * the part holds the id, as on the chunk path. A part the record does not hold is
 * NotificationIdConflict (the DLQ) — unless the API enqueued it before taking the id:
 * then the id went to another job (that caller was answered 409), or to this job
 * under another part name (published to the queue in between), and it is dropped.
 */
async function apiRecordOf(
  ports: Ports,
  jobPart: JobPart,
  claim: LeanClaim,
  now: Date,
): Promise<ClaimSeen | 'claimed' | 'dropped'> {
  const { job } = jobPart;
  let found = await ports.notificationRecords.findSendRequest(job.notificationId, true);
  if (found === undefined && jobPart.enqueuedBeforeId) {
    const taken = await takeJobNotificationId(ports, job, partsOf(job), now, { enqueued: true, claim });
    if (taken.kind === 'taken') return 'claimed';
    if (taken.kind === 'repeat') found = taken.record;
    else return dropped(jobPart);
  } else if (found === undefined) {
    const held = await takeJobNotificationId(ports, job, [jobPart], now, { holding: true });
    found = held.kind === 'taken' ? undefined : held.record;
  }
  if (found === undefined) return {};
  try {
    if (jobPart.enqueuedBeforeId && judgeExistingRecord(job, found) === 'conflict')
      throw idTakenElsewhere(job);
    refuseForeignPart(jobPart, found.partJobs, found.partKeys, undefined);
    return found;
  } catch (error) {
    if (jobPart.enqueuedBeforeId && error instanceof JobFailedError) return dropped(jobPart);
    throw error;
  }
}

function dropped(jobPart: JobPart): 'dropped' {
  logger.info('dropped a lean job the API queued before its id went to another job or part', {
    notificationId: jobPart.job.notificationId,
    part: jobPart.part,
  });
  return 'dropped';
}

function idTakenElsewhere(job: SendJob): JobFailedError {
  return new JobFailedError(
    'NotificationIdConflict',
    `The notification id "${job.notificationId}" was already used for a different job (other recipients, content or options); nothing of this one was sent.`,
  );
}

/**
 * Claims a lean job whose record a read showed (its part is the request's own):
 * - unclaimed: claim it (a race lost here leaves it `held`, and the message comes back);
 * - claimed by this invocation: another copy of it in this batch holds it and answers
 *   for it — `completed`, nothing sent twice;
 * - done (the holder's done item lists it, or a chunk completion was written for it):
 *   `completed` — no push, no DLQ, the report unchanged;
 * - held under a live lease: `held` (the message fails and comes back, as a held chunk);
 * - lease over and not done: the holder stopped mid-send (a crash, a timeout) and may
 *   have pushed some devices — the one ambiguous case, as a chunk in flight is on the
 *   chunk path: take it over and send, the collapse id showing a repeat once.
 */
async function claimFrom(
  { notificationRecords }: Ports,
  jobPart: JobPart,
  record: ClaimSeen,
  claim: LeanClaim,
  now: Date,
): Promise<LeanClaimResult> {
  const { notificationId } = jobPart.job;
  const { claimedBy, claimedUntil } = record;
  if (claimedBy === undefined) {
    return (await notificationRecords.claimLeanRequest(notificationId, claim, { kind: 'unclaimed' }))
      ? 'claimed'
      : 'held';
  }
  if (claimedBy === claim.claimedBy) return 'completed';
  const [done, completed] = await Promise.all([
    notificationRecords.leanJobsDone(claimedBy),
    notificationRecords.isChunkCompleted(notificationId, record.claimedPart ?? jobPart.part, 0, 0),
  ]);
  if (done.has(notificationId) || completed) return 'completed';
  if (claimedUntil === undefined || claimedUntil > now.getTime()) return 'held';
  logger.warn(
    'taking over a lean job whose holder stopped before finishing: it may have pushed some devices',
    {
      notificationId,
      part: jobPart.part,
    },
  );
  const takeover = { kind: 'takeover', claimedBy, claimedUntil } as const;
  return (await notificationRecords.claimLeanRequest(notificationId, claim, takeover)) ? 'claimed' : 'held';
}

/**
 * Records the lean jobs this invocation finished with every device accepted, and who
 * each reached (its status's counts), in one item — before the invocation answers, so before SQS may delete their messages. Should
 * that write fail, each job's chunk completion is written instead (what its claim's
 * readers also look for); a job neither could record is logged: its message is deleted
 * all the same, so only a repeat of it could push again, and its status shows it in
 * progress.
 */
export async function recordLeanCompletions(
  { notificationRecords }: Pick<Ports, 'notificationRecords'>,
  invocation: LeanInvocation,
): Promise<void> {
  if (invocation.done.length === 0) return;
  try {
    await notificationRecords.recordLeanJobsDone(
      invocation.id,
      invocation.done.map(({ notificationId, plan }) => ({ notificationId, plan })),
    );
    return;
  } catch (error) {
    logger.warn('could not record lean jobs done in one item: recording each', { error });
  }
  await Promise.all(
    invocation.done.map(({ notificationId, part, plan }) =>
      notificationRecords
        .markChunkCompleted(notificationId, part, 0, 0, { chunks: 1, summary: leanDoneSummary(plan) })
        .catch((error) => logger.error('could not record a lean job done', { notificationId, error })),
    ),
  );
}
