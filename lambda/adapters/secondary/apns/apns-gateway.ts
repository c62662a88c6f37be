import http2 from 'node:http2';
import { createSecureContext } from 'node:tls';
import { endsSession, type RawApnsAnswer, readApnsAnswer } from '../../../domain/apns-outcome';
import type { ApnsRequest } from '../../../domain/apns-request';
import type { ApnsEnvironment } from '../../../domain/device';
import { logger } from '../../../observability';
import { providerTokenTable } from '../provider-token-table';
import { ApnsSession, type SessionOptions } from './apns-session';
import { type ProviderToken, ProviderTokens } from './provider-token';

/**
 * The APNs gateway: warm HTTP/2 connections to APNs, owned here on node:http2
 * (docs/apns.md says why not @parse/node-apn's). What it guarantees:
 * - at most SETTINGS_MAX_CONCURRENT_STREAMS requests in flight per session — one
 *   until the session has answered once (APNs allows one stream before the first
 *   valid JWT) — however many tokens are sent at once;
 * - GOAWAY as Apple means it: streams at or below its last-stream-id get their
 *   answers on the old session, which closes gracefully; streams above it (and
 *   refused ones) were never processed and go out again at once on a new session,
 *   not as an attempt. A session is replaced the same graceful way after a burst of
 *   timeouts, an IdleTimeout/Shutdown answer, or a PING after idling that gets no
 *   answer — never destroyed while it has healthy streams in flight;
 * - every request gets exactly one answer: a complete APNs answer, or a transport
 *   failure (timeout, reset, lost connection, incomplete response) that says
 *   nothing about the token;
 * - no retries of its own: answers go back to the sender's retry policy with
 *   `retry-after` read (lower-case, as HTTP/2 has it);
 * - the provider token is the fleet's shared one (provider-token.ts), never older
 *   than its renewal age on the wire, dropped when APNs calls it expired.
 * Connections live in module scope, one per credential and environment, so warm
 * invocations reuse them.
 */

export type ApnsCredentials =
  | { kind: 'token'; keyId: string; teamId: string; key: string }
  | { kind: 'certificate'; cert: string; key: string; passphrase?: string };

export interface ApnsEndpoint {
  /** host[:port] — Apple's hosts, or the simulator. */
  address: string;
  /** Extra CA to trust (the simulator's self-signed certificate). */
  ca?: string;
}

export const APPLE_ENDPOINTS: Record<ApnsEnvironment, ApnsEndpoint> = {
  production: { address: 'api.push.apple.com' },
  sandbox: { address: 'api.sandbox.push.apple.com' },
};

export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const TIMEOUT_BURST = 3;
const IDLE_CHECK_AFTER_MS = 5 * 60_000;
const PING_TIMEOUT_MS = 2_000;
/** Sessions in a row that closed without a single answer: APNs is unreachable; queued requests fail fast. */
const MAX_SILENT_SESSIONS = 3;
const { NGHTTP2_CANCEL } = http2.constants;
const ignore = () => undefined;

interface Pending {
  request: ApnsRequest;
  token: string;
  done: (answer: RawApnsAnswer) => void;
}

interface InFlight {
  pending: Pending;
  session: ApnsSession;
  stream: http2.ClientHttp2Stream;
  startedAt: number;
  jwt: string | undefined;
}

export interface ApnsConnectionOptions {
  requestTimeoutMs?: number;
  /** The shared provider token (token auth); required with token credentials. */
  tokens?: ProviderTokens;
}

export class ApnsConnection {
  private readonly sessionOptions: SessionOptions;
  private readonly authority: string;
  private readonly requestTimeoutMs: number;
  private readonly tokens: ProviderTokens | undefined;
  /** Requests waiting for room, oldest first. */
  private queue: Pending[] = [];
  private queueHead = 0;
  /** Requests a server refused (never processed): sent before the queue, in the order refused. */
  private again: Pending[] = [];
  private againHead = 0;
  /** The session new streams go to; retired ones live on in `sessions` until they close. */
  private current: ApnsSession | undefined;
  private readonly sessions = new Set<ApnsSession>();
  /** Streams awaiting an answer; one sweeper times them out (cheaper than a timer per stream). */
  private readonly active = new Set<InFlight>();
  private sweeper: NodeJS.Timeout | undefined;
  private renewing = false;
  private silentSessions = 0;
  private lastActivity = Date.now();
  private closed = false;

