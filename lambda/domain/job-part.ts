import { createHash } from 'node:crypto';
import { tokenHash } from './device-token';
import { JobFailedError } from './errors';
import { type PushDevice, platformOf } from './push-device';
import { MAX_SQS_MESSAGE_BYTES, queuedBytes } from './queue-message';
import { jobFingerprint, type SendJob } from './send-job';

/**
 * The tag that marks a send-queue message as a part of a job written by the sender
 * (not a job a backend published). The text is what the first version wrote and
 * stays so: messages in flight across a deploy must still be read.
 */
export const JOB_PART_FORMAT = 'work/v1';

/**
 * A part of a send job, as it travels on the send queue. A public send job becomes
 * part "0" at attempt 0; the sender itself enqueues more: parts of a big job,
 * continuations when time runs short, retries of exactly the devices that need one,
 * and re-push rounds.
 */
export interface JobPart {
  pushgate: typeof JOB_PART_FORMAT;
  job: SendJob;
  /** Which slice of the job: "0", "0.3" (4th part of a split), "0.3/2" (retries from its chunk 2). */
  part: string;
  /** 0 on first delivery, n for the n-th retry of these devices. */
  attempt: number;
  /** Retries carry their devices; first deliveries resolve them from `job.to`. */
  devices?: PushDevice[];
  /** Why each retried device is being retried, by token hash. */
  reasons?: Record<string, string>;
  /** A re-push round: send again to those of `devices` that have not acknowledged by `dueAt` (ms). */
  repush?: { round: number; dueAt: number };
  /** A job published straight to the queue: no API request recorded it (receipts need that record). */
  published?: true;
  /**
   * A lean job the API put on the queue before writing its id record (domain/lean-job.ts):
   * the sender takes the id as the API would when the record is not there yet, and drops
   * the part when the id turns out to be another's (the API answered that caller 409).
   */
  enqueuedBeforeId?: true;
}

/**
 * The most devices one job part carries (a retry, a re-push round): one chunk's
 * worth, so the part is sent as one chunk. Long tokens (an FCM token may be 4 096
 * characters) make fewer fit: a part is also cut at MAX_PART_BYTES (devicePartsOf).
 */
export const DEVICES_PER_PART = 500;

/**
 * The most bytes a job part the sender enqueues may take on the queue (as asciiJson
 * writes it): SQS's 1 MiB less 64 KiB, room for the message attributes a dead-letter
 * adds and for anything the count of the queued text misses. The one limit every
 * part, retry, continuation and re-push round is cut to.
 */
export const MAX_PART_BYTES = MAX_SQS_MESSAGE_BYTES - 64 * 1024;

/**
 * The most bytes a part's job (its recipients and content) may take: a quarter of a
 * part, so a retry or re-push round, which carries the job beside its devices, still
 * has three quarters for them.
 */
export const MAX_PART_JOB_BYTES = MAX_PART_BYTES / 4;

/** A job part's size on the send queue. */
export function partBytes(part: JobPart): number {
  return queuedBytes(JSON.stringify(part));
}

/**
 * Cuts a chunk's devices into the job parts that carry them on (retries, re-push
 * rounds), named `name`, `name.0`, … (devicePartNames): each at most DEVICES_PER_PART
 * devices and MAX_PART_BYTES, so every one fits an SQS message whatever the tokens'
 * length. Deterministic, so a redelivered chunk enqueues the same parts. `reasonOf`
 * gives a retried device's reason (kept in `reasons` by token hash).
 */
