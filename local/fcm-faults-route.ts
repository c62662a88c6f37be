import * as z from 'zod';
import type { LocalAnswer } from './apns-faults-route';
import type { FcmSimulator } from './fcm-simulator/simulator';

/**
 * `/_local/fcm/faults`: script how the FCM simulator misbehaves — the same
 * `connection` faults as the APNs simulator's, per-token answers with an FCM
 * status and errorCode, and `tokenEndpoint` faults of the OAuth token endpoint
 * (`{status, error}` or `{stall: true}`, optionally `times`). POST replaces the script and answers like GET; GET answers
 * `{script, done}`; DELETE clears every fault (204).
 */
export const FCM_FAULTS_PATH = '/_local/fcm/faults';

const every = z.number().int().min(1);
const scriptSchema = z.strictObject({
  tokenEndpoint: z
    .strictObject({
      status: z.number().int().min(400).max(599).optional(),
      error: z
        .string()
        .regex(/^[a-z][a-z_]{0,63}$/, 'an OAuth error such as invalid_grant')
        .optional(),
      stall: z.boolean().optional(),
      times: z.number().int().min(0).optional(),
    })
    .optional(),
  connection: z
    .strictObject({
      goawayEvery: every.optional(),
      resetEvery: every.optional(),
      stallEvery: every.optional(),
    })
    .optional(),
  tokens: z
    .record(
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
    )
    .optional(),
});

export function fcmFaultsRoute(simulator: FcmSimulator, method: string, body: string): LocalAnswer {
  if (method === 'GET') return { status: 200, body: simulator.faultReport() };
  if (method === 'DELETE') {
    simulator.clearFaults();
    return { status: 204 };
  }
  if (method !== 'POST') return failure(405, 'MethodNotAllowed', 'Use GET, POST or DELETE.');
  let value: unknown;
  try {
    value = JSON.parse(body || '{}');
  } catch {
    return failure(400, 'MalformedJson', 'The request body is not valid JSON.');
  }
  const parsed = scriptSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') || 'body';
    return failure(400, 'InvalidFaultScript', `${where}: ${issue?.message ?? 'invalid'}`);
  }
  // FCM tokens are case-sensitive: kept exactly as given.
  simulator.setFaults(parsed.data);
  return { status: 200, body: simulator.faultReport() };
}

function failure(status: number, code: string, message: string): LocalAnswer {
  return { status, body: { error: { code, message } } };
}
