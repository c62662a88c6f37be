import { fatalAnswer, type PushAnswer } from '../../domain/apns-answer';
import { JobFailedError } from '../../domain/errors';
import {
  classifyFcmAnswer,
  FCM_ACCESS_TOKEN_REFUSED,
  fcmRetryAtOnce,
  type RawFcmAnswer,
} from '../../domain/fcm-answer';
import { type FcmMessage, fcmRequestBodies } from '../../domain/fcm-message';
import type { PushDevice } from '../../domain/push-device';
import type { PushConnection } from '../ports/push-providers';
import type { Delivery } from './plan';

/**
 * Step 3, send, for Android devices: the job's FCM message to every device over the
 * app's warm FCM session; one answer per device, in device order, classified into the same kinds
 * as APNs's, so settling, retries, pruning and tracking are the same code.
 * - A credential refusal (401/403) is sent again at once: the gateway has dropped the
 *   access token, so the second request carries a fresh one. Refused again, the job
 *   stops (JobFailedError with FCM's code: the DLQ, and the FcmCredentialFailures alarm).
 * - The OAuth token endpoint refusing the key (invalid_grant) is a credential refusal
 *   too: asked once more, then the job stops (AccessTokenRefused, same alarm). Failing
 *   otherwise (5xx, a timeout) it is a retryable answer for every device: never a prune.
 * - A message FCM refuses (INVALID_ARGUMENT about the message) stops the job too,
 *   with FCM's reason: nothing of the chunk is settled, a redrive sends it whole.
 * - UNREGISTERED carries the moment the push left, so a device registered again
 *   since is kept (settle.ts).
 */
export async function pushToAndroidDevices(
  delivery: Delivery,
  message: FcmMessage,
  devices: readonly PushDevice[],
): Promise<PushAnswer[]> {
  if (devices.length === 0) return [];
  const connection = await connectionFor(delivery);
  const request = { headers: { 'content-type': 'application/json' }, body: fcmRequestBodies(message) };
  const tokens = devices.map((device) => device.token);
  const sentAt = Date.now();
  const answers = await connection.sendAll(request, tokens);
  const again = answers.flatMap((answer, i) => (fcmRetryAtOnce(answer, sentAt) ? [i] : []));
  if (again.length > 0) {
    const second = await connection.sendAll(
      request,
      again.map((i) => tokens[i] as string),
    );
    again.forEach((i, j) => {
      answers[i] = second[j] as RawFcmAnswer;
    });
  }
  const classified = answers.map((answer) => classifyFcmAnswer(answer, sentAt));
  const fatal = fatalAnswer(classified);
  if (fatal !== undefined) {
    if (fatal.reason === FCM_ACCESS_TOKEN_REFUSED) {
      throw new JobFailedError(
        fatal.reason,
        "The OAuth token endpoint refused the app's FCM service-account key twice (invalid_grant, invalid_client or unauthorized_client: a deleted or disabled key, or the wrong account); nothing was sent. Put a working key in the app's FCM secret, then redrive.",
      );
    }
    const detail = fatal.kind === 'job-error' && fatal.detail !== undefined ? ` (${fatal.detail})` : '';
    throw new JobFailedError(
      fatal.reason,
      `FCM answered ${fatal.status} ${fatal.reason}${detail}; the job stops here.`,
    );
  }
  return classified;
}

function connectionFor(delivery: Delivery): Promise<PushConnection<RawFcmAnswer>> {
  return delivery.ports.pushProviders.fcm(delivery.app);
}
