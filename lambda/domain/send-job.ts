import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { androidJobField } from './android-config';
import { appIdSchema } from './app';
import { MAX_TOKEN_BYTES } from './device-token';
import { InvalidDeviceTokenError } from './errors';
import { MAX_FCM_TOKEN_LENGTH, namedDeviceToken } from './fcm-token';
import {
  ACTIVITY_OWNER_REQUIRED,
  attributesTypeSchema,
  checkLiveActivityJob,
  distinctActivities,
  namesActivityIdsAlone,
  userActivitySchema,
} from './live-activity';
import { userIdSchema } from './user';

/**
 * The send job: the body of `POST /v1/notifications` and of a message on the send
 * queue — one schema for both, published as JSON Schema in schema/.
 */

/** One job names at most this many users, tokens or activities; the sender splits big ones into parts. */
export const MAX_RECIPIENTS_PER_JOB = 50_000;

export const PUSH_TYPES = [
  'alert',
  'background',
  'voip',
  'complication',
  'fileprovider',
  'mdm',
  'liveactivity',
  'pushtotalk',
  'location',
  'widgets',
  'controls',
] as const;
export type PushType = (typeof PUSH_TYPES)[number];

/**
 * The push types pushgate can send: those that go to an app's APNs device token
 * (alert, background) and Live Activity pushes (to the Live Activity tokens it
 * registers). Every other type needs a token pushgate never registers — a PushKit
 * token for voip, pushtotalk, fileprovider or complication, a location push token,
 * a widget or control token — and APNs answers one sent to a device token with
 * DeviceTokenNotForTopic, which would prune the device.
 */
export const SUPPORTED_PUSH_TYPES: readonly PushType[] = ['alert', 'background', 'liveactivity'];

export const UNSUPPORTED_PUSH_TYPE = {
  code: 'UnsupportedPushType',
  message:
    "pushgate sends alert, background and liveactivity pushes. Other push types need their own tokens (PushKit for voip, location push tokens, ...), which pushgate does not register; sent to an app's device token, APNs would refuse them.",
} as const;

/**
 * A JSON object of the caller's own keys (`data`, Live Activity `content-state` and
 * `attributes`), kept exactly as sent. Bodies come from JSON.parse, so any object in
 * them is valid JSON; zod's record would rebuild it and silently drop a `__proto__`
 * key, which the app may well expect.
 */
const jsonObject = z.custom<Record<string, unknown>>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  { error: 'Expected a JSON object.' },
);
z.globalRegistry.add(jsonObject, {
  type: 'object',
  additionalProperties: true,
  description: 'Any JSON object; its keys reach the app exactly as sent.',
});

const locArgs = z.array(z.string());

/**
 * A date as APNs reads it in `aps`: whole seconds since 1970. Milliseconds (a
 * thirteen-digit number) or a negative number is refused: iOS would drop every
 * later update of an activity stamped in the far future.
 */
const epochSecondsSchema = z
  .int()
  .check(
    z.minimum(0, 'A date in aps is whole seconds since 1970 (not milliseconds).'),
    z.maximum(9_999_999_999, 'A date in aps is whole seconds since 1970 (not milliseconds).'),
  );

const alertSchema = z.union([
  z.string(),
  z.strictObject({
    title: z.optional(z.string()),
    subtitle: z.optional(z.string()),
    body: z.optional(z.string()),
    'launch-image': z.optional(z.string()),
    'title-loc-key': z.optional(z.string()),
    'title-loc-args': z.optional(locArgs),
    'subtitle-loc-key': z.optional(z.string()),
    'subtitle-loc-args': z.optional(locArgs),
    'loc-key': z.optional(z.string()),
    'loc-args': z.optional(locArgs),
  }),
]);

/** Apple's `aps` dictionary, keys as Apple spells them. */
const apsSchema = z.strictObject({
  alert: z.optional(alertSchema),
  badge: z.optional(z.int().check(z.minimum(0))),
  sound: z.optional(
    z.union([
      z.string(),
      z.strictObject({
        critical: z.optional(z.union([z.literal(0), z.literal(1)])),
        name: z.string(),
        volume: z.optional(z.number().check(z.minimum(0), z.maximum(1))),
      }),
    ]),
  ),
  'thread-id': z.optional(z.string()),
  category: z.optional(z.string()),
  'content-available': z.optional(z.literal(1)),
  'mutable-content': z.optional(z.literal(1)),
  'target-content-id': z.optional(z.string()),
  'interruption-level': z.optional(z.enum(['passive', 'active', 'time-sensitive', 'critical'])),
  'relevance-score': z.optional(z.number().check(z.minimum(0), z.maximum(1))),
  'filter-criteria': z.optional(z.string()),
  // Live Activities
  timestamp: z.optional(epochSecondsSchema),
  event: z.optional(z.enum(['start', 'update', 'end'])),
  'content-state': z.optional(jsonObject),
  'stale-date': z.optional(epochSecondsSchema),
  'dismissal-date': z.optional(epochSecondsSchema),
  'attributes-type': z.optional(attributesTypeSchema),
  attributes: z.optional(jsonObject),
});

