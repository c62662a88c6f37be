import type { RecordedStatus, SenderStatus } from './tracking';

/**
 * What pushgate did with one device a chunk handled: its **outcome**. Every such device
 * ends in exactly one, counted in the outcome's metric; a tracked job's report shows the
 * device's **status** (where the notification stands on it: the API's six, domain/tracking.ts)
 * — the one a sender can know before the app acknowledges. This list is the only place
 * the three are tied: the metrics (metric-names.ts), the tracked report (`recordedStatus`)
 * and docs/architecture.md's outcome table (a unit test renders it from here) all read it.
 */
export interface OutcomeFacts {
  /** The CloudWatch metric it is counted in: deployed alarms and dashboards read these names. */
  metric: string;
  /** The status a tracked job's report shows for the device. */
  status: SenderStatus;
  /** What happened to the device, in one line. */
  meaning: string;
}

export const OUTCOMES = {
  accepted: {
    metric: 'NotificationsAccepted',
    status: 'accepted',
    meaning: 'APNs or FCM accepted the push',
  },
  pruned: {
    metric: 'TokensPruned',
    status: 'pruned',
    meaning: 'its token is dead (APNs 410 or 400, FCM `UNREGISTERED`, …): removed from the Devices table',
  },
  kept: {
    metric: 'TokensKeptAfterReRegistration',
    status: 'failed',
    meaning: 'the answer said the token is dead, but it was registered again since: not removed',
  },
  retried: {
    metric: 'DeliveriesRetried',
    status: 'queued',
    meaning: 'no final answer yet (429, 5xx, timeout, lost connection): re-queued with a delay',
  },
  deadLettered: {
    metric: 'DeliveriesDeadLettered',
    status: 'failed',
    meaning:
      'still no final answer after the last attempt, or its platform refused the job: put on the dead-letter queue with the reasons',
  },
  unregistered: {
    metric: 'TokensNotRegistered',
    status: 'failed',
    meaning:
      "not one the job may reach now (out of its user's device set, now another app's, over the per-user cap, a Live Activity token gone, no FCM for the app): not sent",
  },
  moved: {
    metric: 'TokensMovedToAnotherUser',
    status: 'failed',
    meaning: 'its token now belongs to another user: not sent',
  },
} as const satisfies Record<string, OutcomeFacts>;

/** The name of an outcome: `accepted`, `pruned`, … (the list is OUTCOMES). */
export type OutcomeName = keyof typeof OUTCOMES;

/** Every outcome, in the list's order. */
export const OUTCOME_NAMES = Object.keys(OUTCOMES) as OutcomeName[];

/** The status a tracked job's report shows for a device that ended in `outcome`. */
export function statusOf(outcome: OutcomeName): SenderStatus {
  return OUTCOMES[outcome].status;
}

/**
 * A device's entry in a tracked chunk's record: its outcome's status, with the reason.
 * The one way the sender records a device's status, so the report cannot tell a
 * different story from the metrics.
 */
export function recordedStatus(
  device: { token: string; userId: string },
  outcome: OutcomeName,
  reason?: string,
): RecordedStatus {
  return {
    token: device.token,
    userId: device.userId,
    status: statusOf(outcome),
    ...(reason === undefined ? {} : { reason }),
  };
}
