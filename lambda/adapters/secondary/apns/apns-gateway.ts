import http2 from 'node:http2';
import clientFactory from '@parse/node-apn/lib/client.js';
import configFactory from '@parse/node-apn/lib/config.js';
import credentialsFactory from '@parse/node-apn/lib/credentials/index.js';
import type { RawApnsAnswer } from '../../../domain/apns-outcome';
import type { ApnsRequest } from '../../../domain/apns-request';
import type { ApnsEnvironment } from '../../../domain/device';
import { logger } from '../../../observability';

/**
 * The APNs gateway: warm HTTP/2 sessions to APNs. @parse/node-apn owns the
 * connection — TLS and credentials, the provider JWT (minted, cached, renewed
 * before 60 minutes), heartbeat PINGs, and dropping the session on GOAWAY, error or
 * close so the next request reconnects. The request path is ours, because that is
 * where node-apn's traps are (APNS.md): it opens every recipient's stream at once,
 * retries 429/5xx immediately, and never sees `retry-after` (it looks for
 * `Retry-After`; HTTP/2 names are lower case). So here:
 * - at most SETTINGS_MAX_CONCURRENT_STREAMS requests in flight per session — one
 *   until the session has answered once (APNs allows one stream before the first
 *   valid JWT) — however many tokens are sent at once;
 * - no retries: every answer goes back to the sender's retry policy, with
 *   `retry-after` read;
 * - a session is replaced after a burst of timeouts, and checked with a PING after
 *   idling (a Lambda freeze can leave a dead socket).
 * Sessions live in module scope, one per credential and environment, so warm
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
const MAX_STREAMS_CAP = 1000;
const TIMEOUT_BURST = 3;
const IDLE_CHECK_AFTER_MS = 5 * 60_000;
const PING_TIMEOUT_MS = 2_000;
/** node-apn renews its JWT after 55 minutes (APNs rejects one older than 60). */
const JWT_RENEW_AFTER_SECONDS = 3300;
const { NGHTTP2_CANCEL } = http2.constants;

const silent = Object.assign(() => undefined, { enabled: false });
const errorLog = Object.assign((message: string) => logger.debug('node-apn', { message }), { enabled: true });
const credentials = credentialsFactory({ logger: silent });
const Client = clientFactory({
  logger: silent,
  errorLogger: errorLog,
  config: configFactory({
    logger: silent,
    prepareCertificate: credentials.certificate,
    prepareToken: credentials.token,
    prepareCA: credentials.ca,
  }),
  http2,
});

interface Pending {
  request: ApnsRequest;
  token: string;
  done: (answer: RawApnsAnswer) => void;
}

interface InFlight {
  stream: http2.ClientHttp2Stream;
  startedAt: number;
  settle: (answer: RawApnsAnswer) => void;
}

