import * as z from 'zod/mini';
import { appIdSchema } from './app';
import { canonicalDeviceToken, MAX_TOKEN_BYTES } from './device-token';
import { InvalidDeviceTokenError } from './errors';
import { userIdSchema } from './user';

/**
 * The send job: the body of `POST /v1/notifications` and of a message on the send
 * queue — one schema for both, published as JSON Schema in schema/.
 */

/** One job names at most this many users or tokens; the sender splits big ones into parts. */
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

const jsonValue: z.ZodMiniType<unknown> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(jsonValue),
    z.record(z.string(), jsonValue),
  ]),
);

const locArgs = z.array(z.string());

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
  timestamp: z.optional(z.int()),
  event: z.optional(z.enum(['start', 'update', 'end'])),
  'content-state': z.optional(z.record(z.string(), jsonValue)),
  'stale-date': z.optional(z.int()),
  'dismissal-date': z.optional(z.int()),
  'attributes-type': z.optional(z.string()),
  attributes: z.optional(z.record(z.string(), jsonValue)),
});

const tokenString = z.string().check(z.minLength(1), z.maxLength(MAX_TOKEN_BYTES * 2 + 64));

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
    to: z.union(
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
      ],
      { error: '"to" is {"userIds": [...]} or {"tokens": [...]}.' },
    ),
    aps: apsSchema,
    data: z.optional(z.record(z.string(), jsonValue)),
    apns: z.optional(
      z.strictObject({
        pushType: z.optional(z.enum(PUSH_TYPES)),
        priority: z.optional(
          z.union([z.literal(10), z.literal(5), z.literal(1)], { error: 'priority is 10, 5 or 1.' }),
        ),
        expiration: z.optional(z.int().check(z.minimum(0))),
        collapseId: z.optional(
          z.string().check(
            z.minLength(1),
            z.refine((value) => Buffer.byteLength(value) <= 64, 'collapseId is at most 64 bytes.'),
          ),
        ),
      }),
    ),
    track: z.optional(
      z.strictObject({
        receipts: z.optional(z.boolean()),
        repushAfterSeconds: z.optional(z.int().check(z.minimum(1), z.maximum(604_800))),
        maxRepushes: z.optional(z.int().check(z.minimum(0), z.maximum(10))),
      }),
    ),
  })
  .check(
    z.refine((job) => !job.data || !('aps' in job.data || 'pushgate' in job.data), {
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
 * the first bad one).
 */
export function normalizeSendJob(input: SendJobInput, fallbackId: string): SendJob {
  const to =
    'tokens' in input.to
      ? {
          tokens: input.to.tokens.map((token, index) => {
            try {
              return canonicalDeviceToken(token);
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
