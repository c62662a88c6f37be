import { createPublicKey, type KeyObject, randomBytes, verify } from 'node:crypto';
import https from 'node:https';
import { listen, SIMULATOR_TLS } from '../simulator-connections';

/**
 * Google's side of the FCM simulator's authentication: the service accounts it knows,
 * the OAuth 2.0 token endpoint (`POST /token`, JWT-bearer grant, the assertion's RS256
 * signature checked against the service-account key) on its own HTTPS port — so the
 * sender runs google-auth-library unchanged — the access tokens it issued, and the
 * endpoint's scripted misbehaviour. Apart from the FCM API because it changes only
 * when Google's token exchange does.
 */

export const FCM_TOKEN_AUDIENCE = 'https://oauth2.googleapis.com/token';
const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export interface ServiceAccount {
  clientEmail: string;
  /** PEM (the public half of the service-account key). */
  publicKey: string | KeyObject;
  /** The Firebase projects this account may send for. */
  projectIds: string[];
}

/**
 * How the OAuth token endpoint misbehaves, for the first `times` token requests (0 or
 * absent: every one): `status` with Google's error body (`error`, e.g. `invalid_grant`
 * for a refused key; `internal_failure` by default), or `stall: true` — the request is
 * read and never answered (a timeout).
 */
export interface FcmTokenEndpointFault {
  status?: number;
  error?: string;
  stall?: boolean;
  times?: number;
}

export class GoogleOAuth {
  /** The token endpoint's address: what a service-account key's `token_uri` should say. */
  tokenUri = '';
  private readonly accounts = new Map<string, { publicKey: KeyObject; projectIds: Set<string> }>();
  private readonly accessTokens = new Map<string, { clientEmail: string; expiresAt: number }>();
  private fault: FcmTokenEndpointFault | undefined;
  private faultsDone = 0;
  private server: https.Server | undefined;

  constructor(
    /** Lifetime of the access tokens issued, seconds (Google: 3600). */
    private readonly accessTokenSeconds: number | undefined,
    private readonly stats: { accessTokensIssued: number },
  ) {}

  addServiceAccount(account: ServiceAccount): void {
    const publicKey =
      typeof account.publicKey === 'string' ? createPublicKey(account.publicKey) : account.publicKey;
    this.accounts.set(account.clientEmail, { publicKey, projectIds: new Set(account.projectIds) });
  }