export class ApnsConnection {
  private readonly client: NodeApnClient;
  private readonly queue: Pending[] = [];
  private queueHead = 0;
  private inFlight = 0;
  private confirmedSession: unknown;
  private connecting: Promise<void> | undefined;
  private consecutiveTimeouts = 0;
  private lastActivity = Date.now();
  /** Streams awaiting an answer; one sweeper times them out (cheaper than a timer per stream). */
  private readonly active = new Set<InFlight>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    credentials: ApnsCredentials,
    environment: ApnsEnvironment,
    endpoint: ApnsEndpoint,
    private readonly requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
  ) {
    const auth =
      credentials.kind === 'token'
        ? { token: { key: credentials.key, keyId: credentials.keyId, teamId: credentials.teamId } }
        : { cert: credentials.cert, key: credentials.key, passphrase: credentials.passphrase ?? null };
    const [, port = '443'] = endpoint.address.split(':');
    this.client = new Client({
      ...auth,
      // node-apn defaults this to NODE_ENV === 'production': always explicit.
      production: environment === 'production',
      // node-apn builds the URL from `address` alone; http2 takes the port from the options.
      address: endpoint.address,
      port: Number(port),
      ...(endpoint.ca === undefined ? {} : { ca: endpoint.ca }),
      heartBeat: 60_000,
    });
  }

  /** Sends the same request to every token; answers come back in token order. */
  async sendAll(request: ApnsRequest, tokens: readonly string[]): Promise<RawApnsAnswer[]> {
    await this.checkIdleSession();
    const answers = new Array<RawApnsAnswer>(tokens.length);
    if (tokens.length === 0) return answers;
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

  async close(): Promise<void> {
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
    await this.client.shutdown();
  }

  private openSession(): http2.ClientHttp2Session | undefined {
    const session = this.client.session;
    return session && !session.closed && !session.destroyed ? session : undefined;
  }

  /** Requests allowed in flight now: one until the session answered, then its advertised limit. */
  private limit(): number {
    const session = this.client.session;
    return session && session === this.confirmedSession && !session.closed ? this.confirmedLimit : 1;
  }

  private confirmedLimit = 1;

  /** Reads SETTINGS_MAX_CONCURRENT_STREAMS (a getter that asks nghttp2: read it on change, not per request). */
  private readLimit(session: http2.ClientHttp2Session): void {
    const advertised = session.remoteSettings?.maxConcurrentStreams ?? 1;
    this.confirmedLimit = Math.max(1, Math.min(advertised, MAX_STREAMS_CAP));
  }

  private pump(): void {
    while (this.queueHead < this.queue.length && this.inFlight < this.limit()) {
      const pending = this.queue[this.queueHead] as Pending;
      this.queue[this.queueHead] = undefined as unknown as Pending;
      this.queueHead++;
      this.inFlight++;
      this.write(pending, (answer) => {
        this.inFlight--;
        pending.done(answer);
        this.pump();
      });
    }
    if (this.queueHead === this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
    }
  }

  private write({ request, token }: Pending, done: (answer: RawApnsAnswer) => void): void {
    this.lastActivity = Date.now();
    const session = this.openSession();
    if (session) {
      this.send(session, request, token, done);
      return;
    }
    this.connecting ??= this.client.connect().finally(() => {
      this.connecting = undefined;
    });
    this.connecting.then(
      () => {
        const connected = this.openSession();
        if (connected) this.send(connected, request, token, done);
        else done({ transportError: 'ConnectionError' });
      },
      () => done({ transportError: 'ConnectionError' }),
    );
  }

  private send(
    session: http2.ClientHttp2Session,
    request: ApnsRequest,
    token: string,
    done: (answer: RawApnsAnswer) => void,
  ): void {
    const jwt = this.client.config.token;
    if (jwt?.isExpired(JWT_RENEW_AFTER_SECONDS)) jwt.regenerate(jwt.generation);
    const generation = jwt?.generation;
    this.request(session, request, token, jwt?.current, (answer) => {
      if (answer.status !== undefined) this.answered(session);
      else if (answer.transportError === 'Timeout') this.timedOut();
      if (answer.status === 403 && answer.reason === 'ExpiredProviderToken' && generation !== undefined) {
        jwt?.regenerate(generation);
      }
      done(answer);
    });
  }

  /** One POST /3/device/<token> on the session; calls back with the answer, never throws. */
  private request(
    session: http2.ClientHttp2Session,
    request: ApnsRequest,
    token: string,
    jwt: string | undefined,
    done: (answer: RawApnsAnswer) => void,
  ): void {
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request({
        ':method': 'POST',
        ':scheme': 'https',
        ':authority': this.client.config.address,
        ':path': `/3/device/${token}`,
        ...(jwt === undefined ? {} : { authorization: `bearer ${jwt}` }),
        ...request.headers,
      });
    } catch {
      done({ transportError: 'ConnectionError' });
      return;
    }
    let status: number | undefined;
    let apnsId: string | undefined;
    let retryAfter: string | undefined;
    let body = '';
    const entry: InFlight = {
      stream,
      startedAt: Date.now(),
      settle: (answer) => {
        if (this.active.delete(entry)) done(answer);
      },
    };
    this.active.add(entry);
    this.sweeper ??= setInterval(() => this.sweep(), 250).unref();
    stream.on('response', (headers) => {
      status = Number(headers[':status']);
      const id = headers['apns-id'];
      if (typeof id === 'string') apnsId = id;
      const after = headers['retry-after'];
      if (after !== undefined) retryAfter = String(after);
    });
    stream.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    stream.on('end', () => {
      if (status === undefined) entry.settle({ transportError: 'ConnectionError' });
      else if (status === 200) entry.settle(apnsId === undefined ? { status } : { status, apnsId });
      else
        entry.settle({
          status,
          ...parseErrorBody(status, body),
          ...(retryAfter === undefined ? {} : { retryAfter }),
        });
    });
    stream.on('error', () => entry.settle({ transportError: 'ConnectionError' }));
    stream.on('close', () => entry.settle({ transportError: 'ConnectionError' }));
    stream.end(request.body);
  }

  /** Cancels streams older than the request timeout; stops when nothing is in flight. */
  private sweep(): void {
    const expired = Date.now() - this.requestTimeoutMs;
    for (const entry of this.active) {
      if (entry.startedAt <= expired) {
        entry.stream.close(NGHTTP2_CANCEL);
        entry.settle({ transportError: 'Timeout' });
      }
    }
    if (this.active.size === 0 && this.sweeper !== undefined) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  private answered(session: http2.ClientHttp2Session): void {
    this.consecutiveTimeouts = 0;
    if (this.confirmedSession !== session) {
      this.confirmedSession = session;
      this.readLimit(session);
      // APNs may lower (or raise) the limit later in the session's life.
      session.on('remoteSettings', () => {
        if (this.confirmedSession === session) this.readLimit(session);
      });
      // The window may have grown from one stream to the server's limit.
      queueMicrotask(() => this.pump());
    }
  }

  private timedOut(): void {
    this.consecutiveTimeouts++;
    const session = this.openSession();
    if (this.consecutiveTimeouts >= TIMEOUT_BURST && session) {
      logger.warn('replacing APNs session after a burst of timeouts', { timeouts: this.consecutiveTimeouts });
      this.client.destroySession(session);
      this.consecutiveTimeouts = 0;
    }
  }

  /** After a long idle (or a Lambda freeze), PING before trusting the socket; replace it if silent. */
  private async checkIdleSession(): Promise<void> {
    const session = this.openSession();
    if (!session || Date.now() - this.lastActivity < IDLE_CHECK_AFTER_MS) return;
    const alive = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS);
      try {
        session.ping((error) => {
          clearTimeout(timer);
          resolve(!error);
        });
      } catch {
        clearTimeout(timer);
        resolve(false);
      }
    });
    if (!alive) {
      logger.warn('replacing idle APNs session that did not answer a PING');
      this.client.destroySession(session);
    }
    this.lastActivity = Date.now();
  }
}

