import { createPublicKey, type KeyObject, randomBytes, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type FaultReport, type FaultScript, Faults } from '../apns-simulator/faults';
import { Inbox } from '../apns-simulator/inbox';
import { openConnectionWindow } from '../http2-window';

/**
 * The project's FCM simulator: FCM HTTP v1 over HTTP/2 + TLS
 * (`POST /v1/projects/{projectId}/messages:send`) with Google's request checks and
 * error shapes (google.rpc.Status, `details` holding a
 * `type.googleapis.com/google.firebase.fcm.v1.FcmError` errorCode), and Google's
 * OAuth token endpoint (`POST /token`, JWT-bearer grant, the assertion's RS256
 * signature checked against the service-account key) on its own HTTPS port — so the
 * sender runs google-auth-library unchanged. Shares the APNs simulator's TLS
 * certificate, inbox paging and fault script (faults.ts: the same `connection`
 * faults; `tokens` answer with an FCM status and errorCode).
 */

export interface FcmTokenAnswer {
  status: number;
  errorCode?: string;
  /** FCM's sentence; a default per errorCode when absent (INVALID_ARGUMENT's is about the message). */
  message?: string;
  retryAfter?: number;
  times?: number;
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

export type FcmFaultScript = FaultScript<FcmTokenAnswer> & { tokenEndpoint?: FcmTokenEndpointFault };
export type FcmFaultReport = FaultReport<FcmTokenAnswer> & {
  script: { tokenEndpoint?: FcmTokenEndpointFault };
  done: { tokenEndpointFaults: number };
};

export interface FcmInboxEntry {
  seq: number;
  token: string;
  projectId: string;
  /** The v1 `message` as received. */
  message: unknown;
  receivedAt: string;
}

export interface ServiceAccount {
  clientEmail: string;
  /** PEM (the public half of the service-account key). */
  publicKey: string | KeyObject;
  /** The Firebase projects this account may send for. */
  projectIds: string[];
}

export interface FcmSimulatorOptions {
  serviceAccounts: ServiceAccount[];
  /** SETTINGS_MAX_CONCURRENT_STREAMS advertised (default 1000). */
  maxConcurrentStreams?: number;
  /** Fixed ports (offline mode); random when absent. */
  ports?: { fcm?: number; oauth?: number };
  inboxLimit?: number;
  /** Count tokens accepted more than once (keeps every accepted token). */
  countDuplicates?: boolean;
  /** Lifetime of the access tokens issued, seconds (Google: 3600). */
  accessTokenSeconds?: number;
}

const TLS_DIR = join(import.meta.dirname, '..', 'apns-simulator');
export const FCM_TOKEN_AUDIENCE = 'https://oauth2.googleapis.com/token';
const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const SEND_PATH = /^\/v1\/projects\/([^/]+)\/messages:send$/;
const FCM_TOKEN = /^[A-Za-z0-9_:.-]{1,4096}$/;
const PAYLOAD_LIMIT = 4096;
const FCM_ERROR_TYPE = 'type.googleapis.com/google.firebase.fcm.v1.FcmError';
const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};
const DEFAULT_MESSAGES: Record<string, string> = {
  UNREGISTERED: 'Requested entity was not found.',
  SENDER_ID_MISMATCH: 'SenderId mismatch',
  QUOTA_EXCEEDED: 'Quota exceeded for quota metric.',
  UNAVAILABLE: 'The service is currently unavailable.',
  INTERNAL: 'Internal error encountered.',
  INVALID_ARGUMENT: 'Request contains an invalid argument.',
  THIRD_PARTY_AUTH_ERROR: 'Auth error from APNS or Web Push Service',
};
const MESSAGE_FIELDS = new Set([
  'token',
  'name',
  'data',
  'notification',
  'android',
  'apns',
  'webpush',
  'fcm_options',
  'fcmOptions',
]);

interface Rejection {
  status: number;
  errorCode?: string;
  message: string;
  fieldViolation?: string;
  retryAfter?: number;
}

function emptyStats() {
  return {
    requests: 0,
    accepted: 0,
    rejected: 0,
    maxInFlightPerSession: 0,
    sessions: 0,
    duplicates: 0,
    accessTokensIssued: 0,
  };
}

