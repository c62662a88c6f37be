import type { ApnsOutcome } from '../../domain/apns-outcome';
import { type DeviceTarget, platformOf } from '../../domain/job-part';
import { logger } from '../../observability';
import type { Delivery } from './plan';
import { pushToDevices } from './push';
import { pushToAndroidDevices } from './push-fcm';

/** Why an Android device of a chunk gets nothing: its app has no FCM project (any more). */
export const FCM_NOT_CONFIGURED = 'FcmNotConfigured';

/**
 * Step 3, send, for a chunk of any platforms: iOS devices through APNs (push.ts),
 * Android ones through FCM (push-fcm.ts), both at once; the outcomes come back in
 * device order, so settling sees one list whatever the platform. The devices
 * returned are those pushed to: an Android device of an app without FCM is counted
 * (`unregistered`, FcmNotConfigured) and left out. A fatal outcome on either side
 * stops the job (JobFailedError) once both sides are done.
 */
export async function pushByPlatform(
  delivery: Delivery,
  devices: readonly DeviceTarget[],
): Promise<{ devices: DeviceTarget[]; outcomes: ApnsOutcome[] }> {
  const ios = devices.filter((device) => platformOf(device) === 'ios');
  const android = devices.filter((device) => platformOf(device) === 'android');
  const { fcmMessage } = delivery;
  const reachable = fcmMessage === undefined ? [] : android;
  if (reachable.length < android.length) {
    delivery.tally.add('unregistered', FCM_NOT_CONFIGURED, android.length);
    logger.warn('Android devices get nothing: the app has no FCM project', {
      notificationId: delivery.jobPart.job.notificationId,
      appId: delivery.app.appId,
      devices: android.length,
    });
  }
  const [iosOutcomes, androidOutcomes] = await allSettledOrThrow(
    ios.length === 0 ? Promise.resolve([]) : pushToDevices(delivery, ios),
    fcmMessage === undefined ? Promise.resolve([]) : pushToAndroidDevices(delivery, fcmMessage, reachable),
  );
  return { devices: [...ios, ...reachable], outcomes: [...iosOutcomes, ...androidOutcomes] };
}

/** Both results; if either failed, the first failure — thrown only once neither is still sending. */
async function allSettledOrThrow<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [first, second] = await Promise.allSettled([a, b]);
  if (first.status === 'rejected') throw first.reason;
  if (second.status === 'rejected') throw second.reason;
  return [first.value, second.value];
}