function parseErrorBody(status: number, body: string): { reason: string; timestamp?: number } {
  try {
    const parsed = JSON.parse(body) as { reason?: unknown; timestamp?: unknown };
    const reason = typeof parsed.reason === 'string' ? parsed.reason : `HTTP${status}`;
    return typeof parsed.timestamp === 'number' ? { reason, timestamp: parsed.timestamp } : { reason };
  } catch {
    return { reason: `HTTP${status}` };
  }
}

/** Module-scope sessions, one per credential and environment, reused across invocations. */
const connections = new Map<string, ApnsConnection>();

export function apnsConnection(
  credentialId: string,
  credentials: ApnsCredentials,
  environment: ApnsEnvironment,
  endpoint: ApnsEndpoint,
  requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
): ApnsConnection {
  const key = `${credentialId}|${environment}|${endpoint.address}`;
  let connection = connections.get(key);
  if (connection === undefined) {
    connection = new ApnsConnection(credentials, environment, endpoint, requestTimeoutMs);
    connections.set(key, connection);
  }
  return connection;
}

/** Closes every session (tests and the offline runtime's shutdown). */
export async function closeApnsConnections(): Promise<void> {
  const all = [...connections.values()];
  connections.clear();
  await Promise.all(all.map((connection) => connection.close()));
}
