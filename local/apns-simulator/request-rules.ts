import type http2 from 'node:http2';
import { LIVE_ACTIVITY_PAYLOAD_REASON, liveActivityPayloadProblem } from './live-activity-rules';

/**
 * The provider API's rules for one request, as APNs answers them: the path, the device
 * token's form, the `apns-*` headers (topic per push type, priority, collapse id,
 * expiration, id) and the payload (size per push type, JSON, Live Activity content).
 * Pure functions of the request, apart from the simulator's state (faults, tokens
 * programmed to one environment), so they change only when Apple's rules do. The
 * simulator applies them in APNs's order, with authentication and faults between.
 */

export interface Refusal {
  status: number;
  reason: string;
}

const PAYLOAD_LIMIT = 4096;
const VOIP_PAYLOAD_LIMIT = 5120;
const PUSH_TYPE_SUFFIX: Record<string, string> = {
  alert: '',
  background: '',
  voip: '.voip',
  complication: '.complication',
  fileprovider: '.pushkit.fileprovider',
  mdm: '',
  liveactivity: '.push-type.liveactivity',
  pushtotalk: '.voip-ptt',
  location: '.location-query',
  widgets: '.push-type.widgets',
  controls: '.push-type.controls',
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DEVICE_PATH = '/3/device/';

/** The device token a request's path names ('' when it names none). */
export function deviceTokenOf(headers: http2.IncomingHttpHeaders): string {
  const path = String(headers[':path'] ?? '');
  return path.startsWith(DEVICE_PATH) ? path.slice(DEVICE_PATH.length) : '';
}

/** The method and path: APNs judges these before the provider token. */
export function requestTargetProblem(headers: http2.IncomingHttpHeaders, token: string): Refusal | undefined {
  const path = String(headers[':path'] ?? '');
  if (headers[':method'] !== 'POST') return { status: 405, reason: 'MethodNotAllowed' };
  if (!path.startsWith(DEVICE_PATH)) return { status: 404, reason: 'BadPath' };
  if (token === '') return { status: 400, reason: 'MissingDeviceToken' };
  return undefined;
}

/** A device token APNs could never have issued (hex, even length, 32–400 characters). */
export function deviceTokenProblem(token: string): Refusal | undefined {
  if (!/^[0-9a-f]+$/.test(token) || token.length % 2 !== 0 || token.length < 32 || token.length > 400) {
    return { status: 400, reason: 'BadDeviceToken' };
  }
  return undefined;
}

/** The headers and payload; `bundleIds` are the topics the keys may push to (any when absent). */
export function notificationProblem(
  headers: http2.IncomingHttpHeaders,
  body: Buffer,
  bundleIds: readonly string[] | undefined,
): Refusal | undefined {
  const topic = headers['apns-topic'];
  if (typeof topic !== 'string' || topic === '') return { status: 400, reason: 'MissingTopic' };
  const pushType = String(headers['apns-push-type'] ?? 'alert');
  const suffix = PUSH_TYPE_SUFFIX[pushType];
  if (suffix === undefined) return { status: 400, reason: 'InvalidPushType' };
  if (suffix && !topic.endsWith(suffix)) return { status: 400, reason: 'BadTopic' };
  const bundleId = suffix ? topic.slice(0, -suffix.length) : topic;
  if (bundleIds && !bundleIds.includes(bundleId)) {
    return { status: 400, reason: 'TopicDisallowed' };
  }
  const priority = String(headers['apns-priority'] ?? '10');
  if (!['10', '5', '1'].includes(priority)) return { status: 400, reason: 'BadPriority' };
  if (pushType === 'background' && priority === '10') return { status: 400, reason: 'BadPriority' };
  const collapseId = headers['apns-collapse-id'];
  if (typeof collapseId === 'string' && Buffer.byteLength(collapseId) > 64) {
    return { status: 400, reason: 'BadCollapseId' };
  }
  const expiration = headers['apns-expiration'];
  if (expiration !== undefined && !/^\d+$/.test(String(expiration)))
    return { status: 400, reason: 'BadExpirationDate' };
  if (headers['apns-id'] !== undefined && !UUID.test(String(headers['apns-id']))) {
    return { status: 400, reason: 'BadMessageId' };
  }
  if (body.length === 0) return { status: 400, reason: 'PayloadEmpty' };
  if (body.length > (pushType === 'voip' ? VOIP_PAYLOAD_LIMIT : PAYLOAD_LIMIT)) {
    return { status: 413, reason: 'PayloadTooLarge' };
  }
  let payload: unknown;
  try {
    payload = JSON.parse(body.toString('utf8'));
  } catch {
    return { status: 400, reason: 'PayloadEmpty' };
  }
  if (pushType === 'liveactivity' && liveActivityPayloadProblem(payload) !== undefined) {
    return { status: 400, reason: LIVE_ACTIVITY_PAYLOAD_REASON };
  }
  return undefined;
}
