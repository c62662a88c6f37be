import { createHash } from 'node:crypto';
import { PayloadTooLargeError } from './errors';
import { defaultLiveActivityPriority } from './live-activity';
import type { PushType, SendJob } from './send-job';

/** What pushgate sends to APNs for every device of a job: the same headers and body. */
export interface ApnsRequest {
  headers: Record<string, string>;
  body: string;
}

const TOPIC_SUFFIX: Record<PushType, string> = {
  alert: '',
  background: '',
  mdm: '',
  voip: '.voip',
  complication: '.complication',
  fileprovider: '.pushkit.fileprovider',
  liveactivity: '.push-type.liveactivity',
  pushtotalk: '.voip-ptt',
  location: '.location-query',
  widgets: '.push-type.widgets',
  controls: '.push-type.controls',
};

export function payloadLimit(pushType: PushType): number {
  return pushType === 'voip' ? 5120 : 4096;
}

export function apnsTopic(bundleId: string, pushType: PushType): string {
  return `${bundleId}${TOPIC_SUFFIX[pushType]}`;
}

/**
 * The collapse id defaults to the notification id, so a device shows one
 * notification however many times it is delivered (SQS redelivery, re-push).
 */
export function collapseId(job: SendJob): string {
  if (job.apns?.collapseId !== undefined) return job.apns.collapseId;
  if (Buffer.byteLength(job.notificationId) <= 64) return job.notificationId;
  return createHash('sha256').update(job.notificationId).digest('hex');
}

/**
 * The push type a job asks for. Without an explicit one, an `aps` that holds only
 * `content-available` is a background push (Apple requires that type, at priority
 * 5) — unless the job asks for priority 10, which only an alert push may use.
 */
export function pushTypeOf(job: SendJob): PushType {
  if (job.apns?.pushType !== undefined) return job.apns.pushType;
  const keys = Object.keys(job.aps);
  const backgroundOnly = keys.length === 1 && keys[0] === 'content-available';
  return backgroundOnly && job.apns?.priority !== 10 ? 'background' : 'alert';
}

/**
 * Compiles a job into the APNs request: `{aps, ...data, pushgate: {id}}` and the
 * apns-* headers. Refuses a payload over APNs's limit before anything is sent.
 */
export function compileApnsRequest(job: SendJob, bundleId: string): ApnsRequest {
  const pushType = pushTypeOf(job);
  const body = JSON.stringify({ ...job.data, aps: job.aps, pushgate: { id: job.notificationId } });
  const bytes = Buffer.byteLength(body);
  const limit = payloadLimit(pushType);
  if (bytes > limit) throw new PayloadTooLargeError(bytes, limit);
  const priority =
    job.apns?.priority ??
    (pushType === 'background'
      ? 5
      : pushType === 'liveactivity'
        ? defaultLiveActivityPriority(job.aps.event)
        : 10);
  const headers: Record<string, string> = {
    'apns-push-type': pushType,
    'apns-topic': apnsTopic(bundleId, pushType),
    'apns-priority': String(priority),
    'apns-collapse-id': collapseId(job),
  };
  if (job.apns?.expiration !== undefined) headers['apns-expiration'] = String(job.apns.expiration);
  return { headers, body };
}
