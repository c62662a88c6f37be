import type { PushAnswer } from '../../domain/apns-answer';
import { APNS_ENVIRONMENTS } from '../../domain/device';
import { JobFailedError } from '../../domain/errors';
import { type PushDevice, platformOf } from '../../domain/push-device';
import { logger } from '../../observability';
import type { Delivery } from './plan';
import { pushToDevices } from './push';
import { pushToAndroidDevices } from './push-fcm';

/** Why an Android device of a chunk gets nothing: its app has no FCM project (any more). */
export const FCM_NOT_CONFIGURED = 'FcmNotConfigured';

/** Devices of a chunk whose platform or APNs environment refused the whole job while others were pushed to. */
export interface RefusedPlatform {
  devices: PushDevice[];
  error: JobFailedError;
}

/**
 * Step 3, send, for a chunk of any platforms: iOS devices through APNs (push.ts), one
 * call per environment, and Android ones through FCM (push-fcm.ts), all at once; the
 * answers come back in the order of the devices returned, so settling sees one list
 * whatever the platform. The devices returned are those pushed to: an Android device of
 * an app without FCM is counted (`unregistered`, FcmNotConfigured) and left out.
 *
 * A fatal answer (JobFailedError) stops the job once every call is done — unless
 * another call pushed to devices: then its answers are returned, and the devices of
 * each refusing call as `refused`, to be dead-lettered alone (requeue.ts,
 * deadLetterRefused). Dead-lettering the whole job would have its redrive push again to
 * devices already reached: an iPhone when FCM refused the job, a production device when
 * a key was made for production only and the sandbox refused it.
 */
export async function pushByPlatform(
  delivery: Delivery,
  devices: readonly PushDevice[],
): Promise<{ devices: PushDevice[]; answers: PushAnswer[]; refused?: RefusedPlatform[] }> {
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
  const calls: { devices: PushDevice[]; push: () => Promise<PushAnswer[]> }[] = [];
  for (const environment of APNS_ENVIRONMENTS) {
    const group = ios.filter((device) => device.environment === environment);
    if (group.length > 0) calls.push({ devices: group, push: () => pushToDevices(delivery, group) });
  }
  if (fcmMessage !== undefined && reachable.length > 0)
    calls.push({ devices: reachable, push: () => pushToAndroidDevices(delivery, fcmMessage, reachable) });
  const results = await Promise.allSettled(calls.map((call) => call.push()));
  const pushed: { devices: PushDevice[]; answers: PushAnswer[] } = { devices: [], answers: [] };
  const refused: RefusedPlatform[] = [];
  const failures: unknown[] = [];
  results.forEach((result, i) => {
    const call = calls[i] as (typeof calls)[number];
    if (result.status === 'fulfilled') {
      pushed.devices.push(...call.devices);
      pushed.answers.push(...result.value);
    } else {
      failures.push(result.reason);
      if (result.reason instanceof JobFailedError)
        refused.push({ devices: call.devices, error: result.reason });
    }
  });
  if (failures.length === 0) return pushed;
  // Anything but a refusal of the job (the message is retried whole), or nothing pushed at all.
  if (refused.length < failures.length || pushed.devices.length === 0) throw failures[0];
  return { ...pushed, refused };
}
