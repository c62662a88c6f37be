import http2 from 'node:http2';
import { logger } from '../../../observability';
import type { PushRequest } from '../../../use-cases/ports/push-providers';
import { PushSession, type SessionOptions } from './push-session';
import { DEFAULT_REQUEST_TIMEOUT_MS } from './request-timeout';

/**
 * Warm HTTP/2 connections to a push service, owned here on node:http2 and shared by
 * APNs (apns/apns-gateway.ts) and FCM (fcm/fcm-gateway.ts), which only say how a
 * request is addressed, how an answer reads and what it means for the connection
 * (PushProtocol), and where the authorization header comes from (Authorization).
 * What it guarantees (docs/apns.md, "Sessions"):
 * - at most SETTINGS_MAX_CONCURRENT_STREAMS requests in flight per session (for APNs
 *   one until the session has answered once) however many tokens are sent at once;
 * - GOAWAY as the servers mean it: streams at or below its last-stream-id get their
 *   answers on the old session, which closes gracefully; streams above it (and
 *   refused ones) were never processed and go out again at once on a new session,
 *   not as an attempt. A session is replaced the same graceful way after a burst of
 *   timeouts, an answer that asks for it, or a PING after idling that gets no
 *   answer — never destroyed while it has healthy streams in flight;
 * - every request gets exactly one answer: a complete answer of the service, or a
 *   transport failure (timeout, reset, lost connection, incomplete response) that
 *   says nothing about the token;
 * - no retries of its own: answers go back to the sender's retry policy;
 * - the authorization header on the wire is always a usable one; a refused one is
 *   dropped so the next request carries a fresh one.
 */

// The request the push-providers port defines: what the use cases hand a connection.
export type { PushRequest };

export interface ResponseFacts {
  status: number;
  /** Read only for non-200 answers (the hot path skips decoding). */
  body: string;
  /** The header named by `PushProtocol.idHeader`. */
  id?: string;
  retryAfter?: string;
}

export interface PushProtocol<Answer> {
  /** The `:path` of the request for one token. */
  path(token: string): string;
  /** A response header worth keeping on every answer (APNs: `apns-id`). */
  idHeader?: string;
  read(response: ResponseFacts): Answer;
  failure(transportError: string): Answer;
  /** What an answer means for the session it came on and for the authorization it carried. */
  review(answer: Answer): {
    /** The server accepted our credentials (lifts the one-stream limit of an untrusted session). */
    credentialsAccepted: boolean;
    /** The server asked for a new connection. */
    endsSession: boolean;
    /** The authorization header was refused as stale: drop it. */
    authorizationRefused: boolean;
  };
}

/** Where the `authorization` header comes from (token auth); absent with TLS certificate auth. */
export interface Authorization {
  /** The header value to send now, or undefined when a fresh one must be fetched first. */
  usable(): string | undefined;
  /** Fetches a usable one; rejects when none can be had. */
  current(): Promise<unknown>;
  /** The server refused this value as stale: never send it again. */
  refused(value: string): void;
  /** The transport error queued requests get when no authorization can be had. */
  readonly unavailable: string;
  /** The transport error for this fetch failure, when the source tells failures apart (else `unavailable`). */
  failureOf?(error: unknown): string;
}

export const TIMEOUT_BURST = 3;
const IDLE_CHECK_AFTER_MS = 5 * 60_000;
const PING_TIMEOUT_MS = 2_000;
/** Sessions in a row that closed without a single answer: the host is unreachable; queued requests fail fast. */
export const MAX_SILENT_SESSIONS = 3;
const { NGHTTP2_CANCEL } = http2.constants;
const ignore = () => undefined;

interface Pending<Answer> {
  request: PushRequest;
  token: string;
  done: (answer: Answer) => void;
}

interface InFlight<Answer> {
  pending: Pending<Answer>;
  session: PushSession;
  stream: http2.ClientHttp2Stream;
  startedAt: number;
  authorization: string | undefined;
}

export interface PushConnectionOptions<Answer> {
  /** The name logs use (APNs, FCM). */
  service: string;
  session: SessionOptions;
  protocol: PushProtocol<Answer>;
  authorization?: Authorization;
  requestTimeoutMs?: number;
}