  /** Starts the token endpoint (`port`, or a free one); resolves with its `tokenUri`. */
  async start(port: number | undefined): Promise<string> {
    const server = https.createServer(
      { key: SIMULATOR_TLS.key, cert: SIMULATOR_TLS.cert },
      (request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          const fault = this.nextFault();
          // Stalled: read and never answered; the caller's timeout (or stop()) ends it.
          if (fault?.stall) return;
          if (fault !== undefined) {
            const error = fault.error ?? 'internal_failure';
            response.writeHead(fault.status ?? 500, { 'content-type': 'application/json' });
            response.end(JSON.stringify({ error, error_description: `Scripted fault: ${error}.` }));
            return;
          }
          const answer = this.tokenRequest(
            request.method,
            request.url,
            Buffer.concat(chunks).toString('utf8'),
          );
          response.writeHead(answer.status, { 'content-type': 'application/json' });
          response.end(JSON.stringify(answer.body));
        });
      },
    );
    this.server = server;
    this.tokenUri = `https://127.0.0.1:${await listen(server, port)}/token`;
    return this.tokenUri;
  }

  stop(): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.server === undefined) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** The account an `authorization` header's access token was issued to, while it is valid. */
  accountFor(authorization: string): string | undefined {
    const access = /^Bearer /i.test(authorization)
      ? this.accessTokens.get(authorization.slice(7))
      : undefined;
    if (access === undefined || access.expiresAt <= Date.now()) return undefined;
    return access.clientEmail;
  }

  /** Whether the account may send for the Firebase project. */
  maySendFor(clientEmail: string, projectId: string): boolean {
    return this.accounts.get(clientEmail)?.projectIds.has(projectId) === true;
  }

  /** Forgets every access token issued: the next request with one is answered 401 (a revoked key). */
  revokeAccessTokens(): void {
    this.accessTokens.clear();
  }

  /** Replaces the token endpoint's scripted misbehaviour (none when undefined) and its count. */
  setFault(fault: FcmTokenEndpointFault | undefined): void {
    this.fault = fault === undefined ? undefined : { ...fault };
    this.faultsDone = 0;
  }

  /** The scripted misbehaviour, if any, and how many token requests it has answered. */
  faultReport(): { fault?: FcmTokenEndpointFault; done: number } {
    return { ...(this.fault === undefined ? {} : { fault: { ...this.fault } }), done: this.faultsDone };
  }

  /** The token endpoint's scripted misbehaviour for this request, if it still applies. */
  private nextFault(): FcmTokenEndpointFault | undefined {
    const fault = this.fault;
    if (fault === undefined) return undefined;
    const times = fault.times ?? 0;
    if (times > 0 && this.faultsDone >= times) return undefined;
    this.faultsDone++;
    return fault;
  }

  /** Google's OAuth 2.0 token endpoint, JWT-bearer grant only. */
  private tokenRequest(method: string | undefined, url: string | undefined, body: string) {
    const refuse = (error: string, description: string) => ({
      status: 400,
      body: { error, error_description: description },
    });
    if (method !== 'POST' || url?.split('?')[0] !== '/token')
      return { status: 404, body: { error: 'not_found' } };
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== JWT_BEARER) return refuse('unsupported_grant_type', 'Invalid grant_type.');
    const assertion = form.get('assertion') ?? '';
    const [headerPart = '', claimsPart = '', signaturePart = ''] = assertion.split('.');
    let claims: { iss?: unknown; aud?: unknown; scope?: unknown; iat?: unknown; exp?: unknown };
    try {
      const header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8')) as { alg?: unknown };
      claims = JSON.parse(Buffer.from(claimsPart, 'base64url').toString('utf8'));
      if (header.alg !== 'RS256') return refuse('invalid_grant', 'Invalid JWT: alg must be RS256.');
    } catch {
      return refuse('invalid_grant', 'Invalid JWT: not a JWT.');
    }
    const account = typeof claims.iss === 'string' ? this.accounts.get(claims.iss) : undefined;
    if (account === undefined || typeof claims.iss !== 'string')
      return refuse('invalid_grant', 'Invalid grant: account not found');
    const signed = verify(
      'sha256',
      Buffer.from(`${headerPart}.${claimsPart}`),
      account.publicKey,
      Buffer.from(signaturePart, 'base64url'),
    );
    if (!signed) return refuse('invalid_grant', 'Invalid JWT Signature.');
    if (claims.aud !== FCM_TOKEN_AUDIENCE && claims.aud !== this.tokenUri)
      return refuse('invalid_grant', 'Invalid JWT: audience.');
    const now = Math.floor(Date.now() / 1000);
    if (
      typeof claims.iat !== 'number' ||
      typeof claims.exp !== 'number' ||
      claims.exp <= now ||
      claims.exp - claims.iat > 3600
    )
      return refuse(
        'invalid_grant',
        'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.',
      );
    if (typeof claims.scope !== 'string' || !claims.scope.split(' ').includes(FCM_SCOPE))
      return refuse('invalid_scope', 'The FCM scope was not requested.');
    const lifetime = this.accessTokenSeconds ?? 3600;
    const token = `ya29.local-${randomBytes(24).toString('base64url')}`;
    this.accessTokens.set(token, { clientEmail: claims.iss, expiresAt: Date.now() + lifetime * 1000 });
    this.stats.accessTokensIssued++;
    return { status: 200, body: { access_token: token, expires_in: lifetime, token_type: 'Bearer' } };
  }
}
