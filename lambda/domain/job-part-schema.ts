import * as z from 'zod/mini';
import { APNS_ENVIRONMENTS } from './device';
import { isFcmToken, MAX_FCM_TOKEN_LENGTH } from './fcm-token';
import { JOB_PART_FORMAT } from './job-part';
import { LIVE_ACTIVITY_TOKEN_KINDS } from './live-activity';
import { PLATFORMS } from './platform';
import { MAX_DELIVERY_ATTEMPTS } from './retry-policy';
import { userIdSchema } from './user';

/** Whether a queue message claims to be a job part (its fields are checked by `jobPartSchema`). */
export function isJobPart(value: unknown): value is { pushgate: typeof JOB_PART_FORMAT; job: unknown } {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { pushgate?: unknown }).pushgate === JOB_PART_FORMAT
  );
}

/**
 * The levels a job part's envelope (`{"pushgate": …, "job": {…}}`) adds around its
 * job. A queue message may nest this much deeper than MAX_JSON_NESTING: the job
 * inside is held to the limit as the API holds it, so a job the API or the queue
 * accepted is never refused once the sender has put it in a part.
 */
export const JOB_PART_ENVELOPE_LEVELS = 1;

/**
 * Everything of a job part but its job (which the send job schema checks, so that
 * its nesting counts from the job, not from the envelope): a part
 * name of digits, dots, slashes and round markers (it becomes part of a sort key),
 * an attempt within the limit, well-formed devices. Only the sender writes these
 * messages, but anything with send access can put one on the queue: a malformed
 * one goes to the DLQ with its reason instead of being retried blind.
 */
export const jobPartSchema = z.strictObject({
  pushgate: z.literal(JOB_PART_FORMAT),
  part: z
    .string()
    // "x": a platform's devices dead-lettered on their own (refusedPartName).
    .check(z.maxLength(256), z.regex(/^\d+[\d.rx/]*$/, 'A part name is digits, ".", "/", "r" and "x".')),
  attempt: z.int().check(z.minimum(0), z.maximum(MAX_DELIVERY_ATTEMPTS)),
  devices: z.optional(
    z.array(
      z
        .strictObject({
          token: z.string().check(z.minLength(1), z.maxLength(MAX_FCM_TOKEN_LENGTH)),
          userId: userIdSchema,
          appId: z.string().check(z.minLength(1), z.maxLength(256)),
          environment: z.enum(APNS_ENVIRONMENTS),
          platform: z.optional(z.enum(PLATFORMS)),
          liveActivity: z.optional(
            z.strictObject({
              kind: z.enum(LIVE_ACTIVITY_TOKEN_KINDS),
              target: z.string().check(z.minLength(1), z.maxLength(1024)),
            }),
          ),
        })
        .check(
          z.refine(
            (device) =>
              device.platform === 'android'
                ? device.liveActivity === undefined && isFcmToken(device.token)
                : /^[0-9a-f]{32,400}$/.test(device.token),
            {
              message:
                'A device token is lowercase hex, or for platform "android" an FCM registration token (never a Live Activity one).',
              path: ['token'],
            },
          ),
        ),
    ),
  ),
  reasons: z.optional(z.record(z.string(), z.string())),
  repush: z.optional(
    z.strictObject({ round: z.int().check(z.minimum(1), z.maximum(100)), dueAt: z.number() }),
  ),
  published: z.optional(z.literal(true)),
  enqueuedBeforeId: z.optional(z.literal(true)),
});
