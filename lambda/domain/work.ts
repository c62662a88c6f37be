import type { ApnsEnvironment } from './device';
import type { LiveActivityTokenKind } from './live-activity';
import type { SendJob } from './send-job';

/** One device a job reaches, as the sender needs it. */
export interface DeviceTarget {
  token: string;
  userId: string;
  appId: string;
  environment: ApnsEnvironment;
  /** A Live Activity token: its kind, and the registration it was found by (push-to-start type or activity). */
  liveActivity?: { kind: LiveActivityTokenKind; target: string };
}

/**
 * A unit of sender work on the send queue. A public send job becomes part "0" at
 * attempt 0; the sender itself enqueues more: parts of a big job, continuations
 * when time runs short, and retries of exactly the devices that need one.
 */
export interface Work {
  pushgate: 'work/v1';
  job: SendJob;
  /** Which slice of the job: "0", "0.3" (4th part of a split), "0.3/2" (retries from its chunk 2). */
  part: string;
  /** 0 on first delivery, n for the n-th retry of these devices. */
  attempt: number;
  /** Retries carry their devices; first deliveries resolve them from `job.to`. */
  devices?: DeviceTarget[];
  /** Why each retried device is being retried, by token hash. */
  reasons?: Record<string, string>;
  /** A re-push round: send again to those of `devices` that have not acknowledged by `dueAt` (ms). */
  repush?: { round: number; dueAt: number };
  /** A job published straight to the queue: no API request recorded it (receipts need that record). */
  published?: true;
}

/** The part of a split: "0.3" is the fourth part of part "0". */
export function splitPartName(parent: string | undefined, index: number): string {
  return parent === undefined ? String(index) : `${parent}.${index}`;
}

/** The devices of chunk `chunk` of `part` re-queued for a retry: "0.3/2". */
export function retryPartName(part: string, chunk: number): string {
  return `${part}/${chunk}`;
}

/** Re-push round `round` of the devices chunk `chunk` of `part` got accepted: "0.3/2r1". */
export function repushPartName(part: string, chunk: number, round: number): string {
  return `${part}/${chunk}r${round}`;
}

/** Users per part: a part's devices fit one sender invocation with room to spare (~2 000 sends). */
export const USERS_PER_PART = 1_000;
/**
 * Tokens per part, for jobs addressed to tokens: even at the longest token the
 * schema allows (200 bytes, 400 hex digits) a part stays under 810 KB, inside SQS's
 * 1 MiB per message.
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
 * tokens, or ACTIVITIES_PER_PART activities), numbered under `parent`. Deterministic: the same job always gives the
 * same parts, so enqueuing them twice sends nothing twice (the sender deduplicates
 * by notification id and part).
 */
export function partsOf(job: SendJob, parent?: string): Work[] {
  const to = job.to;
  const [key, recipients, size] =
    'userIds' in to
      ? (['userIds', to.userIds, USERS_PER_PART] as const)
      : 'activities' in to
        ? (['activities', to.activities, ACTIVITIES_PER_PART] as const)
        : (['tokens', to.tokens, TOKENS_PER_PART] as const);
  const parts: Work[] = [];
  for (let start = 0, index = 0; start < recipients.length; start += size, index++) {
    const slice = { ...job, to: { [key]: recipients.slice(start, start + size) } } as SendJob;
    parts.push({
      pushgate: 'work/v1',
      job: slice,
      part: splitPartName(parent, index),
      attempt: 0,
    });
  }
  return parts;
}

export function isWork(value: unknown): value is Work {
  return (
    typeof value === 'object' && value !== null && (value as { pushgate?: unknown }).pushgate === 'work/v1'
  );
}

/** Outcomes the sender counts; each device of a job ends in exactly one. */
export type DeliveryOutcomeName =
  | 'accepted'
  | 'pruned'
  | 'kept'
  | 'retried'
  | 'deadLettered'
  | 'unregistered'
  | 'moved';

/** Counts per outcome and per reason, for metrics, logs and the job's answer. */
export class DeliveryTally {
  readonly counts: Record<DeliveryOutcomeName, number> = {
    accepted: 0,
    pruned: 0,
    kept: 0,
    retried: 0,
    deadLettered: 0,
    unregistered: 0,
    moved: 0,
  };
  readonly reasons = new Map<string, number>();
  jobsDeadLettered: { reason: string }[] = [];

  add(outcome: DeliveryOutcomeName, reason?: string, count = 1): void {
    this.counts[outcome] += count;
    if (reason !== undefined) {
      const key = `${outcome}:${reason}`;
      this.reasons.set(key, (this.reasons.get(key) ?? 0) + count);
    }
  }
}
