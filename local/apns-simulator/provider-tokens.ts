import { createPublicKey, type KeyObject, verify } from 'node:crypto';

/**
 * APNs's token-based authentication as the simulator enforces it: the ES256 provider
 * token's signature against the registered key, its team, its age (expired after 60
 * minutes) and how often a key may start a new one (at most once every 20 minutes, by
 * `iat`). Kept apart from the request rules and the connection handling because it
 * changes only when Apple changes how provider tokens are judged.
 */

export interface ProviderKey {
  keyId: string;
  teamId: string;
  /** The public half of the .p8 key (PEM or KeyObject). */
  publicKey: string | KeyObject;
}

/** A provider token the simulator accepted for the first time. */
export interface ProviderTokenSeen {
  keyId: string;
  issuedAt: number;
  /** By the simulator's clock, ms. */
  firstUsedAt: number;
}

/** What a request's `authorization` header earned: a refusal, and the token's age when it could be read. */
export interface ProviderTokenCheck {
  refusal?: { status: number; reason: string };
  /** Seconds since the token's `iat`, by the simulator's clock. */
  ageSeconds?: number;
}

const JWT_MAX_AGE_SECONDS = 3600;
/** APNs refuses a new provider token for a key within this long (by `iat`) of the previous one. */
const JWT_UPDATE_INTERVAL_SECONDS = 1200;

export class ProviderTokens {
  /** Every provider token accepted, in the order first seen. */
  readonly seen: ProviderTokenSeen[] = [];

  private readonly keys = new Map<string, { teamId: string; publicKey: KeyObject }>();
  private readonly verifiedJwts = new Map<string, { iat: number; keyId: string } | string>();
  /** Per key: the tokens accepted so far and the newest one's `iat`. */
  private readonly keyTokens = new Map<string, { accepted: Set<string>; newestIssuedAt: number }>();

  addKey(key: ProviderKey): void {
    const publicKey = typeof key.publicKey === 'string' ? createPublicKey(key.publicKey) : key.publicKey;
    this.keys.set(key.keyId, { teamId: key.teamId, publicKey });
  }

  /** Like a fresh APNs: no provider token seen yet (the 20-minute rule starts over). */
  forgetAccepted(): void {
    this.keyTokens.clear();
    this.seen.length = 0;
  }

  /** APNs's refusal of the provider token, if any; `now` is the simulator's clock (ms). */
  check(header: string | undefined, now: number): ProviderTokenCheck {
    if (header === undefined || !/^bearer /i.test(header))
      return { refusal: { status: 403, reason: 'MissingProviderToken' } };
    const jwt = header.slice(7);
    let verdict = this.verifiedJwts.get(jwt);
    if (verdict === undefined) {
      verdict = this.verify(jwt);
      this.verifiedJwts.set(jwt, verdict);
    }
    if (typeof verdict === 'string') return { refusal: { status: 403, reason: verdict } };
    const ageSeconds = Math.floor(now / 1000) - verdict.iat;
    if (ageSeconds > JWT_MAX_AGE_SECONDS)
      return { ageSeconds, refusal: { status: 403, reason: 'ExpiredProviderToken' } };
    let key = this.keyTokens.get(verdict.keyId);
    if (key === undefined) {
      key = { accepted: new Set(), newestIssuedAt: Number.NEGATIVE_INFINITY };
      this.keyTokens.set(verdict.keyId, key);
    }
    if (!key.accepted.has(jwt)) {
      // A new token for this key: refused if it comes within 20 minutes (by iat) of the newest one.
      if (Math.abs(verdict.iat - key.newestIssuedAt) < JWT_UPDATE_INTERVAL_SECONDS) {
        return { ageSeconds, refusal: { status: 429, reason: 'TooManyProviderTokenUpdates' } };
      }
      key.accepted.add(jwt);
      key.newestIssuedAt = Math.max(key.newestIssuedAt, verdict.iat);
      this.seen.push({ keyId: verdict.keyId, issuedAt: verdict.iat, firstUsedAt: now });
    }
    return { ageSeconds };
  }

  private verify(jwt: string): { iat: number; keyId: string } | string {
    const [headerPart, claimsPart, signaturePart] = jwt.split('.');
    if (!headerPart || !claimsPart || !signaturePart) return 'InvalidProviderToken';
    try {
      const header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8'));
      const claims = JSON.parse(Buffer.from(claimsPart, 'base64url').toString('utf8'));
      if (header.alg !== 'ES256') return 'InvalidProviderToken';
      const key = this.keys.get(header.kid);
      if (key === undefined) return 'InvalidProviderToken';
      const signed = verify(
        'sha256',
        Buffer.from(`${headerPart}.${claimsPart}`),
        { key: key.publicKey, dsaEncoding: 'ieee-p1363' },
        Buffer.from(signaturePart, 'base64url'),
      );
      if (!signed) return 'InvalidProviderToken';
      if (claims.iss !== key.teamId) return 'InvalidProviderToken';
      if (typeof claims.iat !== 'number') return 'InvalidProviderToken';
      return { iat: claims.iat, keyId: header.kid };
    } catch {
      return 'InvalidProviderToken';
    }
  }
}