  constructor(
    credentials: ApnsCredentials,
    environment: ApnsEnvironment,
    endpoint: ApnsEndpoint,
    options: ApnsConnectionOptions = {},
  ) {
    this.authority = endpoint.address;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const tls = endpoint.ca === undefined ? {} : { ca: endpoint.ca };
    if (credentials.kind === 'token') {
      if (options.tokens === undefined) throw new Error('token credentials need a provider token source');
      this.tokens = options.tokens;
      this.sessionOptions = { address: endpoint.address, connectTimeoutMs: this.requestTimeoutMs, ...tls };
    } else {
      // Refuse a certificate or key TLS cannot use now, where the caller can report it.
      createSecureContext({
        cert: credentials.cert,
        key: credentials.key,
        ...(credentials.passphrase === undefined ? {} : { passphrase: credentials.passphrase }),
      });
      this.tokens = undefined;
      this.sessionOptions = {
        address: endpoint.address,
        connectTimeoutMs: this.requestTimeoutMs,
        ...tls,
        cert: credentials.cert,
        key: credentials.key,
        ...(credentials.passphrase === undefined ? {} : { passphrase: credentials.passphrase }),
      };
    }
    logger.debug('APNs connection configured', { environment, address: endpoint.address });
  }

  /**
   * Sends the same request to every token; answers come back in token order. Rejects
   * only when no provider token can be had (the store is unreachable).
   */
  async sendAll(request: ApnsRequest, tokens: readonly string[]): Promise<RawApnsAnswer[]> {
    const answers = new Array<RawApnsAnswer>(tokens.length);
    if (tokens.length === 0) return answers;
    if (this.closed) throw new Error('the APNs connection is closed');
    await this.tokens?.current();
    await this.checkIdleSession();
    return new Promise((resolve) => {
      let remaining = tokens.length;
      tokens.forEach((token, index) => {
        this.queue.push({
          request,
          token,
          done: (answer) => {
            answers[index] = answer;
            if (--remaining === 0) resolve(answers);
          },
        });
      });
      this.pump();
    });
  }

