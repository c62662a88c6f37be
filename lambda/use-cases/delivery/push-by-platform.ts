import type { ApnsOutcome } from '../../domain/apns-outcome';
import { JobFailedError } from '../../domain/errors';
import { type DeviceTarget, platformOf } from '../../domain/job-part';
import { logger } from '../../observability';
import type { Delivery } from './plan';
import { pushToDevices } from './push';
import { pushToAndroidDevices } from './push-fcm';

/** Why an Android device of a chunk gets nothing: its app has no FCM project (any more). */
export const FCM_NOT_CONFIGURED = 'FcmNotConfigured';

/** A platform that refused the whole job while the chunk's other platform was pushed to. */
export interface RefusedPlatform {
  devices: DeviceTarget[];
  error: JobFailedError;
}

/**
 * Step 3, send, for a chunk of any platforms: iOS devices through APNs (push.ts),
 * Android ones through FCM (push-fcm.ts), both at once; the outcomes come back in
 * device order, so settling sees one list whatever the platform. The devices
 * returned are those pushed to: an Android device of an app without FCM is counted
 * (`unregistered`, FcmNotConfigured) and left out. A fatal outcome stops the job
 * (JobFailedError) once both sides are done — unless the other side pushed to devices:
 * then those outcomes are returned, and the refusing side's devices as `refused`, to be
 * dead-lettered alone (requeue.ts, deadLetterRefused). Dead-lettering the whole job
 * would have a redrive push again to the devices the other side already reached.
 */
export async function pushByPlatform(
  delivery: Delivery,
  devices: readonly DeviceTarget[],
): Promise<{ devices: DeviceTarget[]; outcomes: ApnsOutcome[]; refused?: RefusedPlatform }> {
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
  const [iosResult, androidResult] = await Promise.allSettled([
    ios.length === 0 ? Promise.resolve([]) : pushToDevices(delivery, ios),
    fcmMessage === undefined ? Promise.resolve([]) : pushToAndroidDevices(delivery, fcmMessage, reachable),
  ]);
  if (iosResult.status === 'fulfilled' && androidResult.status === 'fulfilled')
    return { devices: [...ios, ...reachable], outcomes: [...iosResult.value, ...androidResult.value] };
  if (iosResult.status === 'fulfilled' && ios.length > 0 && isJobFailure(androidResult))
    return {
      devices: ios,
      outcomes: iosResult.value,
      refused: { devices: reachable, error: androidResult.reason },
    };
  if (androidResult.status === 'fulfilled' && reachable.length > 0 && isJobFailure(iosResult))
    return {
      devices: reachable,
      outcomes: androidResult.value,
      refused: { devices: ios, error: iosResult.reason },
    };
  throw iosResult.status === 'rejected' ? iosResult.reason : (androidResult as PromiseRejectedResult).reason;
}

function isJobFailure(
  result: PromiseSettledResult<unknown>,
): result is PromiseRejectedResult & { reason: JobFailedError } {
  return result.status === 'rejected' && result.reason instanceof JobFailedError;
}
