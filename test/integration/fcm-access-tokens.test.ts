import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessTokens, type ServiceAccountKey } from '../../lambda/adapters/secondary/fcm/access-tokens';
import { createLocalServiceAccount } from '../../local/fcm-credentials';
import { type FcmSimulator, startFcmSimulator } from '../../local/fcm-simulator/simulator';

/** google-auth-library against the FCM simulator's token endpoint, over TLS. */
let simulator: FcmSimulator;
let shortLived: FcmSimulator;
const dir = mkdtempSync(join(tmpdir(), 'pushgate-fcm-tokens-'));

async function keyFor(target: FcmSimulator, name: string): Promise<ServiceAccountKey> {
  const account = createLocalServiceAccount(join(dir, `${name}.json`), 'pushgate-test', target.tokenUri);
  target.addServiceAccount(account.account);
  return JSON.parse(readFileSync(account.path, 'utf8')) as ServiceAccountKey;
}

beforeAll(async () => {
  simulator = await startFcmSimulator({ serviceAccounts: [] });
  shortLived = await startFcmSimulator({ serviceAccounts: [], accessTokenSeconds: 2 });
});

afterAll(async () => {
  await Promise.all([simulator.stop(), shortLived.stop()]);
});

describe('FCM access tokens', () => {
  it('fetches one token for many callers at once and keeps it while it is good', async () => {
    const tokens = new AccessTokens(await keyFor(simulator, 'one'), simulator.ca);
    const before = simulator.stats.accessTokensIssued;
    expect(tokens.usable()).toBeUndefined();
    await Promise.all(Array.from({ length: 20 }, () => tokens.current()));
    const header = tokens.usable();
    expect(header).toMatch(/^Bearer ya29\.local-/);
    await tokens.current();
    expect(tokens.usable()).toBe(header);
    expect(simulator.stats.accessTokensIssued - before).toBe(1);
  });

  it('fetches a new token once the cached one is near its end, without a fetch loop for short-lived ones', async () => {
    const tokens = new AccessTokens(await keyFor(shortLived, 'short'), shortLived.ca);
    await tokens.current();
    const first = tokens.usable();
    expect(first).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(tokens.usable()).toBeUndefined();
    await tokens.current();
    expect(tokens.usable()).toBeDefined();
    expect(tokens.usable()).not.toBe(first);
    expect(shortLived.stats.accessTokensIssued).toBe(2);
  });

  it('drops a refused token: the next one is new', async () => {
    const tokens = new AccessTokens(await keyFor(simulator, 'refused'), simulator.ca);
    await tokens.current();
    const first = tokens.usable() as string;
    tokens.refused('Bearer something-else');
    expect(tokens.usable()).toBe(first);
    tokens.refused(first);
    expect(tokens.usable()).toBeUndefined();
    await tokens.current();
    expect(tokens.usable()).not.toBe(first);
  });

  it('rejects when the token endpoint refuses the key (signed by a key it does not know)', async () => {
    const known = await keyFor(simulator, 'known');
    const stranger = createLocalServiceAccount(
      join(dir, 'stranger.json'),
      'pushgate-test',
      simulator.tokenUri,
    );
    const forged = {
      ...known,
      private_key: (JSON.parse(readFileSync(stranger.path, 'utf8')) as ServiceAccountKey).private_key,
    };
    const tokens = new AccessTokens(forged, simulator.ca);
    await expect(tokens.current()).rejects.toThrow(/invalid_grant/);
    expect(tokens.usable()).toBeUndefined();
  });
});