export class FcmSimulator {
  readonly ca = readFileSync(join(TLS_DIR, 'tls-cert.pem'), 'utf8');
  readonly received: Inbox<FcmInboxEntry>;
  readonly stats = emptyStats();
  /** `host:port` of the FCM API. */
  endpoint = '';
  /** The OAuth token endpoint: what a service-account key's `token_uri` should say. */
  tokenUri = '';
  private readonly accounts = new Map<string, { publicKey: KeyObject; projectIds: Set<string> }>();
  private readonly accessTokens = new Map<string, { clientEmail: string; expiresAt: number }>();
  private readonly faults = new Faults<FcmTokenAnswer>();
  private tokenEndpointFault: FcmTokenEndpointFault | undefined;
  private tokenEndpointFaults = 0;
  private readonly acceptedTokens = new Set<string>();
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private readonly sessionState = new WeakMap<
    http2.Http2Session,
    { streams: number; inFlight: number; lastStreamId?: number }
  >();
  private readonly stalled = new Set<http2.ServerHttp2Stream>();
  private server: http2.Http2SecureServer | undefined;
  private oauth: https.Server | undefined;

  constructor(private readonly options: FcmSimulatorOptions) {
    this.received = new Inbox<FcmInboxEntry>(options.inboxLimit);
    for (const account of options.serviceAccounts) this.addServiceAccount(account);
  }

  addServiceAccount(account: ServiceAccount): void {
    const publicKey =
      typeof account.publicKey === 'string' ? createPublicKey(account.publicKey) : account.publicKey;
    this.accounts.set(account.clientEmail, { publicKey, projectIds: new Set(account.projectIds) });
  }

