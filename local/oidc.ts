import type { webcrypto } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

type CryptoKey = webcrypto.CryptoKey;

import { exportJWK, generateKeyPair, importJWK, type JWK, jwtVerify, SignJWT } from 'jose';

/**
 * The offline stand-in for the OIDC issuer behind API Gateway's JWT authorizer:
 * mints dev JWTs (`POST /_local/tokens`) and verifies them the way the authorizer
 * does (signature, issuer, audience, expiry). The key is kept next to the data so
 * tokens survive a restart.
 */
export class LocalIssuer {
  private constructor(
    readonly issuer: string,
    readonly audience: string,
    private readonly privateKey: CryptoKey,
    private readonly publicKey: CryptoKey,
  ) {}

  static async create(issuer: string, audience: string, keyFile?: string): Promise<LocalIssuer> {
    if (keyFile && existsSync(keyFile)) {
      const jwk = JSON.parse(readFileSync(keyFile, 'utf8')) as JWK;
      const { d: _d, ...publicJwk } = jwk;
      return new LocalIssuer(
        issuer,
        audience,
        (await importJWK(jwk, 'ES256')) as CryptoKey,
        (await importJWK(publicJwk, 'ES256')) as CryptoKey,
      );
    }
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    if (keyFile) writeFileSync(keyFile, JSON.stringify(await exportJWK(privateKey)), { mode: 0o600 });
    return new LocalIssuer(issuer, audience, privateKey, publicKey);
  }

  /** A dev JWT for a user, valid for `hours`. */
  async mint(sub: string, hours = 12): Promise<string> {
    return new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
      .setSubject(sub)
      .setIssuer(this.issuer)
      .setAudience(this.audience)
      .setIssuedAt()
      .setExpirationTime(`${hours}h`)
      .sign(this.privateKey);
  }

  /** The verified claims as API Gateway passes them (strings), or undefined when the token is not good. */
  async verify(authorization: string | undefined): Promise<Record<string, string> | undefined> {
    const token = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1];
    if (!token) return undefined;
    try {
      const { payload } = await jwtVerify(token, this.publicKey, {
        issuer: this.issuer,
        audience: this.audience,
      });
      return Object.fromEntries(
        Object.entries(payload).map(([k, v]) => [k, Array.isArray(v) ? `[${v.join(' ')}]` : String(v)]),
      );
    } catch {
      return undefined;
    }
  }
}
