import { Agent } from 'node:https';
import { gaxios, JWT } from 'google-auth-library';
import { FCM_ACCESS_TOKEN_REFUSED, FCM_ACCESS_TOKEN_UNAVAILABLE } from '../../../domain/fcm-answer';
import type { Authorization } from '../http2/push-connection';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../http2/request-timeout';

/**
 * OAuth2 access tokens for FCM, from a Google service-account key through
 * google-auth-library (it signs the JWT-bearer assertion and exchanges it). The
 * token is cached until shortly before it expires and handed to the connection
 * layer synchronously, so no request waits for one that is still good.
 *
 * The library always posts to Google's token endpoint; a key whose `token_uri`
 * names another (the offline FCM simulator) is honoured by redirecting that one
 * request, and `ca` is trusted for it — the library's own code path runs unchanged.
 */
export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
/** A token this close to its expiry is not sent any more; a fresh one is fetched first. */
export const RENEW_BEFORE_EXPIRY_MS = 5 * 60_000;

export interface ServiceAccountKey {
  project_id: string;
  client_email: string;
  private_key: string;
  private_key_id?: string;
  token_uri?: string;
}

/**
 * What the token endpoint says when it refuses the key itself (RFC 6749 §5.2): asking
 * again cannot help. Anything else — a 5xx, a timeout, no connection — may pass.
 */
const KEY_REFUSALS = new Set(['invalid_grant', 'invalid_client', 'unauthorized_client']);

export class AccessTokens implements Authorization {
  readonly unavailable = FCM_ACCESS_TOKEN_UNAVAILABLE;
  private cached: { header: string; renewAt: number } | undefined;
  private fetching: Promise<unknown> | undefined;
  private client: JWT;

  constructor(
    private readonly key: ServiceAccountKey,
    private readonly ca?: string,
    private readonly clock: () => number = Date.now,
    /** Each token request's timeout: a token endpoint that never answers must not hold the pushes. */
    private readonly timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
  ) {
    this.client = this.newClient();
  }

  usable(): string | undefined {
    const cached = this.cached;
    return cached !== undefined && this.clock() < cached.renewAt ? cached.header : undefined;
  }

  current(): Promise<unknown> {
    if (this.usable() !== undefined) return Promise.resolve();
    this.fetching ??= this.fetch().finally(() => {
      this.fetching = undefined;
    });
    return this.fetching;
  }

  /**
   * Why no token could be had: the key refused (the job fails loudly, FCM_ACCESS_TOKEN_REFUSED),
   * or the endpoint unavailable for now (the pushes are retried).
   */
  failureOf(error: unknown): string {
    const answer = (error as { response?: { data?: { error?: unknown } } } | undefined)?.response?.data;
    return typeof answer?.error === 'string' && KEY_REFUSALS.has(answer.error)
      ? FCM_ACCESS_TOKEN_REFUSED
      : FCM_ACCESS_TOKEN_UNAVAILABLE;
  }

  /** FCM refused the token: drop it, and the client that cached it, so the next one is new. */
  refused(header: string): void {
    if (this.cached?.header !== header) return;
    this.cached = undefined;
    this.client = this.newClient();
  }

  private async fetch(): Promise<void> {
    const client = this.client;
    // The library refreshes a token within RENEW_BEFORE_EXPIRY_MS of its end (eager refresh).
    const { token } = await client.getAccessToken();
    if (!token) throw new Error('the token endpoint answered without an access token');
    const now = this.clock();
    const expiresAt = client.credentials.expiry_date ?? now + 3_600_000;
    // A token that lives less than twice the margin is used for half its life (never a fetch loop).
    const margin = Math.min(RENEW_BEFORE_EXPIRY_MS, Math.max(0, expiresAt - now) / 2);
    this.cached = { header: `Bearer ${token}`, renewAt: expiresAt - margin };
  }

  private newClient(): JWT {
    const { key, ca, timeoutMs } = this;
    const tokenUri = key.token_uri;
    // The library retries a failed token request a few times itself (5xx, connection errors).
    const transporter = new gaxios.Gaxios({
      timeout: timeoutMs,
      ...(ca === undefined ? {} : { agent: new Agent({ ca, keepAlive: true }) }),
    });
    if (tokenUri !== undefined && tokenUri !== GOOGLE_TOKEN_URL) {
      transporter.interceptors.request.add({
        resolved: async (options) => {
          if (String(options.url) === GOOGLE_TOKEN_URL) options.url = new URL(tokenUri);
          return options;
        },
      });
    }
    return new JWT({
      email: key.client_email,
      key: key.private_key,
      ...(key.private_key_id === undefined ? {} : { keyId: key.private_key_id }),
      scopes: [FCM_SCOPE],
      eagerRefreshThresholdMillis: RENEW_BEFORE_EXPIRY_MS,
      transporter,
    });
  }
}