  async start(): Promise<this> {
    const key = readFileSync(join(TLS_DIR, 'tls-key.pem'));
    const server = http2.createSecureServer({
      key,
      cert: this.ca,
      allowHTTP1: false,
      settings: { maxConcurrentStreams: this.options.maxConcurrentStreams ?? 1000 },
    });
    server.on('session', (session) => {
      openConnectionWindow(session);
      this.stats.sessions++;
      this.sessions.add(session);
      this.sessionState.set(session, { streams: 0, inFlight: 0 });
      session.on('close', () => this.sessions.delete(session));
      session.on('error', () => undefined);
    });
    server.on('stream', (stream, headers) => this.onStream(stream, headers));
    this.server = server;
    this.endpoint = `127.0.0.1:${await listen(server, this.options.ports?.fcm)}`;
    const oauth = https.createServer({ key, cert: this.ca }, (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const fault = this.nextTokenEndpointFault();
        // Stalled: read and never answered; the caller's timeout (or stop()) ends it.
        if (fault?.stall) return;
        if (fault !== undefined) {
          const error = fault.error ?? 'internal_failure';
          response.writeHead(fault.status ?? 500, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ error, error_description: `Scripted fault: ${error}.` }));
          return;
        }
        const answer = this.tokenRequest(request.method, request.url, Buffer.concat(chunks).toString('utf8'));
        response.writeHead(answer.status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(answer.body));
      });
    });
    this.oauth = oauth;
    this.tokenUri = `https://127.0.0.1:${await listen(oauth, this.options.ports?.oauth)}/token`;
    return this;
  }

  async stop(): Promise<void> {
    for (const stream of this.stalled) stream.destroy();
    await Promise.all([
      new Promise<void>((resolve) => {
        if (this.server === undefined) return resolve();
        this.server.close(() => resolve());
        for (const session of this.sessions) session.destroy();
      }),
      new Promise<void>((resolve) => {
        if (this.oauth === undefined) return resolve();
        this.oauth.close(() => resolve());
        this.oauth.closeAllConnections();
      }),
    ]);
  }

  setFaults(script: FcmFaultScript): void {
    const { tokenEndpoint, ...rest } = script;
    this.faults.replace(rest);
    this.tokenEndpointFault = tokenEndpoint === undefined ? undefined : { ...tokenEndpoint };
    this.tokenEndpointFaults = 0;
  }

  faultReport(): FcmFaultReport {
    const { script, done } = this.faults.report();
    return {
      script: {
        ...script,
        ...(this.tokenEndpointFault === undefined ? {} : { tokenEndpoint: { ...this.tokenEndpointFault } }),
      },
      done: { ...done, tokenEndpointFaults: this.tokenEndpointFaults },
    };
  }

  clearFaults(): void {
    this.setFaults({});
  }

  /** The token endpoint's scripted misbehaviour for this request, if it still applies. */
  private nextTokenEndpointFault(): FcmTokenEndpointFault | undefined {
    const fault = this.tokenEndpointFault;
    if (fault === undefined) return undefined;
    const times = fault.times ?? 0;
    if (times > 0 && this.tokenEndpointFaults >= times) return undefined;
    this.tokenEndpointFaults++;
    return fault;
  }

  clearInbox(): void {
    this.received.clear();
  }

  /** Forgets every access token issued: the next request with one is answered 401 (a revoked key). */
  revokeAccessTokens(): void {
    this.accessTokens.clear();
  }

  reset(): void {
    this.clearInbox();
    this.clearFaults();
    this.acceptedTokens.clear();
    Object.assign(this.stats, emptyStats());
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
    const lifetime = this.options.accessTokenSeconds ?? 3600;
    const token = `ya29.local-${randomBytes(24).toString('base64url')}`;
    this.accessTokens.set(token, { clientEmail: claims.iss, expiresAt: Date.now() + lifetime * 1000 });
    this.stats.accessTokensIssued++;
    return { status: 200, body: { access_token: token, expires_in: lifetime, token_type: 'Bearer' } };
  }

  private onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    this.stats.requests++;
    stream.on('error', () => undefined);
    const session = stream.session;
    const state = session ? this.sessionState.get(session) : undefined;
    if (state?.lastStreamId !== undefined && (stream.id ?? 0) > state.lastStreamId) {
      // After our GOAWAY, newer streams are refused, never processed.
      stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    if (state) {
      state.inFlight++;
      this.stats.maxInFlightPerSession = Math.max(this.stats.maxInFlightPerSession, state.inFlight);
      let closed = false;
      stream.on('close', () => {
        if (closed) return;
        closed = true;
        state.inFlight--;
        // Close only once every stream up to the GOAWAY's last-stream-id is answered (as the APNs simulator).
        if (state.lastStreamId !== undefined && state.inFlight === 0) session?.close();
      });
    }
    const fault = this.faults.nextStream();
    if (session && state) {
      state.streams++;
      const every = this.faults.goawayEvery();
      if (every !== undefined && state.streams % every === 0 && state.lastStreamId === undefined) {
        state.lastStreamId = stream.id ?? 0;
        this.faults.count('goaways');
        session.goaway(http2.constants.NGHTTP2_NO_ERROR, state.lastStreamId);
      }
    }
    if (fault === 'reset') {
      this.faults.count('resets');
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => this.handle(stream, headers, Buffer.concat(chunks), fault === 'stall'));
  }

  private handle(
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
    body: Buffer,
    stall: boolean,
  ) {
    const path = String(headers[':path'] ?? '');
    const projectId = SEND_PATH.exec(path)?.[1];
    let message: Record<string, unknown> | undefined;
    const verdict = this.judge(headers, projectId, body, (parsed) => {
      message = parsed;
    });
    if (stall) {
      if (verdict === undefined && message !== undefined && projectId !== undefined)
        this.accept(projectId, message);
      this.faults.count('stalls');
      this.stalled.add(stream);
      stream.on('close', () => this.stalled.delete(stream));
      return;
    }
    if (stream.destroyed) return;
    if (verdict !== undefined) {
      this.stats.rejected++;
      stream.respond({
        ':status': verdict.status,
        'content-type': 'application/json; charset=UTF-8',
        ...(verdict.retryAfter === undefined ? {} : { 'retry-after': String(verdict.retryAfter) }),
      });
      stream.end(JSON.stringify(errorBody(verdict)));
      return;
    }
    const name = this.accept(projectId as string, message as Record<string, unknown>);
    stream.respond({ ':status': 200, 'content-type': 'application/json; charset=UTF-8' });
    stream.end(JSON.stringify({ name }));
  }

  private accept(projectId: string, message: Record<string, unknown>): string {
    this.stats.accepted++;
    const token = String(message.token);
    if (this.options.countDuplicates) {
      if (this.acceptedTokens.has(token)) this.stats.duplicates++;
      else this.acceptedTokens.add(token);
    }
    const entry = this.received.add({ token, projectId, message, receivedAt: new Date().toISOString() });
    return `projects/${projectId}/messages/0:${entry.seq}`;
  }

  /** What FCM would answer: undefined to accept, or the rejection. */
  private judge(
    headers: http2.IncomingHttpHeaders,
    projectId: string | undefined,
    body: Buffer,
    parsed: (message: Record<string, unknown>) => void,
  ): Rejection | undefined {
    if (headers[':method'] !== 'POST' || projectId === undefined)
      return { status: 404, message: 'The requested URL was not found on this server.' };
    const authorization = String(headers.authorization ?? '');
    const access = /^Bearer /i.test(authorization)
      ? this.accessTokens.get(authorization.slice(7))
      : undefined;
    if (access === undefined || access.expiresAt <= Date.now()) {
      return {
        status: 401,
        message:
          'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
      };
    }
    if (!this.accounts.get(access.clientEmail)?.projectIds.has(decodeURIComponent(projectId))) {
      return {
        status: 403,
        message: `Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/projects/${projectId}' (or it may not exist).`,
      };
    }
    let request: unknown;
    try {
      request = JSON.parse(body.toString('utf8'));
    } catch {
      return { status: 400, errorCode: 'INVALID_ARGUMENT', message: 'Invalid JSON payload received.' };
    }
    const message =
      typeof request === 'object' && request !== null ? Reflect.get(request, 'message') : undefined;
    if (typeof message !== 'object' || message === null || Array.isArray(message))
      return {
        status: 400,
        errorCode: 'INVALID_ARGUMENT',
        message: 'Invalid JSON payload received. "message" is required.',
      };
    const fields = message as Record<string, unknown>;
    const unknown = Object.keys(fields).find((key) => !MESSAGE_FIELDS.has(key));
    if (unknown !== undefined)
      return {
        status: 400,
        errorCode: 'INVALID_ARGUMENT',
        message: `Invalid JSON payload received. Unknown name "${unknown}" at 'message': Cannot find field.`,
      };
    const token = fields.token;
    if (typeof token !== 'string' || token === '')
      return {
        status: 400,
        errorCode: 'INVALID_ARGUMENT',
        message: 'Recipient of the message is not set.',
        fieldViolation: 'message.token',
      };
    const scripted = this.faults.forToken(token);
    if (scripted !== undefined) {
      return {
        status: scripted.status,
        ...(scripted.errorCode === undefined ? {} : { errorCode: scripted.errorCode }),
        message: scripted.message ?? DEFAULT_MESSAGES[scripted.errorCode ?? ''] ?? 'Error.',
        ...(scripted.retryAfter === undefined ? {} : { retryAfter: scripted.retryAfter }),
      };
    }
    if (!FCM_TOKEN.test(token))
      return {
        status: 400,
        errorCode: 'INVALID_ARGUMENT',
        message: 'The registration token is not a valid FCM registration token',
        fieldViolation: 'message.token',
      };
    const problem = messageProblem(fields);
    if (problem !== undefined) return { status: 400, errorCode: 'INVALID_ARGUMENT', message: problem };
    const { token: _token, ...payload } = fields;
    if (Buffer.byteLength(JSON.stringify(payload)) > PAYLOAD_LIMIT)
      return { status: 400, errorCode: 'INVALID_ARGUMENT', message: 'Message is too big' };
    parsed(fields);
    return undefined;
  }
}

