import { type ApnsRequest, compileApnsRequest } from '../../domain/apns-request';
import type { AppConfig } from '../../domain/app';
import type { DeliveryTally } from '../../domain/delivery-tally';
import { JobFailedError, PushgateError } from '../../domain/errors';
import { compileFcmMessage, type FcmMessage, reachesAndroid } from '../../domain/fcm-message';
import {
  DEVICES_PER_PART,
  devicePartFingerprint,
  type JobPart,
  partJobFingerprint,
  partKey,
  partsOf,
  publishedPartKeys,
} from '../../domain/job-part';
import { isLeanDelivery } from '../../domain/lean-job';
import { distinctActivities, type UserActivity } from '../../domain/live-activity';
import type { SendRequestRecord } from '../../domain/notification-records';
import type { PushDevice } from '../../domain/push-device';
import { MAX_SQS_DELAY_SECONDS } from '../../domain/retry-policy';
import { trackedRecipients } from '../../domain/send-job';
import { logger } from '../../observability';
import type { Ports } from '../ports';
import { takeJobNotificationId } from '../take-notification-id';

/** Users, tokens, activities or retried devices per progress chunk: the most a crash can send twice. */
export const CHUNK_SIZE = { users: 100, tokens: 500, activities: 100, devices: DEVICES_PER_PART } as const;

export type Chunk =
  | { users: string[] }
  | { tokens: string[] }
  | { activities: UserActivity[] }
  | { devices: PushDevice[] };

/** What every step of one delivery shares. */
export interface Delivery {
  /** What each step reads and writes through, threaded from the handler's composition. */
  ports: Ports;
  jobPart: JobPart;
  app: AppConfig;
  request: ApnsRequest;
  /** The FCM message for the job's Android devices: absent when the app has no FCM or the job skips Android. */
  fcmMessage?: FcmMessage;
  tally: DeliveryTally;
  chunks: Chunk[];
  /** Indexes of the chunks not completed by an earlier delivery of this same work. */
  pending: number[];
  /**
   * A lean job's first delivery (domain/lean-job.ts): its one chunk is claimed on the
   * request record, which also takes or checks its id (delivery/lean.ts), before its
   * users' devices are read — nothing is read or written for it here.
   */
  lean?: true;
}

/**
 * Step 1, plan: what this message asks to send, and what is left of it.
 * - Unknown app or a payload APNs (or, for an app with FCM, FCM) would refuse →
 *   JobFailedError (the job goes to the DLQ).
 * - A job published straight to the queue takes its notification id as the API
 *   does (id, fingerprint and, when tracked, who may acknowledge): the same job again
 *   sends nothing twice; another job under a taken id is NotificationIdConflict
 *   (the DLQ) before anything is sent.
 * - A first delivery naming more users or tokens than one invocation should handle is
 *   split into parts, enqueued as follow-up work: nothing to send here (undefined).
 * - A re-push round not yet due is sent on with the rest of its delay; a due one keeps
 *   only the devices that have not acknowledged.
 * - A part must be one the request under its id enqueued (the request record keeps
 *   their fingerprints, read with the part's progress), and a part with devices one
 *   the sender recorded queueing: a part anyone else put on the queue under a taken
 *   id, with other recipients, content, options or devices, is
 *   NotificationIdConflict (the DLQ) before anything is sent or recorded.
 * - Chunks an earlier delivery of the same work completed are skipped.
 * - A lean job's first delivery (domain/lean-job.ts) reads and writes nothing here: its
 *   claim, before its users' devices are read, takes or checks its id and tells what
 *   an earlier delivery did (delivery/lean.ts).
 */
