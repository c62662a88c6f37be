import * as z from 'zod';
import type { ApnsSimulator } from './apns-simulator/simulator';

/**
 * `/_local/apns/faults`: script how the APNs simulator misbehaves (see
 * apns-simulator/faults.ts). POST replaces the script and answers like GET; GET
 * answers `{script, done}`; DELETE clears every fault (204).
 */
export const APNS_FAULTS_PATH = '/_local/apns/faults';

const every = z.number().int().min(1);
const scriptSchema = z.strictObject({
  connection: z
    .strictObject({
      goawayEvery: every.optional(),
      resetEvery: every.optional(),
      stallEvery: every.optional(),
    })
    .optional(),
  tokens: z
    .record(
      z.string().regex(/^[0-9a-fA-F]{1,400}$/, 'a device token in hex'),
      z.strictObject({
        status: z.number().int().min(400).max(599),
        reason: z.string().min(1).max(100).optional(),
        timestamp: z.number().int().min(0).optional(),
        retryAfter: z.number().int().min(0).max(86_400).optional(),
        times: z.number().int().min(0).optional(),
      }),
    )
    .optional(),
});

export interface LocalAnswer {
  status: number;
  body?: unknown;
}

export function apnsFaultsRoute(
  simulator: ApnsSimulator | undefined,
  method: string,
  body: string,
): LocalAnswer {
  if (simulator === undefined) {
    return failure(
      409,
      'SimulatorNotRunning',
      'Faults script the APNs simulator; the real APNs sandbox is in use.',
    );
  }
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
  const { connection, tokens } = parsed.data;
  simulator.setFaults({
    ...(connection === undefined ? {} : { connection }),
    // Tokens are lower-case hex everywhere in pushgate.
    ...(tokens === undefined
      ? {}
      : {
          tokens: Object.fromEntries(
            Object.entries(tokens).map(([token, answer]) => [token.toLowerCase(), answer]),
          ),
        }),
  });
  return { status: 200, body: simulator.faultReport() };
}

function failure(status: number, code: string, message: string): LocalAnswer {
  return { status, body: { error: { code, message } } };
}
