import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign } from 'node:crypto';
import { logger } from '../../../observability';

/**
 * The provider token (JWT) every APNs request carries, shared by the whole fleet.
 *
 * APNs counts every new token for a key against "at most one update per 20 minutes"
 * and refuses a token older than 60 minutes. Each Lambda container minting its own
 * is the classic way to get 429 TooManyProviderTokenUpdates; one token may be used
 * on any number of connections at once. So a token is minted once per key and kept
 * in a store every container reads (the Notifications table): whoever finds it older
 * than RENEW_AFTER_SECONDS mints the next one with a conditional write, so exactly one
 * container renews and the others adopt its token. See docs/apns.md.
 */

/**
 * Renew a token this old (APNs: no more often than every 20 minutes, refused after
 * 60). A token is checked against it each time it goes on the wire, so none older is
 * ever sent, with ten minutes to spare for clocks that disagree.
 */
export const RENEW_AFTER_SECONDS = 50 * 60;

export interface ProviderKey {
  keyId: string;
  teamId: string;
  /** The .p8 key, PEM. */
  key: string;
}

export interface ProviderToken {
  jwt: string;
  /** The token's `iat`, seconds since the epoch. */
  issuedAt: number;
}

/** Where the fleet's current token for each key lives. */
export interface ProviderTokenStore {
  read(keyName: string): Promise<ProviderToken | undefined>;
  /**
   * Stores `next` only if the stored token is still `previous` (none stored when
   * undefined); false when another container replaced it first.
   */
  replace(keyName: string, next: ProviderToken, previous: ProviderToken | undefined): Promise<boolean>;
}

/** An ES256 JWT as APNs wants it: header `kid`, claims `iss` and `iat`. */
export function mintProviderToken(
  key: Pick<ProviderKey, 'keyId' | 'teamId'>,
  privateKey: KeyObject,
  issuedAt: number,
): ProviderToken {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: 'ES256', kid: key.keyId })}.${encode({ iss: key.teamId, iat: issuedAt })}`;
  const signature = sign('sha256', Buffer.from(unsigned), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return { jwt: `${unsigned}.${signature.toString('base64url')}`, issuedAt };
}

/**
 * The name a key's token is stored under: team, key id and a fingerprint of the
 * public key, so a key replaced under the same id never gets the old key's token.
 */
export function providerKeyName(key: Pick<ProviderKey, 'keyId' | 'teamId'>, privateKey: KeyObject): string {
  const publicKey = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const fingerprint = createHash('sha256').update(publicKey).digest('hex').slice(0, 16);
  return `${key.teamId}.${key.keyId}.${fingerprint}`;
}

/** One container's view of a key's shared token; `clock` (ms) is injectable for tests. */
export class ProviderTokens {
  readonly keyName: string;
  /** Tokens this instance minted (and stored) itself. */
  minted = 0;
  private readonly privateKey: KeyObject;
  private cached: ProviderToken | undefined;
  /** A token APNs called expired: never adopted again, even if the store still holds it. */
  private refused: string | undefined;
  private fetching: Promise<ProviderToken> | undefined;

  constructor(
    private readonly key: ProviderKey,
    private readonly store: ProviderTokenStore,
    private readonly clock: () => number = Date.now,
  ) {
    this.privateKey = createPrivateKey(key.key);
    this.keyName = providerKeyName(key, this.privateKey);
  }

  /** The token to send now: cached, the fleet's, or a new one if the fleet's is due for renewal. */
  current(): Promise<ProviderToken> {
    const cached = this.usable();
    if (cached !== undefined) return Promise.resolve(cached);
    this.fetching ??= this.fetchOrRenew().finally(() => {
      this.fetching = undefined;
    });
    return this.fetching;
  }

  /** The cached token if it may go on the wire now, without waiting. */
  usable(): ProviderToken | undefined {
    const cached = this.cached;
    return cached !== undefined && this.age(cached) < RENEW_AFTER_SECONDS ? cached : undefined;
  }

  /** APNs answered ExpiredProviderToken to `jwt`: the next request needs another token. */
  expired(jwt: string): void {
    if (this.refused === jwt) return;
    this.refused = jwt;
    if (this.cached?.jwt === jwt) this.cached = undefined;
    logger.warn('APNs called the provider token expired; renewing it', { key: this.key.keyId });
  }

  private age(token: ProviderToken): number {
    return Math.floor(this.clock() / 1000) - token.issuedAt;
  }

  private async fetchOrRenew(): Promise<ProviderToken> {
    for (let round = 0; round < 5; round++) {
      const stored = await this.store.read(this.keyName);
      if (stored !== undefined && stored.jwt !== this.refused && this.age(stored) < RENEW_AFTER_SECONDS) {
        this.cached = stored;
        return stored;
      }
      const next = mintProviderToken(this.key, this.privateKey, Math.floor(this.clock() / 1000));
      if (await this.store.replace(this.keyName, next, stored)) {
        this.minted++;
        this.cached = next;
        logger.info('minted the shared APNs provider token', {
          key: this.key.keyId,
          issuedAt: next.issuedAt,
        });
        return next;
      }
      // Another container renewed first: read again and adopt its token.
    }
    throw new Error(`no provider token for key ${this.key.keyId} after five rounds of renewal races`);
  }
}

/** A store in memory: one process's containers only (benchmarks, unit tests). */
export class MemoryProviderTokenStore implements ProviderTokenStore {
  private readonly tokens = new Map<string, ProviderToken>();

  async read(keyName: string): Promise<ProviderToken | undefined> {
    return this.tokens.get(keyName);
  }

  async replace(keyName: string, next: ProviderToken, previous: ProviderToken | undefined): Promise<boolean> {
    if (this.tokens.get(keyName)?.jwt !== previous?.jwt) return false;
    this.tokens.set(keyName, next);
    return true;
  }
}