  /** Closes every session gracefully (destroyed if still busy after the request timeout). */
  async close(): Promise<void> {
    this.closed = true;
    for (const pending of this.drainQueue()) pending.done({ transportError: 'ConnectionClosed' });
    const sessions = [...this.sessions];
    this.current = undefined;
    await Promise.all(
      sessions.map(
        (session) =>
          new Promise<void>((resolve) => {
            if (session.closed) return resolve();
            const timer = setTimeout(() => session.destroy(), this.requestTimeoutMs).unref();
            session.http2.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
            session.retire();
          }),
      ),
    );
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /** Moves queued requests onto sessions while there is room. */
  private pump(): void {
    if (this.closed) return;
    for (;;) {
      const fromAgain = this.againHead < this.again.length;
      const next = fromAgain ? this.again[this.againHead] : this.queue[this.queueHead];
      if (next === undefined) break;
      const jwt = this.providerJwt();
      if (jwt === null) break;
      const session = this.sessionWithRoom();
      if (session === undefined) break;
      if (fromAgain) this.again[this.againHead++] = undefined as unknown as Pending;
      else this.queue[this.queueHead++] = undefined as unknown as Pending;
      this.dispatch(next, session, jwt);
    }
    if (this.againHead > 0 && this.againHead === this.again.length) {
      this.again = [];
      this.againHead = 0;
    }
    if (this.queueHead > 0 && this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    }
  }

  /**
   * The provider JWT to send now: undefined with certificate auth; null while a fresh
   * one is being fetched (the pump resumes when it arrives).
   */
  private providerJwt(): string | undefined | null {
    if (this.tokens === undefined) return undefined;
    const token: ProviderToken | undefined = this.tokens.usable();
    if (token !== undefined) return token.jwt;
    if (!this.renewing) {
      this.renewing = true;
      this.tokens.current().then(
        () => {
          this.renewing = false;
          this.pump();
        },
        (error: unknown) => {
          this.renewing = false;
          logger.error('no APNs provider token', { error: (error as Error).message });
          for (const pending of this.drainQueue())
            pending.done({ transportError: 'ProviderTokenUnavailable' });
        },
      );
    }
    return null;
  }

  private drainQueue(): Pending[] {
    const all = [...this.again.slice(this.againHead), ...this.queue.slice(this.queueHead)];
    this.again = [];
    this.againHead = 0;
    this.queue = [];
    this.queueHead = 0;
    return all;
  }

  /** The current session if it can take a stream now; opens a new one when it is gone or retired. */
  private sessionWithRoom(): ApnsSession | undefined {
    if (this.current === undefined || !this.current.open) {
      try {
        this.current = new ApnsSession(
          this.sessionOptions,
          (session) => this.sessionChanged(session),
          (session) => this.sessionClosed(session),
        );
      } catch (error) {
        // pump() runs from stream and session events: nothing may throw out of it.
        logger.error('could not open an APNs session', { error: (error as Error).message });
        this.current = undefined;
        for (const pending of this.drainQueue()) pending.done({ transportError: 'ConnectionFailed' });
        return undefined;
      }
      this.sessions.add(this.current);
    }
    return this.current.room() > 0 ? this.current : undefined;
  }

  private sessionClosed(session: ApnsSession): void {
    this.sessions.delete(session);
    if (this.current === session) this.current = undefined;
    // Refused, unreachable or closed before answering anything: after a few in a row, stop
    // opening connections for now; the queued requests go back to the sender's retry policy.
    if (!session.heard && ++this.silentSessions >= MAX_SILENT_SESSIONS) {
      this.silentSessions = 0;
      logger.warn('APNs closed connections without answering; failing the queued requests for now');
      for (const pending of this.drainQueue()) pending.done({ transportError: 'ConnectionFailed' });
    }
    queueMicrotask(() => this.pump());
  }

  private sessionChanged(session: ApnsSession): void {
    if (!session.open && session.inFlight === 0) this.sessions.delete(session);
    if (this.current === session && !session.open) this.current = undefined;
    // Room may have appeared (settings, first answer) or a replacement may be needed (GOAWAY).
    queueMicrotask(() => this.pump());
  }

  private dispatch(pending: Pending, session: ApnsSession, jwt: string | undefined): void {
    this.lastActivity = Date.now();
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.http2.request({
        ':method': 'POST',
        ':scheme': 'https',
        ':authority': this.authority,
        ':path': `/3/device/${pending.token}`,
        ...(jwt === undefined ? {} : { authorization: `bearer ${jwt}` }),
        ...pending.request.headers,
      });
    } catch {
      // The session stopped taking streams between the check and now: nothing was sent.
      session.retire();
      this.sendAgain(pending);
      return;
    }
    session.inFlight++;
    const entry: InFlight = { pending, session, stream, startedAt: Date.now(), jwt };
    this.active.add(entry);
    this.sweeper ??= setInterval(() => this.sweep(), 250).unref();

    // The hot path (20 000 answers a second): no per-stream decoder, no object built for a 200.
    let status: number | undefined;
    let apnsId: string | undefined;
    let retryAfter: string | undefined;
    let body: Buffer[] | undefined;
    stream.on('response', (headers) => {
      status = Number(headers[':status']);
      const id = headers['apns-id'];
      if (typeof id === 'string') apnsId = id;
      const after = headers['retry-after'];
      if (after !== undefined) retryAfter = String(after);
    });
    stream.on('data', (chunk: Buffer) => {
      if (body === undefined) body = [chunk];
      else body.push(chunk);
    });
    stream.on('end', () => {
      if (status === undefined) this.failed(entry);
      else if (status === 200) this.settle(entry, apnsId === undefined ? { status } : { status, apnsId });
      else
        this.settle(
          entry,
          readApnsAnswer({
            status,
            body: body === undefined ? '' : Buffer.concat(body).toString('utf8'),
            ...(apnsId === undefined ? {} : { apnsId }),
            ...(retryAfter === undefined ? {} : { retryAfter }),
          }),
        );
    });
    // 'error' is always followed by 'close'; the failure is read there.
    stream.on('error', ignore);
    stream.on('close', () => this.failed(entry));
    stream.end(pending.request.body);
  }

  /**
   * The stream ended without an answer. Never processed (above the GOAWAY's
   * last-stream-id, refused, never sent): sent again at once, not an attempt — a
   * session that refuses streams while still open is overloaded and retired, so
   * this cannot spin. Otherwise it may have been processed: a transport failure.
   */
  private failed(entry: InFlight): void {
    if (!this.release(entry)) return;
    const { session, stream, pending } = entry;
    if (session.neverProcessed(stream)) {
      if (session.open) session.retire();
      this.sendAgain(pending);
    } else pending.done({ transportError: 'ConnectionError' });
    this.pump();
  }

