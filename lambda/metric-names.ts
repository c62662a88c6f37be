import { OUTCOME_NAMES, OUTCOMES, type OutcomeName } from './domain/outcomes';

/**
 * The names the sender's CloudWatch metrics are published under — shared with the
 * CDK alarms and dashboard that read them, so the two cannot drift. The namespace is
 * the deployment's (POWERTOOLS_METRICS_NAMESPACE); every metric carries the dimension
 * `service` = METRICS_SERVICE, and the per-reason ones also `reason`.
 */
export const METRICS_SERVICE = 'pushgate';
export const REASON_DIMENSION = 'reason';
/** The device's platform (`ios`, `android`) on the outcome metrics counted per device. */
export const PLATFORM_DIMENSION = 'platform';

/** Each outcome's metric, from the outcome list (domain/outcomes.ts). */
export const OUTCOME_METRICS = Object.fromEntries(
  OUTCOME_NAMES.map((outcome) => [outcome, OUTCOMES[outcome].metric]),
) as Record<OutcomeName, string>;

/** One per job moved to the dead-letter queue, with its `reason`. */
export const JOBS_DEAD_LETTERED = 'JobsDeadLettered';

/** Devices that left a full device set when a new one registered (use-cases/register-device.ts). */
export const DEVICES_EVICTED = 'DevicesEvicted';
