import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  MemoryProviderTokenStore,
  type ProviderToken,
  ProviderTokens,
  RENEW_AFTER_SECONDS,
} from '../../lambda/adapters/secondary/apns/provider-token';

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const key = {
  keyId: 'ABCDE12345',
  teamId: 'TEAM123456',
  key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
};

function decode(jwt: string) {
  const [header, claims, signature] = jwt.split('.') as [string, string, string];
  const signed = verify(
    'sha256',
    Buffer.from(`${header}.${claims}`),
    { key: createPublicKey(privateKey), dsaEncoding: 'ieee-p1363' },
    Buffer.from(signature, 'base64url'),
  );
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()),
    claims: JSON.parse(Buffer.from(claims, 'base64url').toString()),
    signed,
  };
}

describe('ProviderTokens', () => {
  it('mints an ES256 JWT APNs accepts: kid, iss, iat from the clock', async () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const tokens = new ProviderTokens(key, new MemoryProviderTokenStore(), () => now);
    const { jwt, issuedAt } = await tokens.current();
    expect(decode(jwt)).toEqual({
      header: { alg: 'ES256', kid: key.keyId },
      claims: { iss: key.teamId, iat: now / 1000 },
      signed: true,
    });
    expect(issuedAt).toBe(now / 1000);
  });

  it('containers sharing a store mint once, and exactly one renews after 50 minutes', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const store = new MemoryProviderTokenStore();
    const fleet = Array.from({ length: 10 }, () => new ProviderTokens(key, store, () => now));
    const first = await Promise.all(fleet.map((tokens) => tokens.current()));
    expect(new Set(first.map((t) => t.jwt)).size).toBe(1);
    now += (RENEW_AFTER_SECONDS - 1) * 1000;
    expect(new Set((await Promise.all(fleet.map((t) => t.current()))).map((t) => t.jwt))).toEqual(
      new Set([first[0]?.jwt]),
    );
    now += 1000;
    const second = await Promise.all(fleet.map((tokens) => tokens.current()));
    expect(new Set(second.map((t) => t.jwt)).size).toBe(1);
    expect(second[0]?.jwt).not.toBe(first[0]?.jwt);
    expect(fleet.reduce((sum, tokens) => sum + tokens.minted, 0)).toBe(2);
  });

  it('a cold container adopts the stored token instead of minting its own', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const store = new MemoryProviderTokenStore();
    const warm = new ProviderTokens(key, store, () => now);
    const token = await warm.current();
    now += 30 * 60_000;
    const cold = new ProviderTokens(key, store, () => now);
    expect(await cold.current()).toEqual(token);
    expect(cold.minted).toBe(0);
  });

  it('never hands out a token at or past the renewal age, even from its own cache', async () => {
    let now = 0;
    const tokens = new ProviderTokens(key, new MemoryProviderTokenStore(), () => now);
    const first = await tokens.current();
    now = RENEW_AFTER_SECONDS * 1000;
    expect(tokens.usable()).toBeUndefined();
    const next = await tokens.current();
    expect(next.issuedAt - first.issuedAt).toBe(RENEW_AFTER_SECONDS);
  });

  it('a token APNs called expired is replaced once, however many answers said so', async () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const store = new MemoryProviderTokenStore();
    const a = new ProviderTokens(key, store, () => now);
    const b = new ProviderTokens(key, store, () => now + 1000);
    const refused = await a.current();
    await b.current();
    for (let i = 0; i < 50; i++) {
      a.expired(refused.jwt);
      b.expired(refused.jwt);
    }
    const [fromA, fromB] = await Promise.all([a.current(), b.current()]);
    expect(fromA.jwt).not.toBe(refused.jwt);
    expect(fromB).toEqual(fromA);
    expect(a.minted + b.minted).toBe(2);
  });

  it('a lost renewal race adopts the winner', async () => {
    const store = new MemoryProviderTokenStore();
    const winner: ProviderToken = { jwt: 'winner', issuedAt: 1_000_000 };
    const racing = {
      read: store.read.bind(store),
      async replace(name: string, next: ProviderToken, previous: ProviderToken | undefined) {
        // Someone else stores their token between our read and our write.
        await store.replace(name, winner, previous);
        return store.replace(name, next, previous);
      },
    };
    const tokens = new ProviderTokens(key, racing, () => 1_000_000_000);
    expect(await tokens.current()).toEqual(winner);
    expect(tokens.minted).toBe(0);
  });
});
