import * as z from 'zod';
import type { ApnsSimulator } from './apns-simulator/simulator';
import { faultScriptSchema, faultsRoute, type LocalAnswer, localError } from './faults-route';

/**
 * `/_local/apns/faults`: script how the APNs simulator misbehaves (see
 * apns-simulator/faults.ts). POST replaces the script and answers like GET; GET
 * answers `{script, done}`; DELETE clears every fault (204).
 */
export const APNS_FAULTS_PATH = '/_local/apns/faults';

const scriptSchema = faultScriptSchema(
  z.string().regex(/^[0-9a-fA-F]{1,400}$/, 'a device token in hex'),
  z.strictObject({
    status: z.number().int().min(400).max(599),
    reason: z.string().min(1).max(100).optional(),
    timestamp: z.number().int().min(0).optional(),
    retryAfter: z.number().int().min(0).max(86_400).optional(),
    times: z.number().int().min(0).optional(),
  }),
).transform(({ connection, tokens }) => ({
  ...(connection === undefined ? {} : { connection }),
  // Tokens are lower-case hex everywhere in pushgate.
  ...(tokens === undefined
    ? {}
    : {
        tokens: Object.fromEntries(
          Object.entries(tokens).map(([token, answer]) => [token.toLowerCase(), answer]),
        ),
      }),
}));

export function apnsFaultsRoute(
  simulator: ApnsSimulator | undefined,
  method: string,
  body: string,
): LocalAnswer {
  if (simulator === undefined) {
    return localError(
      409,
      'SimulatorNotRunning',
      'Faults script the APNs simulator; the real APNs sandbox is in use.',
    );
  }
  return faultsRoute(simulator, scriptSchema, method, body);
}