const tokenString = z
  .string()
  .check(z.minLength(1), z.maxLength(Math.max(MAX_TOKEN_BYTES * 2 + 64, MAX_FCM_TOKEN_LENGTH)));

/**
 * The collapse id travels as the `apns-collapse-id` HTTP/2 header: printable ASCII
 * without leading or trailing spaces (no NUL, CR, LF, DEL or other control or
 * non-ASCII characters, which a header cannot carry), at most 64 bytes as APNs allows.
 */
const collapseIdSchema = z
  .string()
  .check(
    z.regex(
      /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/,
      'collapseId is printable ASCII without control characters or surrounding spaces (it is sent as an HTTP header).',
    ),
    z.maxLength(64, 'collapseId is at most 64 bytes.'),
  );

export const notificationIdSchema = z
  .string()
  .check(
    z.regex(
      /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/,
      'A notification id is 1–128 characters: letters, digits and . _ : - (a UUID is assigned when absent).',
    ),
  );

export const sendJobSchema = z
  .strictObject({
    notificationId: z.optional(notificationIdSchema),
    appId: appIdSchema,
    to: z
      .union(
        [
          z.strictObject({
            userIds: z
              .array(userIdSchema)
              .check(
                z.minLength(1, 'Name at least one user.'),
                z.maxLength(MAX_RECIPIENTS_PER_JOB, `A job names at most ${MAX_RECIPIENTS_PER_JOB} users.`),
              ),
          }),
          z.strictObject({
            tokens: z
              .array(tokenString)
              .check(
                z.minLength(1, 'Name at least one token.'),
                z.maxLength(MAX_RECIPIENTS_PER_JOB, `A job names at most ${MAX_RECIPIENTS_PER_JOB} tokens.`),
              ),
          }),
          z.strictObject({
            activities: z
              .array(userActivitySchema)
              .check(
                z.minLength(1, 'Name at least one activity.'),
                z.maxLength(
                  MAX_RECIPIENTS_PER_JOB,
                  `A job names at most ${MAX_RECIPIENTS_PER_JOB} activities.`,
                ),
              ),
          }),
        ],
        {
          error:
            '"to" is {"userIds": [...]}, {"tokens": [...]} or, for Live Activities, {"activities": [{"userId": "...", "activityId": "..."}]}.',
        },
      )
      .check(
        // Reported even though no branch of the union matched, with its own code.
        z.refine((to) => !namesActivityIdsAlone(to), {
          when: () => true,
          message: ACTIVITY_OWNER_REQUIRED.message,
          params: { code: ACTIVITY_OWNER_REQUIRED.code },
        }),
      ),
    aps: apsSchema,
    data: z.optional(jsonObject),
    apns: z.optional(
      z.strictObject({
        pushType: z.optional(z.enum(PUSH_TYPES)),
        priority: z.optional(
          z.union([z.literal(10), z.literal(5), z.literal(1)], { error: 'priority is 10, 5 or 1.' }),
        ),
        expiration: z.optional(z.int().check(z.minimum(0))),
        collapseId: z.optional(collapseIdSchema),
      }),
    ),
    /** FCM's AndroidConfig for Android devices, overriding what pushgate derives from aps/apns. */
    android: z.optional(androidJobField),
    track: z.optional(
      z.strictObject({
        receipts: z.optional(z.boolean()),
        repushAfterSeconds: z.optional(z.int().check(z.minimum(1), z.maximum(604_800))),
        maxRepushes: z.optional(z.int().check(z.minimum(0), z.maximum(10))),
      }),
    ),
  })
  .check(
    z.refine((job) => SUPPORTED_PUSH_TYPES.includes(job.apns?.pushType ?? 'alert'), {
      message: UNSUPPORTED_PUSH_TYPE.message,
      path: ['apns', 'pushType'],
      params: { code: UNSUPPORTED_PUSH_TYPE.code },
    }),
    z.refine((job) => !job.data || !(Object.hasOwn(job.data, 'aps') || Object.hasOwn(job.data, 'pushgate')), {
      message: '"data" cannot use the reserved keys "aps" or "pushgate".',
      path: ['data'],
    }),
    z.refine((job) => job.apns?.pushType !== 'background' || (job.apns.priority ?? 5) !== 10, {
      message: 'Background pushes must use priority 5 (or 1).',
      path: ['apns', 'priority'],
    }),
    z.refine((job) => job.apns?.pushType !== 'background' || job.aps['content-available'] === 1, {
      message: 'Background pushes need "aps": {"content-available": 1}.',
      path: ['aps', 'content-available'],
    }),
    z.refine((job) => job.apns?.pushType !== 'liveactivity' || job.track === undefined, {
      message:
        'Live Activity pushes are not tracked: iOS applies them to the activity without the app acknowledging them. Leave out "track".',
      path: ['track'],
    }),
    z.refine((job) => job.apns?.pushType !== 'liveactivity' || job.android === undefined, {
      message: 'Live Activity pushes reach iOS devices only. Leave out "android".',
      path: ['android'],
    }),
    z.refine((job) => job.track?.repushAfterSeconds === undefined || job.track.receipts === true, {
      message: 'Re-push needs "track": {"receipts": true}, so acknowledged devices can be skipped.',
      path: ['track', 'receipts'],
    }),
  );

