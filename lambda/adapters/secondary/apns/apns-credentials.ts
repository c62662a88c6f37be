import { readFileSync } from 'node:fs';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import * as z from 'zod/mini';
import '../../../validation';
import type { AppConfig } from '../../../config';
import { config } from '../../../config';
import type { ApnsEnvironment } from '../../../domain/device';
import { CredentialsUnavailableError } from '../../../domain/errors';
import { APPLE_ENDPOINTS, type ApnsCredentials, type ApnsEndpoint } from './apns-gateway';
import { isCredentialsPlaceholder } from './credentials-placeholder';

/**
 * Where an app's APNs credentials live: `secretsmanager:<secret ARN or name>`
 * (deployed; cached one minute, so a filled-in or rotated key is picked up within a
 * minute) or `file:<path>` (offline). The secret is JSON: `{"keyId","teamId","key"}`
 * (token auth, the .p8 key as PEM) or `{"cert","key","passphrase"?}` (certificate
 * auth, PEM).
 */
const credentialsSchema = z.union([
  z.strictObject({
    keyId: z.string().check(z.length(10)),
    teamId: z.string().check(z.length(10)),
    key: z.string(),
  }),
  z.strictObject({ cert: z.string(), key: z.string(), passphrase: z.optional(z.string()) }),
]);

/** Where credentials were looked for, in words an operator can act on — never their content. */
function describeSource(source: string | undefined): string {
  if (source === undefined) return 'nowhere (no credentials configured)';
  if (source.startsWith('secretsmanager:')) return `the secret ${source.slice('secretsmanager:'.length)}`;
  return source;
}

/** Loaded credentials by source, kept one minute (as the secret cache): a rotated key is picked up. */
const loaded = new Map<string, { credentials: ApnsCredentials; until: number }>();
const CACHE_SECONDS = 60;

export async function loadCredentials(app: AppConfig): Promise<ApnsCredentials> {
  const cached = app.credentials === undefined ? undefined : loaded.get(app.credentials);
  if (cached !== undefined && cached.until > Date.now()) return cached.credentials;
  const credentials = await readCredentials(app);
  if (app.credentials !== undefined)
    loaded.set(app.credentials, { credentials, until: Date.now() + CACHE_SECONDS * 1000 });
  return credentials;
}

async function readCredentials(app: AppConfig): Promise<ApnsCredentials> {
  const source = app.credentials;
  try {
    if (source === undefined) throw new Error('no credentials configured');
    let text: string | Uint8Array | undefined;
    if (source.startsWith('file:')) text = readFileSync(source.slice('file:'.length), 'utf8');
    else if (source.startsWith('secretsmanager:')) {
      text = await getSecret(source.slice('secretsmanager:'.length), { maxAge: CACHE_SECONDS });
    } else throw new Error('credentials source must start with file: or secretsmanager:');
    let value: unknown;
    try {
      value = JSON.parse(typeof text === 'string' ? text : Buffer.from(text ?? '').toString('utf8'));
    } catch {
      // JSON.parse's own message quotes the text, which may be a key.
      throw new Error('the value is not JSON; it must be {"keyId","teamId","key"} or {"cert","key"}.');
    }
    if (isCredentialsPlaceholder(value)) {
      throw new Error(
        'it still holds the placeholder the stack created. Put the app’s APNs key in it: {"keyId","teamId","key"} (the .p8 key as PEM) or {"cert","key"}.',
      );
    }
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
