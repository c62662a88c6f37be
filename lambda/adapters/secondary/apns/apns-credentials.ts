import { readFileSync } from 'node:fs';
import * as z from 'zod/mini';
import '../../../validation';
import { config } from '../../../config';
import type { AppConfig } from '../../../domain/app';
import type { ApnsEnvironment } from '../../../domain/device';
import { CredentialsUnavailableError } from '../../../domain/errors';
import { credentialsCache, describeSource, readCredentialsJson } from '../credentials-source';
import { APPLE_ENDPOINTS, type ApnsCredentials, type ApnsEndpoint } from './apns-gateway';

/**
 * An app's APNs credentials, from its credentials source (credentials-source.ts):
 * `{"keyId","teamId","key"}` (token auth, the .p8 key as PEM) or
 * `{"cert","key","passphrase"?}` (certificate auth, PEM).
 */
const credentialsSchema = z.union([
  z.strictObject({
    keyId: z.string().check(z.length(10)),
    teamId: z.string().check(z.length(10)),
    key: z.string(),
  }),
  z.strictObject({ cert: z.string(), key: z.string(), passphrase: z.optional(z.string()) }),
]);

const cached = credentialsCache<ApnsCredentials>();

export async function loadCredentials(app: AppConfig): Promise<ApnsCredentials> {
  const source = app.credentials;
  if (source === undefined) {
    const cause = new Error('no credentials configured');
    throw new CredentialsUnavailableError(app.appId, cause, 'nowhere (no credentials configured)');
  }
  return cached(source, async () => {
    try {
      const value = await readCredentialsJson(source, {
        notJson: 'the value is not JSON; it must be {"keyId","teamId","key"} or {"cert","key"}.',
        placeholder:
          'it still holds the placeholder the stack created. Put the app’s APNs key in it: {"keyId","teamId","key"} (the .p8 key as PEM) or {"cert","key"}.',
      });
      const parsed = credentialsSchema.safeParse(value);
      if (!parsed.success) {
        throw new Error(
          'the value is neither {"keyId","teamId","key"} (10-character key and team ids) nor {"cert","key","passphrase"?}.',
        );
      }
      const credentials = parsed.data;
      return 'keyId' in credentials
        ? { kind: 'token', ...credentials }
        : { kind: 'certificate', ...credentials };
    } catch (error) {
      throw new CredentialsUnavailableError(app.appId, error, describeSource(source));
    }
  });
}

let ca: string | undefined;

/** Apple's hosts, or — offline and in tests — the simulator named by APNS_ENDPOINTS. */
export function apnsEndpoint(environment: ApnsEnvironment): ApnsEndpoint {
  const endpoints = config.apnsEndpoints;
  if (endpoints === undefined) return APPLE_ENDPOINTS[environment];
  const caFile = config.apnsCaFile;
  if (caFile !== undefined && ca === undefined) ca = readFileSync(caFile, 'utf8');
  return { address: endpoints[environment], ...(ca === undefined ? {} : { ca }) };
}
