import type { ApnsEnvironment } from './device';
import type { SendJob } from './send-job';

/** One device a job reaches, as the sender needs it. */
export interface DeviceTarget {
  token: string;
  userId: string;
  appId: string;
  environment: ApnsEnvironment;
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
  | 'unregistered';

/** Counts per outcome and per reason, for metrics, logs and the job's answer. */
export class DeliveryTally {
  readonly counts: Record<DeliveryOutcomeName, number> = {
    accepted: 0,
    pruned: 0,
    kept: 0,
    retried: 0,
    deadLettered: 0,
    unregistered: 0,
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

  get devices(): number {
    return Object.values(this.counts).reduce((sum, n) => sum + n, 0);
  }
}
