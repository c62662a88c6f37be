import * as z from 'zod';
import { faultScriptSchema, faultsRoute, type LocalAnswer } from './faults-route';
import type { FcmSimulator } from './fcm-simulator/simulator';

/**
 * `/_local/fcm/faults`: script how the FCM simulator misbehaves — the same
 * `connection` faults as the APNs simulator's, and per-token answers with an FCM
 * status and errorCode. POST replaces the script and answers like GET; GET answers
 * `{script, done}`; DELETE clears every fault (204).
 */
export const FCM_FAULTS_PATH = '/_local/fcm/faults';

// FCM tokens are case-sensitive: kept exactly as given.
const scriptSchema = faultScriptSchema(
  z.string().min(1).max(4096),
  z.strictObject({
    status: z.number().int().min(400).max(599),
    errorCode: z
      .string()
      .regex(/^[A-Z][A-Z_]{0,63}$/, 'an FCM errorCode such as UNREGISTERED')
      .optional(),
    message: z.string().min(1).max(500).optional(),
    retryAfter: z.number().int().min(0).max(86_400).optional(),
    times: z.number().int().min(0).optional(),
  }),
);

export function fcmFaultsRoute(simulator: FcmSimulator, method: string, body: string): LocalAnswer {
  return faultsRoute(simulator, scriptSchema, method, body);
}
