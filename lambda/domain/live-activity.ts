import * as z from 'zod/mini';
import type { ApnsEnvironment } from './device';
import { DEVICE_TTL_DAYS, isCurrentGeneration } from './device';
import { InvalidRequestError } from './errors';
import { DAY_SECONDS, epochSeconds, expiresAfter, hasExpired } from './expiry';
import type { PushDevice } from './push-device';
import { userIdSchema } from './user';

/**
 * Live Activities (iOS 17.2+) have two token kinds of their own, besides the device
 * token: a push-to-start token per app install and ActivityAttributes type, and an
 * update token per running activity. Both belong to one user at a time, like
 * device tokens (docs/decisions/live-activity-tokens.md).
 */
export const LIVE_ACTIVITY_TOKEN_KINDS = ['push-to-start', 'update'] as const;
export type LiveActivityTokenKind = (typeof LIVE_ACTIVITY_TOKEN_KINDS)[number];

/**
 * The backend's own id for an activity, carried in the URL path and in the
 * activity's attributes: 1–128 URL-safe characters (RFC 3986 unreserved), so it
 * never needs encoding.
 */
export const activityIdSchema = z
  .string()
  .check(
    z.regex(
      /^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$/,
      'An activity id is 1–128 URL-safe characters: letters, digits and . _ ~ - (starting with a letter or digit).',
    ),
  );

/**
 * An activity as a send job names it: the user it belongs to and the backend's id
 * for it. Activity ids are the backend's, not unique across users, so an update or
 * end reaches only the update tokens that user registered under that id
 * (docs/decisions/live-activity-tokens.md).
 */
export const userActivitySchema = z.strictObject({ userId: userIdSchema, activityId: activityIdSchema });
z.globalRegistry.add(userActivitySchema, {
  description:
    'One user’s activity: an update or end reaches only the update tokens this user registered under this activity id.',
});
export type UserActivity = z.output<typeof userActivitySchema>;

/** One user's activity, as a text no two different activities share (neither id can hold a space). */
export function userActivityKey({ userId, activityId }: UserActivity): string {
  return `${userId} ${activityId}`;
}