export class PushConnection<Answer> {
  private readonly sessionOptions: SessionOptions;
  private readonly authority: string;
  private readonly service: string;
  private readonly protocol: PushProtocol<Answer>;
  private readonly requestTimeoutMs: number;
  private readonly authorization: Authorization | undefined;
  /** Requests waiting for room, oldest first. */
  private queue: Pending<Answer>[] = [];
  private queueHead = 0;
  /** Requests a server refused (never processed): sent before the queue, in the order refused. */
  private again: Pending<Answer>[] = [];
  private againHead = 0;
  /** The session new streams go to; retired ones live on in `sessions` until they close. */
  private current: PushSession | undefined;
  private readonly sessions = new Set<PushSession>();
  /** Streams awaiting an answer; one sweeper times them out (cheaper than a timer per stream). */
  private readonly active = new Set<InFlight<Answer>>();
  private sweeper: NodeJS.Timeout | undefined;
  private renewing = false;
  private silentSessions = 0;
  private lastActivity = Date.now();
  private closed = false;

  constructor(options: PushConnectionOptions<Answer>) {
    this.sessionOptions = options.session;
    this.authority = options.session.address;
    this.service = options.service;
    this.protocol = options.protocol;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.authorization = options.authorization;
  }

  /**
   * Sends the request to every token; answers come back in token order. When no
   * authorization can be had at all, every token is answered with the source's
   * failure if it tells failures apart (`failureOf`: FCM's token endpoint), else
   * this rejects (the token source is unreachable).
   */
  async sendAll(request: PushRequest, tokens: readonly string[]): Promise<Answer[]> {
    const answers = new Array<Answer>(tokens.length);
    if (tokens.length === 0) return answers;
    if (this.closed) throw new Error(`the ${this.service} connection is closed`);
    const source = this.authorization;
    try {
      await source?.current();
    } catch (error) {
      if (source?.failureOf === undefined) throw error;
      logger.error(`no ${this.service} authorization`, { error: (error as Error).message });
      return answers.fill(this.protocol.failure(source.failureOf(error)));
    }
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
    for (const pending of this.drainQueue()) pending.done(this.protocol.failure('ConnectionClosed'));
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
      const authorization = this.authorizationNow();
      if (authorization === null) break;
      const session = this.sessionWithRoom();
      if (session === undefined) break;
      if (fromAgain) this.again[this.againHead++] = undefined as unknown as Pending<Answer>;
      else this.queue[this.queueHead++] = undefined as unknown as Pending<Answer>;
      this.dispatch(next, session, authorization);
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
   * The authorization header to send now: undefined without token auth; null while a
   * fresh one is being fetched (the pump resumes when it arrives).
   */
  private authorizationNow(): string | undefined | null {
    const source = this.authorization;
    if (source === undefined) return undefined;
    const value = source.usable();
    if (value !== undefined) return value;
    if (!this.renewing) {
      this.renewing = true;
      source.current().then(
        () => {
          this.renewing = false;
          this.pump();
        },
        (error: unknown) => {
          this.renewing = false;
          logger.error(`no ${this.service} authorization`, { error: (error as Error).message });
          const failure = source.failureOf?.(error) ?? source.unavailable;
          for (const pending of this.drainQueue()) pending.done(this.protocol.failure(failure));
        },
      );
    }
    return null;
  }

  private drainQueue(): Pending<Answer>[] {
    const all = [...this.again.slice(this.againHead), ...this.queue.slice(this.queueHead)];
    this.again = [];
    this.againHead = 0;
    this.queue = [];
    this.queueHead = 0;
    return all;
  }

  /** The current session if it can take a stream now; opens a new one when it is gone or retired. */
  private sessionWithRoom(): PushSession | undefined {
    if (this.current === undefined || !this.current.open) {
      try {
        this.current = new PushSession(
          this.sessionOptions,
          (session) => this.sessionChanged(session),
          (session) => this.sessionClosed(session),
        );
      } catch (error) {
        // pump() runs from stream and session events: nothing may throw out of it.
        logger.error(`could not open an ${this.service} session`, { error: (error as Error).message });
        this.current = undefined;
        for (const pending of this.drainQueue()) pending.done(this.protocol.failure('ConnectionFailed'));
        return undefined;
      }
      this.sessions.add(this.current);
    }
    return this.current.room() > 0 ? this.current : undefined;
  }

  private sessionClosed(session: PushSession): void {
    this.sessions.delete(session);
    if (this.current === session) this.current = undefined;
    // Refused, unreachable or closed before answering anything: after a few in a row, stop
    // opening connections for now; the queued requests go back to the sender's retry policy.
    if (!session.heard && ++this.silentSessions >= MAX_SILENT_SESSIONS) {
      this.silentSessions = 0;
      logger.warn(
        `${this.service} closed connections without answering; failing the queued requests for now`,
      );
      for (const pending of this.drainQueue()) pending.done(this.protocol.failure('ConnectionFailed'));
    }
    queueMicrotask(() => this.pump());
  }

  private sessionChanged(session: PushSession): void {
    if (!session.open && session.inFlight === 0) this.sessions.delete(session);
    if (this.current === session && !session.open) this.current = undefined;
    // Room may have appeared (settings, first answer) or a replacement may be needed (GOAWAY).
    queueMicrotask(() => this.pump());
  }

  private dispatch(pending: Pending<Answer>, session: PushSession, authorization: string | undefined): void {
    this.lastActivity = Date.now();
    const { request, token } = pending;
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.http2.request({
        ':method': 'POST',
        ':scheme': 'https',
        ':authority': this.authority,
        ':path': this.protocol.path(token),
        ...(authorization === undefined ? {} : { authorization }),
        ...request.headers,
      });
    } catch {
      // The session stopped taking streams between the check and now: nothing was sent.
      session.retire();
      this.sendAgain(pending);
      return;
    }
    session.inFlight++;
    const entry: InFlight<Answer> = { pending, session, stream, startedAt: Date.now(), authorization };
    this.active.add(entry);
    this.sweeper ??= setInterval(() => this.sweep(), 250).unref();

    // The hot path (20 000 answers a second): no per-stream decoder, a 200's body never decoded.
    const idHeader = this.protocol.idHeader;
    let status: number | undefined;
    let id: string | undefined;
    let retryAfter: string | undefined;
    let body: Buffer[] | undefined;
    stream.on('response', (headers) => {
      status = Number(headers[':status']);
      if (idHeader !== undefined) {
        const value = headers[idHeader];
        if (typeof value === 'string') id = value;
      }
      const after = headers['retry-after'];
      if (after !== undefined) retryAfter = String(after);
    });
    stream.on('data', (chunk: Buffer) => {
      if (body === undefined) body = [chunk];
      else body.push(chunk);
    });
    stream.on('end', () => {
      if (status === undefined) this.failed(entry);
      else
        this.finish(
          entry,
          this.protocol.read({
            status,
            body: status === 200 || body === undefined ? '' : Buffer.concat(body).toString('utf8'),
            ...(id === undefined ? {} : { id }),
            ...(retryAfter === undefined ? {} : { retryAfter }),
          }),
        );
    });
    // 'error' is always followed by 'close'; the failure is read there.
    stream.on('error', ignore);
    stream.on('close', () => this.failed(entry));
    stream.end(typeof request.body === 'string' ? request.body : request.body(token));
  }

