import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * A fresh Google service-account key (RSA, in the JSON shape Google's console
 * downloads) whose `token_uri` is the FCM simulator's token endpoint, written as the
 * credentials file the sender reads offline; the public half goes to the simulator,
 * which checks the signature of the JWT assertions made with it.
 */
export function createLocalServiceAccount(path: string, projectId: string, tokenUri: string) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const clientEmail = `pushgate-local@${projectId}.iam.gserviceaccount.com`;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(
    path,
    JSON.stringify({
      type: 'service_account',
      project_id: projectId,
      private_key_id: randomBytes(20).toString('hex'),
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
      client_email: clientEmail,
      client_id: '100000000000000000000',
      token_uri: tokenUri,
    }),
    { mode: 0o600 },
  );
  return {
    path,
    account: {
      clientEmail,
      publicKey: publicKey.export({ type: 'spki', format: 'pem' }) as string,
      projectIds: [projectId],
    },
  };
}