  private sendAgain(pending: Pending): void {
    if (this.closed) {
      pending.done({ transportError: 'ConnectionClosed' });
      return;
    }
    this.again.push(pending);
    queueMicrotask(() => this.pump());
  }

  private settle(entry: InFlight, answer: RawApnsAnswer): void {
    if (!this.release(entry)) return;
    const { session } = entry;
    // APNs allows one stream until it has seen a valid provider token.
    session.answered(answer.status !== 403 && answer.reason !== 'TooManyProviderTokenUpdates');
    this.silentSessions = 0;
    if (answer.status === 403 && answer.reason === 'ExpiredProviderToken' && entry.jwt !== undefined) {
      this.tokens?.expired(entry.jwt);
    }
    if (endsSession(answer) && session.open) {
      logger.info('APNs asked for a new connection', { reason: answer.reason });
      session.retire();
    }
    entry.pending.done(answer);
    this.pump();
  }

  /** Frees the stream's slot; false when it was already released (each stream settles once). */
  private release(entry: InFlight): boolean {
    if (!this.active.delete(entry)) return false;
    entry.session.inFlight--;
    if (!entry.session.open && entry.session.inFlight === 0) this.sessions.delete(entry.session);
    return true;
  }

  /** Cancels streams older than the request timeout; stops when nothing is in flight. */
  private sweep(): void {
    const expired = Date.now() - this.requestTimeoutMs;
    for (const entry of this.active) {
      if (entry.startedAt > expired) continue;
      if (!this.release(entry)) continue;
      entry.stream.close(NGHTTP2_CANCEL);
      this.timedOut(entry.session);
      entry.pending.done({ transportError: 'Timeout' });
    }
    if (this.active.size === 0 && this.sweeper !== undefined) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
    this.pump();
  }

  private timedOut(session: ApnsSession): void {
    session.consecutiveTimeouts++;
    if (session.consecutiveTimeouts >= TIMEOUT_BURST && session.open) {
      logger.warn('replacing APNs session after a burst of timeouts', {
        timeouts: session.consecutiveTimeouts,
        inFlight: session.inFlight,
      });
      session.retire();
    }
  }

  /** After a long idle (or a Lambda freeze), PING before trusting the socket; replace it if silent. */
  private async checkIdleSession(): Promise<void> {
    const session = this.current;
    if (session === undefined || !session.open || Date.now() - this.lastActivity < IDLE_CHECK_AFTER_MS)
      return;
    this.lastActivity = Date.now();
    if (await session.ping(PING_TIMEOUT_MS)) return;
    logger.warn('replacing idle APNs session that did not answer a PING');
    // Nothing has been in flight for minutes; if something is, let it finish.
    if (session.inFlight === 0) session.destroy();
    else session.retire();
  }
}

/** Module-scope connections, one per credential and environment, reused across invocations. */
const connections = new Map<string, { credentials: string; connection: ApnsConnection }>();
/** One shared-token view per provider key, for both environments' connections. */
const providerTokens = new Map<string, ProviderTokens>();

export function apnsConnection(
  credentialId: string,
  credentials: ApnsCredentials,
  environment: ApnsEnvironment,
  endpoint: ApnsEndpoint,
  requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
): ApnsConnection {
  const key = `${credentialId}|${environment}|${endpoint.address}`;
  const material = JSON.stringify(credentials);
  const existing = connections.get(key);
  if (existing?.credentials === material) return existing.connection;
  // A rotated key or certificate: new sessions with it; the old ones finish what they carry.
  void existing?.connection.close();
  let tokens: ProviderTokens | undefined;
  if (credentials.kind === 'token') {
    const tokenKey = `${credentials.teamId}|${credentials.keyId}|${credentials.key}`;
    tokens = providerTokens.get(tokenKey) ?? new ProviderTokens(credentials, providerTokenTable);
    providerTokens.set(tokenKey, tokens);
  }
  const connection = new ApnsConnection(credentials, environment, endpoint, {
    requestTimeoutMs,
    ...(tokens === undefined ? {} : { tokens }),
  });
  connections.set(key, { credentials: material, connection });
  return connection;
}

/** Closes every session (tests and the offline runtime's shutdown). */
export async function closeApnsConnections(): Promise<void> {
  const all = [...connections.values()];
  connections.clear();
  providerTokens.clear();
  await Promise.all(all.map(({ connection }) => connection.close()));
}
