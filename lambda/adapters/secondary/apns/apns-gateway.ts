import http2 from 'node:http2';
import clientFactory from '@parse/node-apn/lib/client.js';
import configFactory from '@parse/node-apn/lib/config.js';
import credentialsFactory from '@parse/node-apn/lib/credentials/index.js';
import type { RawApnsAnswer } from '../../../domain/apns-outcome';
import type { ApnsRequest } from '../../../domain/apns-request';
import type { ApnsEnvironment } from '../../../domain/device';
import { logger } from '../../../observability';

/**
 * The APNs gateway: warm HTTP/2 sessions to APNs built on @parse/node-apn, with
 * what node-apn lacks —
 * - at most SETTINGS_MAX_CONCURRENT_STREAMS requests in flight per session (one
 *   until the session has answered once: APNs allows one stream before the first
 *   valid JWT), however many tokens are sent at once;
 * - `retry-after` read with its real (lower-case) HTTP/2 name, and no immediate
 *   retries of its own (connectionRetryLimit 0): the sender's retry policy decides;
 * - sessions replaced after a burst of timeouts, and checked with a PING after
 *   idling (a Lambda freeze can leave a dead socket); GOAWAY is handled by node-apn,
 *   which drops the session so the next request reconnects.
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

const MAX_STREAMS_CAP = 1000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const TIMEOUT_BURST = 3;
const IDLE_CHECK_AFTER_MS = 5 * 60_000;
const PING_TIMEOUT_MS = 2_000;

const silent = Object.assign(() => undefined, { enabled: false });
const errorLog = Object.assign((message: string) => logger.debug('node-apn', { message }), { enabled: true });
const credentials = credentialsFactory({ logger: silent });
const config = configFactory({
  logger: silent,
  prepareCertificate: credentials.certificate,
  prepareToken: credentials.token,
  prepareCA: credentials.ca,
});

interface Pending {
  request: ApnsRequest;
  token: string;
  resolve: (answer: RawApnsAnswer) => void;
}

export class ApnsConnection {
  private readonly client: NodeApnClient;
  private readonly retryAfterByToken = new Map<string, string>();
  private readonly queue: Pending[] = [];
  private queueHead = 0;
  private inFlight = 0;
  private confirmedSession: unknown;
  private consecutiveTimeouts = 0;
  private lastActivity = Date.now();
  /** Sessions opened over this connection's life (1 = never replaced). */
  sessionsOpened = 0;

  constructor(
    credentials: ApnsCredentials,
    environment: ApnsEnvironment,
    endpoint: ApnsEndpoint,
    requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
  ) {
    const observedHttp2 = {
      ...http2,
      constants: http2.constants,
      connect: (authority: string, options: http2.SecureClientSessionOptions) => {
        const session = http2.connect(authority, options);
        this.sessionsOpened++;
        this.observe(session);
        return session;
      },
    };
    const Client = clientFactory({ logger: silent, errorLogger: errorLog, config, http2: observedHttp2 });
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
      connectionRetryLimit: 0,
      requestTimeout: requestTimeoutMs,
      heartBeat: 60_000,
    });
  }

  /** Sends the same request to every token; answers come back in token order. */
  async sendAll(request: ApnsRequest, tokens: readonly string[]): Promise<RawApnsAnswer[]> {
    await this.checkIdleSession();
    return Promise.all(tokens.map((token) => this.send(request, token)));
  }

  send(request: ApnsRequest, token: string): Promise<RawApnsAnswer> {
    return new Promise((resolve) => {
      this.queue.push({ request, token, resolve });
      this.pump();
    });
  }

  async close(): Promise<void> {
    await this.client.shutdown();
  }

  private limit(): number {
    const session = this.client.session;
    if (!session || session !== this.confirmedSession) return 1;
    const advertised = session.remoteSettings?.maxConcurrentStreams ?? 1;
    return Math.max(1, Math.min(advertised, MAX_STREAMS_CAP));
  }

  private pump(): void {
    while (this.queueHead < this.queue.length && this.inFlight < this.limit()) {
      const pending = this.queue[this.queueHead] as Pending;
      this.queue[this.queueHead] = undefined as unknown as Pending;
      this.queueHead++;
      this.inFlight++;
      this.write(pending).then((answer) => {
        this.inFlight--;
        pending.resolve(answer);
        this.pump();
      });
    }
    if (this.queueHead === this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
    }
  }

  private async write({ request, token }: Pending): Promise<RawApnsAnswer> {
    this.lastActivity = Date.now();
    const session = this.client.session;
    try {
      const sent = await this.client.write(request, token, 'device', 'post');
      this.answered(session);
      const apnsId = sent['apns-id'];
      return typeof apnsId === 'string' ? { status: 200, apnsId } : { status: 200 };
    } catch (failure) {
      return this.failed(token, failure as Record<string, unknown>, session);
    } finally {
      this.retryAfterByToken.delete(token);
    }
  }

  private failed(token: string, failure: Record<string, unknown>, session: unknown): RawApnsAnswer {
    const status = typeof failure.status === 'number' ? failure.status : undefined;
    const response = (failure.response ?? {}) as { reason?: string; timestamp?: number };
    const error = failure.error instanceof Error ? failure.error : undefined;
    if (status === undefined) {
      const transportError = /timeout/i.test(error?.message ?? '') ? 'Timeout' : 'ConnectionError';
      this.transportFailed(transportError);
      return { transportError };
    }
    this.answered(session);
    const reason = response.reason ?? reasonFromError(status, error);
    const retryAfter = this.retryAfterByToken.get(token);
    return {
      status,
      reason,
      ...(response.timestamp === undefined ? {} : { timestamp: response.timestamp }),
      ...(retryAfter === undefined ? {} : { retryAfter }),
    };
  }

  private answered(session: unknown): void {
    this.consecutiveTimeouts = 0;
    if (session && this.confirmedSession !== session) {
      this.confirmedSession = session;
      // The window may have grown from one stream to the server's limit.
      queueMicrotask(() => this.pump());
    }
  }

  private transportFailed(kind: 'Timeout' | 'ConnectionError'): void {
    if (kind !== 'Timeout') return;
    this.consecutiveTimeouts++;
    if (this.consecutiveTimeouts >= TIMEOUT_BURST && this.client.session) {
      logger.warn('replacing APNs session after a burst of timeouts', { timeouts: this.consecutiveTimeouts });
      this.client.destroySession(this.client.session);
      this.client.session = null;
      this.consecutiveTimeouts = 0;
    }
  }

  /** After a long idle (or a Lambda freeze), PING before trusting the socket; replace it if silent. */
  private async checkIdleSession(): Promise<void> {
    const session = this.client.session;
    if (!session || session.closed || session.destroyed) return;
    if (Date.now() - this.lastActivity < IDLE_CHECK_AFTER_MS) return;
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
      this.client.session = null;
    }
    this.lastActivity = Date.now();
  }

  /** Reads `retry-after` (HTTP/2 header names are lower case; node-apn looks for `Retry-After`). */
  private observe(session: http2.ClientHttp2Session): void {
    const request = session.request.bind(session);
    session.request = ((headers?: http2.OutgoingHttpHeaders, options?: http2.ClientSessionRequestOptions) => {
      const stream = request(headers, options);
      const path = String(headers?.[':path'] ?? '');
      stream.once('response', (responseHeaders) => {
        const retryAfter = responseHeaders['retry-after'];
        if (retryAfter !== undefined)
          this.retryAfterByToken.set(path.slice(path.lastIndexOf('/') + 1), String(retryAfter));
      });
      return stream;
    }) as typeof session.request;
  }
}

function reasonFromError(status: number, error: Error | undefined): string {
  if (error && /^[A-Z][A-Za-z]+$/.test(error.message)) return error.message;
  if (status === 500) return 'InternalServerError';
  return `HTTP${status}`;
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
