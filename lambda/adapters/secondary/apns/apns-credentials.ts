import { readFileSync } from 'node:fs';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import * as z from 'zod/mini';
import '../../../validation';
import type { AppConfig } from '../../../config';
import { config } from '../../../config';
import type { ApnsEnvironment } from '../../../domain/device';
import { APPLE_ENDPOINTS, type ApnsCredentials, type ApnsEndpoint } from './apns-gateway';

/**
 * Where an app's APNs credentials live: `secretsmanager:<secret ARN or name>`
 * (deployed; cached five minutes so a rotated key is picked up) or `file:<path>`
 * (offline). The secret is JSON: `{"keyId","teamId","key"}` (token auth, the .p8
 * key as PEM) or `{"cert","key","passphrase"?}` (certificate auth, PEM).
 */
const credentialsSchema = z.union([
  z.strictObject({
    keyId: z.string().check(z.length(10)),
    teamId: z.string().check(z.length(10)),
    key: z.string(),
  }),
  z.strictObject({ cert: z.string(), key: z.string(), passphrase: z.optional(z.string()) }),
]);

export class CredentialsUnavailableError extends Error {
  constructor(
    readonly appId: string,
    cause: unknown,
  ) {
    super(`APNs credentials of ${appId} could not be loaded`, { cause });
  }
}

/** Loaded credentials by source, kept five minutes (as the secret cache): a rotated key is picked up. */
const loaded = new Map<string, { credentials: ApnsCredentials; until: number }>();
const CACHE_MS = 300_000;

export async function loadCredentials(app: AppConfig): Promise<ApnsCredentials> {
  const cached = app.credentials === undefined ? undefined : loaded.get(app.credentials);
  if (cached !== undefined && cached.until > Date.now()) return cached.credentials;
  const credentials = await readCredentials(app);
  if (app.credentials !== undefined)
    loaded.set(app.credentials, { credentials, until: Date.now() + CACHE_MS });
  return credentials;
}

async function readCredentials(app: AppConfig): Promise<ApnsCredentials> {
  const source = app.credentials;
  try {
    if (source === undefined) throw new Error('no credentials configured');
    let text: string | Uint8Array | undefined;
    if (source.startsWith('file:')) text = readFileSync(source.slice('file:'.length), 'utf8');
    else if (source.startsWith('secretsmanager:')) {
      text = await getSecret(source.slice('secretsmanager:'.length), { maxAge: 300 });
    } else throw new Error('credentials source must start with file: or secretsmanager:');
    const parsed = credentialsSchema.parse(
      JSON.parse(typeof text === 'string' ? text : Buffer.from(text ?? '').toString('utf8')),
    );
    return 'keyId' in parsed ? { kind: 'token', ...parsed } : { kind: 'certificate', ...parsed };
  } catch (error) {
    throw new CredentialsUnavailableError(app.appId, error);
  }
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