/** The activities in their first order, each once. */
export function distinctActivities(activities: readonly UserActivity[]): UserActivity[] {
  const seen = new Set<string>();
  return activities.filter((activity) => {
    const key = userActivityKey(activity);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * `to: {activityIds: [...]}`, the form that named activities by id alone, is refused
 * with its own code: an id alone could reach whoever registered a token under it.
 */
export const ACTIVITY_OWNER_REQUIRED = {
  code: 'ActivityOwnerRequired',
  message:
    '{"activityIds": [...]} is no longer accepted: name the user of each activity, {"activities": [{"userId": "alice", "activityId": "order-123"}]}. Activity ids are chosen by your backend and not unique across users, so an id alone could reach anyone who registered a token under it; with its user, only that user\'s tokens of that activity are reached.',
} as const;

/** Whether a `to` value uses the refused id-only form (ACTIVITY_OWNER_REQUIRED). */
export function namesActivityIdsAlone(to: unknown): boolean {
  return typeof to === 'object' && to !== null && Object.hasOwn(to, 'activityIds');
}

/** An activity id from a URL path; anything else is InvalidActivityId. */
export function parseActivityId(value: string): string {
  const result = activityIdSchema.safeParse(value);
  if (!result.success) {
    throw new InvalidRequestError(
      `The activity id in the path is invalid: ${result.error.issues[0]?.message ?? 'it is malformed.'}`,
      'InvalidActivityId',
    );
  }
  return result.data;
}

/** The Swift type name of the ActivityAttributes, as `aps["attributes-type"]` names it. */
export const attributesTypeSchema = z
  .string()
  .check(
    z.regex(
      /^[A-Za-z_][A-Za-z0-9_.]{0,127}$/,
      'attributesType is the Swift type name of the ActivityAttributes, such as "DeliveryAttributes" (letters, digits, _ and ., at most 128 characters).',
    ),
  );

/**
 * Push-to-start tokens live as long as device tokens (one per install; apps
 * re-register them on launch). An update token serves one activity, which iOS ends
 * after 8 hours and removes from the lock screen at most 4 hours later: a day
 * without a refresh means the activity is gone.
 */
export const UPDATE_TOKEN_TTL_SECONDS = DAY_SECONDS;

export function liveActivityTokenExpiry(kind: LiveActivityTokenKind, lastSeenAt: Date): number {
  return expiresAfter(
    lastSeenAt,
    kind === 'update' ? UPDATE_TOKEN_TTL_SECONDS : DEVICE_TTL_DAYS * DAY_SECONDS,
  );
}

export interface LiveActivityTokenRegistration {
  kind: LiveActivityTokenKind;
  /** Canonical lowercase hex, as APNs takes it. */
  token: string;
  userId: string;
  appId: string;
  environment: ApnsEnvironment;
  /** push-to-start tokens: the ActivityAttributes type they start. */
  attributesType?: string;
  /** update tokens: the backend's id of the activity they update. */
  activityId?: string;
}

export interface LiveActivityToken extends LiveActivityTokenRegistration {
  registeredAt: string;
  lastSeenAt: string;
  /** Epoch seconds after which DynamoDB removes the token. */
  expiresAt: number;
  /** update tokens of an ended activity: epoch seconds from which they reach nobody. */
  dismissAt?: number;
  /** The owner's device generation when written (absent: 0): an erase of the owner takes it too. */
  generation?: number;
}

/** What the API shows of a Live Activity token. */
export function liveActivityTokenView(token: LiveActivityToken) {
  return {
    kind: token.kind,
    token: token.token,
    userId: token.userId,
    appId: token.appId,
    environment: token.environment,
    ...(token.attributesType === undefined ? {} : { attributesType: token.attributesType }),
    ...(token.activityId === undefined ? {} : { activityId: token.activityId }),
    registeredAt: token.registeredAt,
    lastSeenAt: token.lastSeenAt,
    expiresAt: new Date(token.expiresAt * 1000).toISOString(),
  };
}

/** The `aps` keys and options of a send job that the Live Activity rules look at. */
interface LiveActivityJobShape {
  to: { userIds: string[] } | { tokens: string[] } | { activities: UserActivity[] };
  aps: Record<string, unknown>;
  apns?: { pushType?: string; priority?: number };
}

export type LiveActivityEvent = 'start' | 'update' | 'end';

export function isLiveActivityJob(job: { apns?: { pushType?: string } }): boolean {
  return job.apns?.pushType === 'liveactivity';
}

function refuse(message: string, code = 'InvalidLiveActivity'): never {
  throw new InvalidRequestError(message, code);
}

/**
 * Apple's rules for a Live Activity push, checked before anything is queued:
 * - `to: {activities}` is only for Live Activity pushes, and a Live Activity push
 *   names users (start: their push-to-start tokens) or users' activities (update,
 *   end: the update tokens each user registered for that activity), never raw
 *   tokens (InvalidLiveActivity);
 * - `aps.event` is required; start needs `attributes-type`, `attributes`,
 *   `content-state` and `alert`; update needs `content-state` (MissingLiveActivityKey).
 * `aps.timestamp` is filled when absent (withLiveActivityTimestamp).
 */
export function checkLiveActivityJob(job: LiveActivityJobShape): void {
  const { aps, to } = job;
  if (!isLiveActivityJob(job)) {
    if ('activities' in to) {
      refuse(
        '"to": {"activities": [...]} is for Live Activity pushes: set "apns": {"pushType": "liveactivity"}.',
      );
    }
    return;
  }
  const event = aps.event as LiveActivityEvent | undefined;
  if (event === undefined) {
    refuse('A Live Activity push needs "aps.event": "start", "update" or "end".', 'MissingLiveActivityKey');
  }
  if ('tokens' in to) {
    refuse(
      'A Live Activity push names users ("start") or users\' activities ("update", "end"), not tokens: Live Activity tokens are registered per user and activity.',
    );
  }
  if (event === 'start') {
    if (!('userIds' in to)) {
      refuse('"start" reaches the push-to-start tokens of users: address it with "to": {"userIds": [...]}.');
    }
    for (const key of ['attributes-type', 'attributes', 'content-state', 'alert'] as const) {
      if (aps[key] === undefined) {
        refuse(`A Live Activity "start" needs "aps.${key}".`, 'MissingLiveActivityKey');
      }
    }
    return;
  }
  if (!('activities' in to)) {
    refuse(
      `"${event}" reaches the update tokens of users' activities: address it with "to": {"activities": [{"userId": "...", "activityId": "..."}]}.`,
    );
  }
  if (event === 'update' && aps['content-state'] === undefined) {
    refuse('A Live Activity "update" needs "aps.content-state".', 'MissingLiveActivityKey');
  }
}

/**
 * `aps.timestamp` is required by APNs (iOS drops an update older than the last one
 * it applied); filled with `now` when the job has none. Fixed once, where the job
 * enters pushgate, so its retries and SQS's redeliveries of a message carry the same one.
 */
export function withLiveActivityTimestamp<
  Job extends { aps: Record<string, unknown>; apns?: { pushType?: string } },
>(job: Job, now: Date): Job {
  if (!isLiveActivityJob(job) || job.aps.timestamp !== undefined) return job;
  return { ...job, aps: { ...job.aps, timestamp: epochSeconds(now) } };
}

/** 10 (shown at once, budgeted by iOS) for start and end; 5 for routine updates. */
export function defaultLiveActivityPriority(event: unknown): 5 | 10 {
  return event === 'update' ? 5 : 10;
}

/** iOS removes an ended activity from the lock screen at most four hours after the end. */
export const MAX_DISMISSAL_SECONDS = 4 * 60 * 60;

/**
 * When an activity's update tokens stop reaching anyone after an `end`: at its
 * `dismissal-date` (epoch seconds) but no later than iOS keeps an ended activity
 * (four hours), or at once without one or when it has passed.
 */
export function dismissalAfterEnd(aps: Record<string, unknown>, now: Date): number | undefined {
  const dismissal = aps['dismissal-date'];
  const nowSeconds = epochSeconds(now);
  if (typeof dismissal !== 'number' || dismissal <= nowSeconds) return undefined;
  return Math.min(dismissal, nowSeconds + MAX_DISMISSAL_SECONDS);
}

/** A Live Activity token's record as it stands: who holds it, for what, until when. */
export interface LiveActivityTokenState {
  ownerId: string;
  /** The owner's device generation it was written in (absent: 0). */
  generation?: number;
  /** The push-to-start type or activity it is filed under. */
  liveActivityTarget: string;
  /** Epoch seconds; a record without one is not sent to. */
  expiresAt?: number;
  /** Epoch seconds from which an `end` dismissed it. */
  dismissAt?: number;
}

/**
 * Whether a Live Activity device may be pushed to now: its token still belongs to the
 * same user, in the user's current device generation (no erase has taken it), under
 * the same push-to-start type or activity, and has neither been dismissed by an `end`
 * nor expired (DynamoDB's TTL deletes late). `state` is a strongly consistent read:
 * the index that listed the device may lag a move.
 */
export function isCurrentLiveActivityDevice(
  device: PushDevice,
  state: LiveActivityTokenState | undefined,
  now: Date,
  ownerGeneration: number,
): boolean {
  if (device.liveActivity === undefined || state === undefined) return false;
  return (
    state.ownerId === device.userId &&
    isCurrentGeneration(state.generation, ownerGeneration) &&
    state.liveActivityTarget === device.liveActivity.target &&
    typeof state.expiresAt === 'number' &&
    !hasExpired(state.expiresAt, now) &&
    !hasExpired(state.dismissAt, now)
  );
}
