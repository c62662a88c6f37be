import * as z from 'zod/mini';

/**
 * FCM's `AndroidConfig` (HTTP v1 API, `message.android`), fields spelled as Google
 * documents them. A send job may carry one as `android`; it overrides what pushgate
 * derives from `aps` and `apns` for Android devices (fcm-message.ts). Validated
 * here so a mistake is a 400 from the API, never a job FCM refuses after it was
 * accepted. Errors in it carry the code InvalidAndroidConfig.
 */
export const INVALID_ANDROID_CONFIG = 'InvalidAndroidConfig';

/** A protobuf Duration in JSON: seconds with up to nine decimals and an `s`, e.g. "3.5s". */
const durationSchema = z
  .string()
  .check(
    z.regex(/^\d{1,12}(?:\.\d{1,9})?s$/, 'A duration is seconds followed by "s", such as "3600s" or "1.5s".'),
  );

const colorSchema = z.string().check(z.regex(/^#[0-9A-Fa-f]{6}$/, 'A color is "#rrggbb".'));

const unit = z.number().check(z.minimum(0), z.maximum(1));

const androidNotificationSchema = z.strictObject({
  title: z.optional(z.string()),
  body: z.optional(z.string()),
  icon: z.optional(z.string()),
  color: z.optional(colorSchema),
  sound: z.optional(z.string()),
  tag: z.optional(z.string()),
  click_action: z.optional(z.string()),
  body_loc_key: z.optional(z.string()),
  body_loc_args: z.optional(z.array(z.string())),
  title_loc_key: z.optional(z.string()),
  title_loc_args: z.optional(z.array(z.string())),
  channel_id: z.optional(z.string()),
  ticker: z.optional(z.string()),
  sticky: z.optional(z.boolean()),
  event_time: z.optional(z.iso.datetime({ offset: true })),
  local_only: z.optional(z.boolean()),
  notification_priority: z.optional(
    z.enum([
      'PRIORITY_UNSPECIFIED',
      'PRIORITY_MIN',
      'PRIORITY_LOW',
      'PRIORITY_DEFAULT',
      'PRIORITY_HIGH',
      'PRIORITY_MAX',
    ]),
  ),
  default_sound: z.optional(z.boolean()),
  default_vibrate_timings: z.optional(z.boolean()),
  default_light_settings: z.optional(z.boolean()),
  vibrate_timings: z.optional(z.array(durationSchema)),
  visibility: z.optional(z.enum(['VISIBILITY_UNSPECIFIED', 'PRIVATE', 'PUBLIC', 'SECRET'])),
  notification_count: z.optional(z.int().check(z.minimum(0))),
  light_settings: z.optional(
    z.strictObject({
      color: z.strictObject({
        red: z.optional(unit),
        green: z.optional(unit),
        blue: z.optional(unit),
        alpha: z.optional(unit),
      }),
      light_on_duration: durationSchema,
      light_off_duration: durationSchema,
    }),
  ),
  image: z.optional(z.url({ protocol: /^https$/ })),
  bypass_proxy_notification: z.optional(z.boolean()),
  proxy: z.optional(z.enum(['PROXY_UNSPECIFIED', 'ALLOW', 'DENY', 'IF_PRIORITY_LOWERED'])),
});

/** FCM keeps a message at most four weeks. */
export const MAX_FCM_TTL_SECONDS = 2_419_200;

export const androidConfigSchema = z
  .strictObject({
    collapse_key: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
    priority: z.optional(z.enum(['NORMAL', 'HIGH'])),
    ttl: z.optional(
      durationSchema.check(
        z.refine((ttl) => Number.parseFloat(ttl) <= MAX_FCM_TTL_SECONDS, {
          message: `ttl is at most ${MAX_FCM_TTL_SECONDS}s (four weeks).`,
        }),
      ),
    ),
    restricted_package_name: z.optional(z.string().check(z.minLength(1))),
    data: z.optional(z.record(z.string(), z.string())),
    notification: z.optional(androidNotificationSchema),
    fcm_options: z.optional(z.strictObject({ analytics_label: z.optional(z.string()) })),
    direct_boot_ok: z.optional(z.boolean()),
    bandwidth_constrained_ok: z.optional(z.boolean()),
    restricted_satellite_ok: z.optional(z.boolean()),
  })
  .check(
    z.refine((android) => !android.data || !Object.hasOwn(android.data, 'pushgate'), {
      message: '"android.data" cannot use the reserved key "pushgate".',
      path: ['data'],
    }),
  );

export type AndroidConfig = z.output<typeof androidConfigSchema>;

/**
 * The job's `android` field: validated against androidConfigSchema, its first
 * problem reported with the stable code InvalidAndroidConfig (a zod issue has no
 * code of its own otherwise). The value is kept as sent: the schema transforms
 * nothing. scripts/json-schemas.ts publishes androidConfigSchema in its place.
 */
export const androidJobField = z
  .custom<AndroidConfig>(() => true)
  .check(
    z.superRefine((value, ctx) => {
      const result = androidConfigSchema.safeParse(value);
      const issue = result.error?.issues[0];
      if (issue === undefined) return;
      const message =
        issue.code === 'unrecognized_keys'
          ? `Unknown field ${issue.keys.map((key) => `"${key}"`).join(', ')}; "android" is FCM's AndroidConfig, fields spelled as Google documents them (collapse_key, ttl, notification.channel_id, ...).`
          : issue.message;
      ctx.addIssue({ code: 'custom', message, path: issue.path, params: { code: INVALID_ANDROID_CONFIG } });
    }),
  );