export async function planDelivery(
  ports: Ports,
  received: JobPart,
  tally: DeliveryTally,
): Promise<Delivery | undefined> {
  let jobPart = received;
  const { job } = jobPart;
  const app = ports.settings.findApp(job.appId);
  if (app === undefined)
    throw new JobFailedError('UnknownApp', `The app id "${job.appId}" is not configured.`);
  let request: ApnsRequest;
  let fcmMessage: FcmMessage | undefined;
  try {
    request = compileApnsRequest(job, app.bundleId);
    if (app.fcm !== undefined && reachesAndroid(job)) fcmMessage = compileFcmMessage(job);
  } catch (error) {
    if (error instanceof PushgateError) throw new JobFailedError(error.code, error.message);
    throw error;
  }
  if (isLeanDelivery(jobPart)) {
    const chunks = chunksOf(jobPart);
    const pending = chunks.map((_, index) => index);
    const fcm = fcmMessage === undefined ? {} : { fcmMessage };
    return { ports, jobPart, app, request, ...fcm, tally, chunks, pending, lean: true };
  }
  if (jobPart.published && jobPart.devices === undefined && !(await takePublishedJobId(ports, jobPart)))
    return undefined;
  if (jobPart.devices === undefined && (await splitIntoParts(ports, jobPart))) return undefined;
  // Retries within a re-push round (attempt > 0) go to their devices as they are.
  if (jobPart.repush !== undefined && jobPart.attempt === 0) {
    const due = await dueRepush(ports, jobPart);
    if (due === undefined) return undefined;
    jobPart = due;
  }
  const chunks = chunksOf(jobPart);
  const carriesDevices = received.devices !== undefined;
  const progress = await ports.notificationRecords.partProgress(
    job.notificationId,
    jobPart.part,
    jobPart.attempt,
    chunks.length,
    carriesDevices,
  );
  const { done, issued } = progress;
  let { partJobs, partKeys } = progress;
  // A published job has just taken its id (or found it held by this same job); a
  // part with devices is never one (the flag is the writer's word, and proves nothing).
  if (!received.published || carriesDevices) {
    if (partJobs === undefined) {
      const held = await takeJobNotificationId(ports, job, [received], new Date(), { holding: true });
      const existing = held.kind === 'taken' ? undefined : held.record;
      partJobs = existing?.partJobs;
      partKeys = existing?.partKeys;
    }
    refuseForeignPart(received, partJobs, partKeys, issued);
  }
  const pending = chunks.map((_, index) => index).filter((index) => !done.has(index));
  return {
    ports,
    jobPart,
    app,
    request,
    ...(fcmMessage === undefined ? {} : { fcmMessage }),
    tally,
    chunks,
    pending,
  };
}

function chunksOf(jobPart: JobPart): Chunk[] {
  const slices = <T>(items: readonly T[], size: number) =>
    Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
  if (jobPart.devices !== undefined)
    return slices(jobPart.devices, CHUNK_SIZE.devices).map((devices) => ({ devices }));
  const { to } = jobPart.job;
  if ('userIds' in to) return slices([...new Set(to.userIds)], CHUNK_SIZE.users).map((users) => ({ users }));
  if ('activities' in to)
    return slices(distinctActivities(to.activities), CHUNK_SIZE.activities).map((activities) => ({
      activities,
    }));
  return slices([...new Set(to.tokens)], CHUNK_SIZE.tokens).map((tokens) => ({ tokens }));
}

/**
 * Refuses a part that is not one of those the request holding its notification id
 * enqueued. Without a record there is nothing to hold it to: the id was free (expired,
 * or never taken; the part now holds it, takeJobNotificationId `holding`), or the record holds no
 * part fingerprints (one written so, or before records kept them).
 */
export function refuseForeignPart(
  received: JobPart,
  partJobs: string[] | undefined,
  partKeys: string[] | undefined,
  issued: Set<string> | undefined,
): void {
  if (partJobs === undefined) return;
  if (partJobs.includes(partJobFingerprint(received.job))) {
    refuseForeignDevices(received, issued);
    refuseRenamedPart(received, partKeys);
    return;
  }
  throw new JobFailedError(
    'NotificationIdConflict',
    `The notification id "${received.job.notificationId}" is held by another job: this part's recipients, content or options are not one of its parts; nothing of it was sent.`,
  );
}

/**
 * Refuses a retry or re-push round of a held id that the sender did not write: the
 * sender records each part with devices it queues (recordIssuedParts), and only
 * ever puts in one devices it resolved from `job.to`. Anything else — a device of
 * another user, or another user's token labelled with a recipient's id — was written
 * by someone else, to reach that device under this notification's name or to write
 * into its report; the privacy check would send it nothing, but would still record
 * the device as failed.
 */
function refuseForeignDevices(received: JobPart, issued: Set<string> | undefined): void {
  // No set: the request is from before the sender recorded its parts (its retries are not held to it).
  if (received.devices === undefined || issued === undefined) return;
  if (issued.has(devicePartFingerprint(received))) return;
  throw new JobFailedError(
    'NotificationIdConflict',
    `The notification id "${received.job.notificationId}" is held by a job whose sender did not write this part's devices; nothing of it was sent.`,
  );
}

/**
 * Refuses a part without devices that is the request's own content under a name or
 * attempt the sender never queued it as: with no progress under that name it would
 * be sent again, to every recipient, and added to the report. The sender queues such
 * parts only at attempt 0, without a round, under the names the record keeps
 * (partKeys; not checked on records from before they were kept).
 */
function refuseRenamedPart(received: JobPart, partKeys: string[] | undefined): void {
  if (received.devices !== undefined || partKeys === undefined) return;
  if (received.attempt === 0 && received.repush === undefined && partKeys.includes(partKey(received))) return;
  throw new JobFailedError(
    'NotificationIdConflict',
    `The notification id "${received.job.notificationId}" holds this content, but not as part "${received.part}" at attempt ${received.attempt}: the sender never queued this part; nothing of it was sent.`,
  );
}