  /**
   * The stream ended without an answer. Never processed (above the GOAWAY's
   * last-stream-id, refused, never sent): sent again at once, not an attempt — a
   * session that refuses streams while still open is overloaded and retired, so
   * this cannot spin. Otherwise it may have been processed: a transport failure.
   */
  private failed(entry: InFlight<Answer>): void {
    if (!this.release(entry)) return;
    const { session, stream, pending } = entry;
    if (session.neverProcessed(stream)) {
      if (session.open) session.retire();
      this.sendAgain(pending);
    } else pending.done(this.protocol.failure('ConnectionError'));
    this.pump();
  }

  private sendAgain(pending: Pending<Answer>): void {
    if (this.closed) {
      pending.done(this.protocol.failure('ConnectionClosed'));
      return;
    }
    this.again.push(pending);
    queueMicrotask(() => this.pump());
  }

  /** The stream ended with an answer: the request is done with it, and the session learns from it. */
  private finish(entry: InFlight<Answer>, answer: Answer): void {
    if (!this.release(entry)) return;
    const { session } = entry;
    const review = this.protocol.review(answer);
    session.answered(review.credentialsAccepted);
    this.silentSessions = 0;
    if (review.authorizationRefused && entry.authorization !== undefined) {
      this.authorization?.refused(entry.authorization);
    }
    if (review.endsSession && session.open) {
      logger.info(`${this.service} asked for a new connection`);
      session.retire();
    }
    entry.pending.done(answer);
    this.pump();
  }

  /** Frees the stream's slot; false when it was already released (a stream ends once, finished or failed). */
  private release(entry: InFlight<Answer>): boolean {
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
      entry.pending.done(this.protocol.failure('Timeout'));
    }
    if (this.active.size === 0 && this.sweeper !== undefined) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
    this.pump();
  }

  private timedOut(session: PushSession): void {
    session.consecutiveTimeouts++;
    if (session.consecutiveTimeouts >= TIMEOUT_BURST && session.open) {
      logger.warn(`replacing ${this.service} session after a burst of timeouts`, {
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
    logger.warn(`replacing idle ${this.service} session that did not answer a PING`);
    // Nothing has been in flight for minutes; if something is, let it finish.
    if (session.inFlight === 0) session.destroy();
    else session.retire();
  }
}
