import { type AndroidConfig, MAX_FCM_TTL_SECONDS } from './android-config';
import { collapseId, pushTypeOf } from './apns-request';
import { InvalidRequestError, PayloadTooLargeError } from './errors';
import type { SendJob } from './send-job';

/**
 * The FCM HTTP v1 `message` pushgate sends to every Android device of a job — the
 * Android reading of a job written for APNs (docs/fcm.md has the mapping):
 * - `aps.alert` (a string, or `{title, body}`) → `notification`; Apple's
 *   localisation keys → `android.notification.*_loc_key/_loc_args`; `sound` →
 *   `android.notification.sound`; `badge` → `android.notification.notification_count`;
 * - `data` → `data`, whose values FCM takes only as strings: a string stays as it
 *   is, anything else is JSON-encoded; `pushgate` is `{"id": …}` as a JSON string;
 * - `apns.collapseId` → `android.collapse_key`; the notification is tagged with the
 *   collapse id (by default the notification id), so a redelivered or re-pushed
 *   notification replaces the one shown instead of adding a second;
 * - `apns.expiration` (a moment) → `android.ttl` (the time left until then);
 * - priority 10 → `HIGH`, 5 and 1 → `NORMAL`; a background push (`content-available`
 *   only) → a data-only message at `NORMAL`;
 * - the job's `android` (FCM's AndroidConfig) overrides all of the above, key by
 *   key; `android.notification` merges with the derived one, and `android.data`
 *   (which replaces `data` on Android) keeps pushgate's id.
 */
export interface FcmMessage {
  notification?: { title?: string; body?: string };
  data: Record<string, string>;
  android: AndroidConfig;
}

/** FCM refuses a message whose payload is larger. */
export const FCM_PAYLOAD_LIMIT = 4096;

/** Data keys FCM reserves: a message using one is refused (INVALID_ARGUMENT). */
const RESERVED_DATA_KEY = /^(?:from|notification|message_type|google.*|gcm.*)$/i;

/** Android devices get every job but Live Activity pushes, which only iOS has. */
export function reachesAndroid(job: SendJob): boolean {
  return pushTypeOf(job) !== 'liveactivity';
}

export function compileFcmMessage(job: SendJob, nowMs = Date.now()): FcmMessage {
  const pushType = pushTypeOf(job);
  if (pushType === 'liveactivity') throw new Error('Live Activity pushes are not sent to Android devices');
  const data = fcmData(job);
  const android: AndroidConfig = {
    priority: pushType === 'background' || (job.apns?.priority ?? 10) !== 10 ? 'NORMAL' : 'HIGH',
  };
  if (job.apns?.collapseId !== undefined) android.collapse_key = job.apns.collapseId;
  if (job.apns?.expiration !== undefined) android.ttl = ttlUntil(job.apns.expiration, nowMs);
  const message: FcmMessage = { data, android };
  const { alert } = job.aps;
  if (pushType !== 'background' && alert !== undefined) {
    const shown = typeof alert === 'string' ? { body: alert } : { title: alert.title, body: alert.body };
    const notification = dropUndefined(shown);
    if (Object.keys(notification).length > 0) message.notification = notification;
    android.notification = dropUndefined({
      tag: collapseId(job),
      ...(typeof alert === 'string'
        ? {}
        : {
            title_loc_key: alert['title-loc-key'],
            title_loc_args: alert['title-loc-args'],
            body_loc_key: alert['loc-key'],
            body_loc_args: alert['loc-args'],
          }),
      sound: typeof job.aps.sound === 'object' ? job.aps.sound.name : job.aps.sound,
      notification_count: job.aps.badge,
    });
  }
  const override = job.android;
  if (override !== undefined) {
    const { notification, data: androidData, ...rest } = override;
    Object.assign(android, rest);
    if (notification !== undefined) android.notification = { ...android.notification, ...notification };
    if (androidData !== undefined) android.data = { ...androidData, pushgate: data.pushgate as string };
  }
  const bytes = Buffer.byteLength(JSON.stringify(message));
  if (bytes > FCM_PAYLOAD_LIMIT) throw new PayloadTooLargeError(bytes, FCM_PAYLOAD_LIMIT, 'FCM');
  return message;
}

/**
 * The HTTP body for one device: `{"message": {"token": …, …message}}`. The message
 * is serialised once per job; each device only splices its token in.
 */
export function fcmRequestBodies(message: FcmMessage): (token: string) => string {
  const rest = JSON.stringify(message).slice(1);
  return (token) => `{"message":{"token":${JSON.stringify(token)},${rest}}`;
}

function fcmData(job: SendJob): Record<string, string> {
  const entries = Object.entries(job.data ?? {}).map(([key, value]): [string, string] => {
    if (RESERVED_DATA_KEY.test(key)) {
      throw new InvalidRequestError(
        `"data.${key}": FCM reserves this key (from, notification, message_type and keys starting with google or gcm) and refuses a message using it. Rename it.`,
        'ReservedDataKey',
      );
    }
    return [key, typeof value === 'string' ? value : JSON.stringify(value)];
  });
  // fromEntries defines each key as the object's own, `__proto__` included.
  return Object.fromEntries([...entries, ['pushgate', JSON.stringify({ id: job.notificationId })]]);
}

/** `apns-expiration` is a moment (UNIX seconds, 0 = now or never); FCM's ttl is the time left. */
function ttlUntil(expiration: number, nowMs: number): string {
  if (expiration === 0) return '0s';
  const left = Math.max(0, expiration - Math.floor(nowMs / 1000));
  return `${Math.min(left, MAX_FCM_TTL_SECONDS)}s`;
}

function dropUndefined<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as Partial<T>;
}