/** The checks FCM applies to the message itself (the ones pushgate could get wrong). */
function messageProblem(message: Record<string, unknown>): string | undefined {
  const stringMap = (value: unknown, where: string) => {
    if (value === undefined) return undefined;
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return `Invalid value at '${where}'`;
    for (const [key, member] of Object.entries(value)) {
      if (typeof member !== 'string') return `Invalid value at '${where}[${key}]' (TYPE_STRING)`;
    }
    return undefined;
  };
  const data = stringMap(message.data, 'message.data');
  if (data !== undefined) return data;
  const android = message.android;
  if (android === undefined) return undefined;
  if (typeof android !== 'object' || android === null) return "Invalid value at 'message.android'";
  const config = android as Record<string, unknown>;
  if (config.priority !== undefined && config.priority !== 'NORMAL' && config.priority !== 'HIGH')
    return `Invalid value at 'message.android.priority' (type.googleapis.com/google.firebase.fcm.v1.AndroidMessagePriority), "${String(config.priority)}"`;
  if (config.ttl !== undefined && (typeof config.ttl !== 'string' || !/^\d+(\.\d{1,9})?s$/.test(config.ttl)))
    return "Invalid value at 'message.android.ttl' (type.googleapis.com/google.protobuf.Duration)";
  return stringMap(config.data, 'message.android.data');
}

function errorBody(rejection: Rejection) {
  const status =
    STATUS_NAMES[rejection.status] ?? (rejection.status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION');
  const details: unknown[] = [];
  if (rejection.errorCode !== undefined)
    details.push({ '@type': FCM_ERROR_TYPE, errorCode: rejection.errorCode });
  if (rejection.fieldViolation !== undefined) {
    details.push({
      '@type': 'type.googleapis.com/google.rpc.BadRequest',
      fieldViolations: [{ field: rejection.fieldViolation, description: rejection.message }],
    });
  }
  return {
    error: {
      code: rejection.status,
      message: rejection.message,
      status,
      ...(details.length > 0 ? { details } : {}),
    },
  };
}

function listen(server: http2.Http2SecureServer | https.Server, port: number | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port ?? 0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startFcmSimulator(options: FcmSimulatorOptions): Promise<FcmSimulator> {
  return new FcmSimulator(options).start();
}
