import { readFileSync } from 'node:fs';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import * as z from 'zod/mini';
import '../../../validation';
import type { AppConfig } from '../../../config';
import { config } from '../../../config';
import { CredentialsUnavailableError } from '../../../domain/errors';
import { isCredentialsPlaceholder } from '../apns/credentials-placeholder';
import { type FcmCredentials, type FcmEndpoint, GOOGLE_FCM_ENDPOINT } from './fcm-gateway';

/**
 * An app's FCM credentials: the Google service-account key JSON of its Firebase
 * project, from `secretsmanager:<secret ARN or name>` (deployed; cached one minute,
 * so a filled-in or rotated key is picked up within a minute) or `file:<path>`
 * (offline). Only the fields the token exchange needs are read; the rest of
 * Google's key file is allowed and ignored.
 */
const serviceAccountSchema = z.object({
  type: z.literal('service_account'),
  client_email: z.string().check(z.minLength(3)),
  private_key: z.string().check(z.minLength(1)),
  private_key_id: z.optional(z.string()),
  token_uri: z.optional(z.url({ protocol: /^https$/ })),
});

const CACHE_SECONDS = 60;
const loaded = new Map<string, { credentials: FcmCredentials; until: number }>();

export async function loadFcmCredentials(app: AppConfig): Promise<FcmCredentials> {
  const fcm = app.fcm;
  const source = fcm?.credentials;
  if (fcm === undefined || source === undefined) {
    const cause = new Error(
      fcm === undefined ? 'the app has no FCM configured' : 'no credentials configured',
    );
    throw new CredentialsUnavailableError(app.appId, cause, 'nowhere', 'FCM');
  }
  const cacheKey = `${fcm.projectId}|${source}`;
  const cached = loaded.get(cacheKey);
  if (cached !== undefined && cached.until > Date.now()) return cached.credentials;
  const where = source.startsWith('secretsmanager:')
    ? `the secret ${source.slice('secretsmanager:'.length)}`
    : source;
  try {
    let text: string | Uint8Array | undefined;
    if (source.startsWith('file:')) text = readFileSync(source.slice('file:'.length), 'utf8');
    else if (source.startsWith('secretsmanager:')) {
      text = await getSecret(source.slice('secretsmanager:'.length), { maxAge: CACHE_SECONDS });
    } else throw new Error('credentials source must start with file: or secretsmanager:');
    let value: unknown;
    try {
      value = JSON.parse(typeof text === 'string' ? text : Buffer.from(text ?? '').toString('utf8'));
    } catch {
      // JSON.parse's own message quotes the text, which may hold the private key.
      throw new Error('the value is not JSON; it must be a Google service-account key file.');
    }
    if (isCredentialsPlaceholder(value)) {
      throw new Error(
        "it still holds the placeholder the stack created. Put the Firebase project's service-account key JSON in it.",
      );
    }
    const parsed = serviceAccountSchema.safeParse(value);
    if (!parsed.success) {
      throw new Error(
        'the value is not a service-account key ({"type": "service_account", "client_email", "private_key", …}).',
      );
    }
    const key = parsed.data;
    const credentials: FcmCredentials = {
      projectId: fcm.projectId,
      serviceAccount: {
        project_id: fcm.projectId,
        client_email: key.client_email,
        private_key: key.private_key,
        ...(key.private_key_id === undefined ? {} : { private_key_id: key.private_key_id }),
        ...(key.token_uri === undefined ? {} : { token_uri: key.token_uri }),
      },
    };
    loaded.set(cacheKey, { credentials, until: Date.now() + CACHE_SECONDS * 1000 });
    return credentials;
  } catch (error) {
    throw new CredentialsUnavailableError(app.appId, error, where, 'FCM');
  }
}

let ca: string | undefined;

/** fcm.googleapis.com, or — offline and in tests — the simulator named by FCM_ENDPOINT. */
export function fcmEndpoint(): FcmEndpoint {
  const address = config.fcmEndpoint;
  if (address === undefined) return GOOGLE_FCM_ENDPOINT;
  const caFile = config.fcmCaFile;
  if (caFile !== undefined && ca === undefined) ca = readFileSync(caFile, 'utf8');
  return { address, ...(ca === undefined ? {} : { ca }) };
}