/** Splits a first delivery that names too many users or tokens; true when it did. */
async function splitIntoParts({ sendQueue }: Ports, jobPart: JobPart): Promise<boolean> {
  const parts = partsOf(jobPart.job, jobPart.part);
  if (parts.length <= 1) return false;
  await sendQueue.enqueue(parts.map((part) => ({ body: JSON.stringify(part) })));
  logger.info('split job into parts', { notificationId: jobPart.job.notificationId, parts: parts.length });
  return true;
}

/**
 * A re-push round that is due: its devices (all accepted by APNs in the round
 * before) that have no receipt. Not yet due: the message is sent on again with the rest of the delay
 * (SQS delays at most 15 minutes) and undefined is returned.
 */
async function dueRepush(ports: Ports, jobPart: JobPart): Promise<JobPart | undefined> {
  const repush = jobPart.repush as NonNullable<JobPart['repush']>;
  const waitSeconds = Math.ceil((repush.dueAt - Date.now()) / 1000);
  // A round is due at most the job's own re-push delay ahead: anything later was not
  // written by the sender, and would wait on the queue forever.
  if (waitSeconds > (jobPart.job.track?.repushAfterSeconds ?? 0) + 60)
    throw new JobFailedError(
      'InvalidJob',
      'A re-push round is due later than the job’s repushAfterSeconds allows.',
    );
  if (waitSeconds > 0) {
    await ports.sendQueue.enqueue([
      { body: JSON.stringify(jobPart), delaySeconds: Math.min(MAX_SQS_DELAY_SECONDS, waitSeconds) },
    ]);
    return undefined;
  }
  const devices = jobPart.devices ?? [];
  const acknowledged = await ports.trackingStore.acknowledgedTokens(
    jobPart.job.notificationId,
    devices.map((d) => d.token),
  );
  return { ...jobPart, devices: devices.filter((d) => !acknowledged.has(d.token)) };
}

/**
 * Records a job that did not come through the API: its id, taken as the API takes it
 * (so a later POST with the same id is a repeat or a conflict), and a tracked job's
 * recipients' hashes, before anything is sent. Repeats are harmless. The request is
 * enqueued from the start: its message is on the queue until it is delivered, and a
 * redelivery splits it again — a POST repeating it must not enqueue it a second time.
 * (An API request of the same job still `pending` is marked so here, for that reason.)
 * False when there is nothing to deliver: the same job is on the queue already under
 * other part names (the API's parts, or another publish of it) — a repeat sends
 * nothing, and this message under another name would send it all again.
 */
async function takePublishedJobId(ports: Ports, jobPart: JobPart): Promise<boolean> {
  const { job } = jobPart;
  const taken = await takeJobNotificationId(ports, job, partsOf(job), new Date(), {
    publishedAs: jobPart.part,
  });
  if (taken.kind === 'conflict') {
    throw new JobFailedError(
      'NotificationIdConflict',
      `The notification id "${job.notificationId}" was already used for a different job (other recipients, content or options); nothing of this one was sent.`,
    );
  }
  if (job.track?.receipts === true)
    await ports.trackingStore.saveRecipients(job.notificationId, trackedRecipients(job.to));
  if (taken.kind !== 'repeat') return true;
  return await publishedRepeatIsDeliverable(ports, jobPart, taken.record);
}

/**
 * A published job found its id taken by this same job: whether to deliver it (false:
 * the job is on the queue already under other part names). A request the API has not
 * marked enqueued is taken over — marked so, with this part's name and split.
 */
export async function publishedRepeatIsDeliverable(
  { notificationRecords }: Pick<Ports, 'notificationRecords'>,
  jobPart: JobPart,
  record: SendRequestRecord,
): Promise<boolean> {
  const { job } = jobPart;
  // A record that keeps its part names: the job is on the queue already, as the API's
  // parts or as this published message (redelivered) — under any other name or
  // attempt it would be sent again, and added to the report.
  const own = record.publishedPart === jobPart.part && jobPart.attempt === 0 && jobPart.repush === undefined;
  if (record.partKeys !== undefined && record.status === 'enqueued' && !own) {
    logger.info('a repeat of a job on the queue already: nothing sent again', {
      notificationId: job.notificationId,
      part: jobPart.part,
    });
    return false;
  }
  if (record.status === 'pending')
    await notificationRecords.markRequestEnqueued(
      job.notificationId,
      record.partKeys === undefined
        ? undefined
        : { part: jobPart.part, partKeys: publishedPartKeys(job, jobPart.part) },
    );
  return true;
}