export function devicePartsOf(
  template: Omit<JobPart, 'part' | 'devices' | 'reasons'>,
  name: string,
  devices: readonly PushDevice[],
  reasonOf?: (device: PushDevice) => string,
): JobPart[] {
  const build = (group: readonly PushDevice[]): Omit<JobPart, 'part'> => ({
    ...template,
    devices: [...group],
    ...(reasonOf === undefined
      ? {}
      : { reasons: Object.fromEntries(group.map((device) => [tokenHash(device.token), reasonOf(device)])) }),
  });
  const emptyBytes = partBytes({ ...build([]), part: name } as JobPart) + 16; // the longest suffix ".NNN"
  // Each device adds its JSON and a comma, and its reason entry when it has one.
  const deviceBytes = (device: PushDevice) =>
    queuedBytes(JSON.stringify(device)) +
    1 +
    (reasonOf === undefined
      ? 0
      : queuedBytes(`${JSON.stringify(tokenHash(device.token))}:${JSON.stringify(reasonOf(device))}`) + 1);
  const groups = inGroupsOfBytes(devices, DEVICES_PER_PART, MAX_PART_BYTES - emptyBytes, deviceBytes);
  const names = devicePartNames(name, groups.length);
  return groups.map((group, index) => {
    const part = { ...build(group), part: names[index] ?? name } as JobPart;
    // The sum above is the part's size; a part over it would be lost at SQS, so never sent.
    if (partBytes(part) > MAX_PART_BYTES)
      throw new Error(`job part ${part.part} exceeds ${MAX_PART_BYTES} bytes`);
    return part;
  });
}

/**
 * Consecutive groups of at most `count` items and `bytes` bytes (by `sizeOf`). An
 * item that alone exceeds `bytes` cannot travel: JobTooLarge (the job goes to the
 * DLQ with that reason, never half-sent in silence).
 */
