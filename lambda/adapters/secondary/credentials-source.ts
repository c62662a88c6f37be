import { readFileSync } from 'node:fs';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { isCredentialsPlaceholder } from './apns/credentials-placeholder';

/**
 * Where an app's APNs or FCM credentials live: `secretsmanager:<secret ARN or name>`
 * (deployed) or `file:<path>` (offline), holding JSON. What was read is kept one
 * minute, as long as the secret cache keeps the value, so a filled-in or rotated key
 * is picked up within a minute.
 */
export const CACHE_SECONDS = 60;

/** Where credentials were looked for, in words an operator can act on — never their content. */
export function describeSource(source: string): string {
  if (source.startsWith('secretsmanager:')) return `the secret ${source.slice('secretsmanager:'.length)}`;
  return source;
}

/** What to tell the operator when the value is not what the provider needs, in its words. */
export interface ExpectedCredentials {
  /** The value is not JSON: what it must be. */
  notJson: string;
  /** The value is still the placeholder the stack created: what to put in it. */
  placeholder: string;
}

/**
 * The JSON value at a credentials source. Errors never quote the value (JSON.parse's
 * own message would): it may hold a private key.
 */
export async function readCredentialsJson(source: string, expected: ExpectedCredentials): Promise<unknown> {
  let text: string | Uint8Array | undefined;
  if (source.startsWith('file:')) text = readFileSync(source.slice('file:'.length), 'utf8');
  else if (source.startsWith('secretsmanager:')) {
    text = await getSecret(source.slice('secretsmanager:'.length), { maxAge: CACHE_SECONDS });
  } else throw new Error('credentials source must start with file: or secretsmanager:');
  let value: unknown;
  try {
    value = JSON.parse(typeof text === 'string' ? text : Buffer.from(text ?? '').toString('utf8'));
  } catch {
    throw new Error(expected.notJson);
  }
  if (isCredentialsPlaceholder(value)) throw new Error(expected.placeholder);
  return value;
}

/** Loaded credentials by a key naming their source, each kept one minute; failures are not kept. */
export function credentialsCache<Credentials>(): (
  key: string,
  load: () => Promise<Credentials>,
) => Promise<Credentials> {
  const loaded = new Map<string, { credentials: Credentials; until: number }>();
  return async (key, load) => {
    const cached = loaded.get(key);
    if (cached !== undefined && cached.until > Date.now()) return cached.credentials;
    const credentials = await load();
    loaded.set(key, { credentials, until: Date.now() + CACHE_SECONDS * 1000 });
    return credentials;
  };
}
