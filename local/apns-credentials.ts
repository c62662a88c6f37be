import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * A fresh APNs provider key (ES256, like a .p8 from Apple) written as the
 * credentials file the sender reads offline; the public half goes to the
 * simulator, which verifies the JWTs signed with it.
 */
export function createLocalProviderKey(path: string, keyId = 'LOCALKEY01', teamId = 'LOCALTEAM1') {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify({ keyId, teamId, key }), { mode: 0o600 });
  return { keyId, teamId, publicKey: publicKey.export({ type: 'spki', format: 'pem' }) as string, path };
}
