import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The dev JWT issuer and audience. Neither names a port or a path that can change:
 * a JWT minted once keeps working across restarts and a new `PORT` (the signing key
 * is kept in the offline home too, see oidc.ts). `.invalid` never resolves, so the
 * issuer is never mistaken for a real one.
 */
export const LOCAL_ISSUER = 'https://pushgate-offline.invalid';
export const LOCAL_AUDIENCE = 'pushgate-local';

/**
 * The admin key backend routes take offline in place of IAM: `PUSHGATE_ADMIN_KEY`
 * when set; else the key kept in `<home>/admin-key`, made on the first start — so
 * scripts keep working across restarts and ports. Kept with `--memory` too: that
 * flag throws away data (devices, notifications, queues), not credentials.
 */
export function offlineAdminKey(keyFile: string, fromEnvironment: string | undefined): string {
  if (fromEnvironment !== undefined && fromEnvironment !== '') return fromEnvironment;
  if (existsSync(keyFile)) {
    const kept = readFileSync(keyFile, 'utf8').trim();
    if (kept !== '') return kept;
  }
  const key = randomBytes(18).toString('base64url');
  mkdirSync(dirname(keyFile), { recursive: true });
  writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
  return key;
}