function inGroupsOfBytes<T>(
  items: readonly T[],
  count: number,
  bytes: number,
  sizeOf: (item: T) => number,
): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const item of items) {
    const itemBytes = sizeOf(item);
    if (itemBytes > bytes) {
      throw new JobFailedError(
        'JobTooLarge',
        `One recipient of this job takes ${itemBytes} bytes beside the job's ${MAX_PART_BYTES - bytes}: a part carrying it would exceed ${MAX_PART_BYTES} bytes on the send queue.`,
      );
    }
    if (current.length === count || size + itemBytes > bytes) {
      groups.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += itemBytes;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/**
 * The names of the `count` parts that carry a chunk's devices on: `name` itself when
 * one does (the usual case), else `name.0`, `name.1`, … — the same every time, so a
 * redelivered chunk enqueues the same parts.
 */
export function devicePartNames(name: string, count: number): string[] {
  return count === 1 ? [name] : Array.from({ length: count }, (_, index) => splitPartName(name, index));
}

/** The part of a split: "0.3" is the fourth part of part "0". */
export function splitPartName(parent: string | undefined, index: number): string {
  return parent === undefined ? String(index) : `${parent}.${index}`;
}

/** The devices of chunk `chunk` of `part` re-queued for a retry: "0.3/2". */
export function retryPartName(part: string, chunk: number): string {
  return `${part}/${chunk}`;
}

/**
 * The devices of chunk `chunk` of `part` on a platform or APNs environment that refused
 * the job (a credential or job error) while the chunk's other devices were pushed to —
 * the `refusal`-th such group: "0.3/2x0", dead-lettered on their own so a redrive
 * reaches them alone.
 */
export function refusedPartName(part: string, chunk: number, refusal: number): string {
  return `${part}/${chunk}x${refusal}`;
}

/** Re-push round `round` of the devices chunk `chunk` of `part` got accepted: "0.3/2r1". */
export function repushPartName(part: string, chunk: number, round: number): string {
  return `${part}/${chunk}r${round}`;
}

/** Users per part: a part's devices fit one sender invocation with room to spare (~2 000 sends). */
export const USERS_PER_PART = 1_000;
/**
 * Tokens per part, for jobs addressed to tokens (~140 KB at today's 64-digit APNs
 * tokens). Longer tokens — up to 400 hex digits, or an FCM token of up to 4 096
 * characters — are cut at MAX_PART_JOB_BYTES first.
 */
export const TOKENS_PER_PART = 2_000;

/**
 * Activities per part. A named activity is up to ~410 bytes at the longest ids the
 * schema allows (a 256-character user id and a 128-character activity id), so 500
 * keep a part, and a retry that carries it with its devices, well inside SQS's 1 MiB.
 */
export const ACTIVITIES_PER_PART = 500;

/**
 * Splits a job into parts of at most USERS_PER_PART users (or TOKENS_PER_PART
 * tokens, or ACTIVITIES_PER_PART activities) and MAX_PART_JOB_BYTES, each recipient
 * in one part only, numbered under `parent`. Deterministic: the same job always gives the
 * same parts, so enqueuing them twice sends nothing twice (the sender deduplicates
 * by notification id and part).
 */
export function partsOf(job: SendJob, parent?: string): JobPart[] {
  const to = job.to;
  // Each user or token once: named twice across a part boundary, it would be in two
  // parts, and each part pushes to it (activities are made distinct on the way in).
  const [key, recipients, size] =
    'userIds' in to
      ? (['userIds', [...new Set(to.userIds)], USERS_PER_PART] as const)
      : 'activities' in to
        ? (['activities', to.activities, ACTIVITIES_PER_PART] as const)
        : (['tokens', [...new Set(to.tokens)], TOKENS_PER_PART] as const);
  const empty: JobPart = {
    pushgate: JOB_PART_FORMAT,
    job: { ...job, to: { [key]: [] as unknown[] } } as SendJob,
    part: splitPartName(parent, 9999),
    attempt: 0,
  };
  // Long recipients (an FCM token may be 4 096 characters) make fewer fit a part.
  const groups = inGroupsOfBytes(
    recipients as readonly unknown[],
    size,
    MAX_PART_JOB_BYTES - partBytes(empty),
    (recipient) => queuedBytes(JSON.stringify(recipient)) + 1,
  );
  return groups.map((group, index) => ({
    pushgate: JOB_PART_FORMAT,
    job: { ...job, to: { [key]: group } } as SendJob,
    part: splitPartName(parent, index),
    attempt: 0,
  }));
}

/**
 * What a send request's record keeps of each of its parts' jobs, so the sender can
 * tell a part of that request from a part written by anyone else under its id: the
 * first 128 bits of the part's job fingerprint — no other job matches one, and even
 * a job of 100 parts keeps its record within one 4 KB read unit.
 */
export function partJobFingerprint(job: SendJob): string {
  return jobFingerprint(job).slice(0, 32);
}

/** The fingerprints of these parts' jobs, each once. */
export function partJobFingerprints(parts: readonly JobPart[]): string[] {
  return [...new Set(parts.map((part) => partJobFingerprint(part.job)))];
}

/**
 * What a send request's record keeps of each part without devices the sender may
 * deliver under its id: its job and its name, so the request's own content replayed
 * under another part name (which has no progress yet, so would be sent again and
 * added to the report) is told from the part that was queued.
 */
export function partKey(part: Pick<JobPart, 'job' | 'part'>): string {
  return createHash('sha256')
    .update(JSON.stringify([partJobFingerprint(part.job), part.part]))
    .digest('hex')
    .slice(0, 32);
}

/**
 * The part keys of a job published straight to the queue as part `name`: those of its
 * split when the sender splits it (splitIntoParts), else none — delivered whole, it
 * stays `published` and is held to its id record as the job it is.
 */
export function publishedPartKeys(job: SendJob, name: string): string[] {
  const parts = partsOf(job, name);
  return parts.length > 1 ? parts.map(partKey) : [];
}

/**
 * What the sender records of a part it writes with devices (a retry, a re-push round,
 * the continuation of one): the first 128 bits of a hash of its job's fingerprint, its
 * name, attempt, round and every device as it carries it. Devices reach a part only
 * when the sender resolved them for that job, so a part with devices whose
 * fingerprint the sender did not record was written by someone else — whatever users
 * it labels its devices with.
 */
export function devicePartFingerprint(part: JobPart): string {
  const devices = (part.devices ?? []).map((device) => [
    device.token,
    device.userId,
    device.appId,
    device.environment,
    platformOf(device),
    device.liveActivity?.kind ?? null,
    device.liveActivity?.target ?? null,
  ]);
  const round = part.repush === undefined ? null : [part.repush.round, part.repush.dueAt];
  return createHash('sha256')
    .update(JSON.stringify([jobFingerprint(part.job), part.part, part.attempt, round, devices]))
    .digest('hex')
    .slice(0, 32);
}