export type SendJobInput = z.output<typeof sendJobSchema>;

/** A validated job with its id fixed and tokens in canonical form. */
export type SendJob = SendJobInput & { notificationId: string };

/**
 * Fixes a validated job's identity and tokens: the notification id (the given one,
 * else `fallbackId`), and every token in canonical form (InvalidDeviceToken names
 * the first bad one), every activity once. A Live Activity push must also follow
 * Apple's rules for its event (InvalidLiveActivity, MissingLiveActivityKey).
 */
export function normalizeSendJob(input: SendJobInput, fallbackId: string): SendJob {
  checkLiveActivityJob(input);
  const to =
    'activities' in input.to
      ? { activities: distinctActivities(input.to.activities) }
      : 'tokens' in input.to
        ? {
            tokens: input.to.tokens.map((token, index) => {
              try {
                return namedDeviceToken(token);
              } catch (error) {
                if (error instanceof InvalidDeviceTokenError) {
                  throw new InvalidDeviceTokenError(`"to.tokens.${index}": ${error.message}`);
                }
                throw error;
              }
            }),
          }
        : input.to;
  return { ...input, to, notificationId: input.notificationId ?? fallbackId };
}

/**
 * How many users, tokens or activities a job names, each once (as the sender pushes
 * to them), as its send answer reports them: so users less usersWithoutDevices are
 * the users reached.
 */
export function recipientCount(
  to: SendJob['to'],
): { users: number } | { tokens: number } | { activities: number } {
  if ('userIds' in to) return { users: new Set(to.userIds).size };
  if ('tokens' in to) return { tokens: new Set(to.tokens).size };
  return { activities: to.activities.length };
}

/**
 * Who may acknowledge a tracked job: its users, or its tokens. Live Activity pushes
 * (the only ones addressed to activities) are never tracked; were they, the users
 * of the activities would stand.
 */
export function trackedRecipients(to: SendJob['to']): string[] {
  if ('userIds' in to) return to.userIds;
  if ('tokens' in to) return to.tokens;
  return [...new Set(to.activities.map((activity) => activity.userId))];
}

/**
 * A fingerprint of everything a job asks for (recipients, content, options), the
 * same whatever order its keys were written in. Stored with the notification id, it
 * tells a repeat of the same job (answered as the first time) from a different job
 * reusing the id (NotificationIdConflict).
 */
export function jobFingerprint(job: SendJob): string {
  return createHash('sha256').update(canonicalJson(job)).digest('hex');
}

/** JSON with every object's keys sorted; own keys only, `__proto__` included like any other. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const members = Object.keys(value)
      .sort()
      .flatMap((key) => {
        const member: unknown = Reflect.get(value, key);
        return member === undefined ? [] : [`${JSON.stringify(key)}:${canonicalJson(member)}`];
      });
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** How many of a job's user ids its request record keeps, to find the notification by user. */
export const NAMED_USERS_KEPT = 20;

/** The first NAMED_USERS_KEPT distinct users a job names (by user id or activity owner). */
export function namedUsers(to: SendJob['to']): string[] {
  const users = 'userIds' in to ? to.userIds : 'activities' in to ? to.activities.map((a) => a.userId) : [];
  return [...new Set(users)].slice(0, NAMED_USERS_KEPT);
}
