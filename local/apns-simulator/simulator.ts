import { randomUUID } from 'node:crypto';
import type http2 from 'node:http2';
import { Inbox, type InboxEntry } from './inbox';

export type { InboxEntry } from './inbox';

import { listen, SIMULATOR_TLS, SimulatorConnections } from '../simulator-connections';
import { type FaultReport, type FaultScript, Faults } from './faults';
import { type ProviderKey, type ProviderTokenSeen, ProviderTokens } from './provider-tokens';
import {
  deviceTokenOf,
  deviceTokenProblem,
  notificationProblem,
  requestTargetProblem,
} from './request-rules';

export type { ProviderKey, ProviderTokenSeen } from './provider-tokens';

/**
 * The project's APNs simulator: HTTP/2 over TLS (self-signed), speaking the
 * provider API the way APNs does — JWT checks (provider-tokens.ts), header and payload
 * rules (request-rules.ts), APNs's status codes and reasons — plus scripted faults (see
 * faults.ts; the connection faults in ../simulator-connections.ts). One listener per
 * APNs environment, so a token can be valid in one and a BadDeviceToken in the other.
 * This module is the simulator's face: it puts the rules in APNs's order, applies the
 * faults a test programs, answers and records what it accepted.
 */

export type ApnsEnvironment = 'sandbox' | 'production';

export interface SimulatorOptions {
  providerKeys: ProviderKey[];
  /** Bundle ids the keys may push to; any topic when absent. */
  bundleIds?: string[];
  /** SETTINGS_MAX_CONCURRENT_STREAMS advertised to clients (APNs: 500–1500). */
  maxConcurrentStreams?: number;
  /** Fixed ports (offline mode); random free ports when absent. */
  ports?: Partial<Record<ApnsEnvironment, number>>;
  /** Keep at least the latest this many accepted notifications in the inbox (default 200 000). */
  inboxLimit?: number;
  /** The simulator's clock (ms): provider-token ages are judged by it. Tests move it to simulate hours. */
  clock?: () => number;
  /** Count accepted notifications whose token was accepted before (keeps every accepted token). */
  countDuplicates?: boolean;
}

/**
 * What a programmed per-token fault makes the simulator do with a request: an answer
 * (no `reason`: no body), `reset` — the connection is dropped — or `stall` — never
 * answered and not delivered. (The fault script's `stallEvery` delivers; see faults.ts.)
 */
export type Fault =
  | { status: number; reason?: string; timestamp?: number; retryAfter?: number }
  | { kind: 'reset' }
  | { kind: 'stall' };

type Verdict = Fault | { status: 200; reason?: undefined; timestamp?: undefined; retryAfter?: undefined };

/** What the simulator counts; reset() starts it over. */
function emptyStats() {
  return {
    requests: 0,
    accepted: 0,
    rejected: 0,
    maxInFlight: 0,
    /** The most streams one connection had in flight at once (the server's limit applies per connection). */
    maxInFlightPerSession: 0,
    /** The most streams one connection had in flight before it had answered anything (APNs allows one). */
    maxInFlightBeforeFirstAnswer: 0,
    sessions: 0,
    /** Accepted again after an earlier acceptance of the same token (with `countDuplicates`). */
    duplicates: 0,
    /** The oldest provider token any request carried, in seconds (by the simulator's clock). */
    maxProviderTokenAgeSeconds: 0,
  };
}

export class ApnsSimulator {
  readonly ca = SIMULATOR_TLS.cert;
  /** Every notification accepted, numbered, paged (see Inbox). */
  readonly received: Inbox;
  readonly stats = emptyStats();
  /** Tokens of the streams `stallEvery` processed but never answered (accepted ones are in the inbox). */
  readonly stalledTokens: string[] = [];
  private readonly auth = new ProviderTokens();
  /** Every provider token accepted, in the order first seen. */
  readonly providerTokens: ProviderTokenSeen[] = this.auth.seen;
  endpoints: Record<ApnsEnvironment, string> = { sandbox: '', production: '' };

  private readonly faults = new Faults();
  private readonly connections = new SimulatorConnections(this.faults, this.stats);
  private readonly acceptedTokens = new Set<string>();
  /** The simulator's clock (ms); tests may move it to judge provider tokens hours later. */
  clock: () => number;
  private readonly servers: http2.Http2SecureServer[] = [];
  private readonly tokenFaults = new Map<string, Fault[]>();
  private readonly nextFaults: Fault[] = [];
  private readonly environmentOnly = new Map<string, ApnsEnvironment>();

  constructor(private readonly options: SimulatorOptions) {
    this.received = new Inbox(options.inboxLimit);
    this.clock = options.clock ?? Date.now;
    for (const key of options.providerKeys) this.addProviderKey(key);
  }

  addProviderKey(key: ProviderKey): void {
    this.auth.addKey(key);
  }

  async start(): Promise<this> {
    for (const environment of ['sandbox', 'production'] as const) {
      const server = this.connections.createServer(this.options.maxConcurrentStreams, (stream, headers) =>
        this.onStream(environment, stream, headers),
      );
      this.endpoints[environment] = `127.0.0.1:${await listen(server, this.options.ports?.[environment])}`;
      this.servers.push(server);
    }
    return this;
  }

  async stop(): Promise<void> {
    await this.connections.close(this.servers);
  }

  /** Streams a stall holds now, unanswered. */
  get stalls(): number {
    return this.connections.stalls;
  }

  /**
   * Ends every stream held by a stall now, with a reset: the client sees the request
   * end without an answer (it may have been delivered), as when a connection drops.
   */
  releaseStalls(): void {
    this.connections.releaseStalls();
  }

  /** The next `times` requests for this token get this fault. */
  failToken(token: string, fault: Fault, times = 1): void {
    const queue = this.tokenFaults.get(token) ?? [];
    for (let i = 0; i < times; i++) queue.push(fault);
    this.tokenFaults.set(token, queue);
  }

  /** The next `count` requests, whatever their token, get this fault. */
  failNext(fault: Fault, count = 1): void {
    for (let i = 0; i < count; i++) this.nextFaults.push(fault);
  }

  /** The token exists only in this environment; the other answers BadDeviceToken. */
  tokenOnlyIn(token: string, environment: ApnsEnvironment): void {
    this.environmentOnly.set(token, environment);
  }

  /** Each connection is sent GOAWAY after it has carried `streams` streams. */
  goawayAfterStreams(streams: number | undefined): void {
    const { script } = this.faults.report();
    const connection = { ...script.connection };
    if (streams === undefined) delete connection.goawayEvery;
    else connection.goawayEvery = streams;
    this.faults.replace({ ...script, connection });
  }

  /** Replaces the fault script (`POST /_local/apns/faults`). */
  setFaults(script: FaultScript): void {
    this.faults.replace(script);
  }

  /** The script and what it did so far (`GET /_local/apns/faults`). */
  faultReport(): FaultReport {
    return this.faults.report();
  }

  /** Clears every scripted fault (`DELETE /_local/apns/faults`). */
  clearFaults(): void {
    this.faults.replace({});
  }

  /** The accepted notifications still kept, oldest first. */
  get inbox(): readonly InboxEntry[] {
    return this.received.entries;
  }

  clearInbox(): void {
    this.received.clear();
  }

  reset(): void {
    this.clearInbox();
    this.tokenFaults.clear();
    this.nextFaults.length = 0;
    this.environmentOnly.clear();
    this.clearFaults();
    this.acceptedTokens.clear();
    this.stalledTokens.length = 0;
    this.auth.forgetAccepted();
    Object.assign(this.stats, emptyStats());
  }

  private onStream(
    environment: ApnsEnvironment,
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
  ): void {
    this.stats.requests++;
    const admitted = this.connections.admit(stream);
    if (admitted === undefined) return;
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => this.handle(environment, stream, headers, Buffer.concat(chunks), admitted.stall));
  }

  private handle(
    environment: ApnsEnvironment,
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
    body: Buffer,
    stall: boolean,
  ): void {
    const token = deviceTokenOf(headers);
    const apnsId = typeof headers['apns-id'] === 'string' ? headers['apns-id'] : newApnsId();
    const verdict = this.judge(environment, headers, token, body);
    if ('kind' in verdict) {
      if (verdict.kind === 'reset') {
        stream.session?.destroy();
      } else this.connections.stall(stream);
      return;
    }
    if (verdict.status !== 200) {
      this.stats.rejected++;
      if (stall) {
        this.stall(stream, token);
        return;
      }
      if (stream.destroyed) return;
      this.connections.answered(stream);
      stream.respond({
        ':status': verdict.status,
        'apns-id': apnsId,
        'content-type': 'application/json',
        ...(verdict.retryAfter === undefined ? {} : { 'retry-after': String(verdict.retryAfter) }),
      });
      // A scripted answer without a reason has no body: what a broken proxy would send.
      if (verdict.reason === undefined) {
        stream.end();
        return;
      }
      const extra = verdict.timestamp === undefined ? {} : { timestamp: verdict.timestamp };
      stream.end(JSON.stringify({ reason: verdict.reason, ...extra }));
      return;
    }
    this.stats.accepted++;
    if (this.options.countDuplicates) {
      if (this.acceptedTokens.has(token)) this.stats.duplicates++;
      else this.acceptedTokens.add(token);
    }
    this.received.add({
      token,
      topic: String(headers['apns-topic']),
      environment,
      apnsId,
      headers: apnsHeaders(headers),
      payload: JSON.parse(body.toString('utf8')),
      receivedAt: new Date().toISOString(),
    });
    // Delivered, never answered: the one truly ambiguous case for the client.
    if (stall) {
      this.stall(stream, token);
      return;
    }
    if (stream.destroyed) return;
    this.connections.answered(stream);
    stream.respond({ ':status': 200, 'apns-id': apnsId });
    stream.end();
  }

  /** A `stallEvery` stall: held like any other, its token kept for the test to check. */
  private stall(stream: http2.ServerHttp2Stream, token: string): void {
    this.stalledTokens.push(token);
    this.connections.stall(stream);
  }

  /** What APNs would answer: 200, a rejection with its reason, or a scripted transport fault. */
  private judge(
    environment: ApnsEnvironment,
    headers: http2.IncomingHttpHeaders,
    token: string,
    body: Buffer,
  ): Verdict {
    const target = requestTargetProblem(headers, token);
    if (target !== undefined) return target;

    const { refusal, ageSeconds } = this.auth.check(headers.authorization, this.clock());
    if (ageSeconds !== undefined) {
      this.stats.maxProviderTokenAgeSeconds = Math.max(this.stats.maxProviderTokenAgeSeconds, ageSeconds);
    }
    if (refusal !== undefined) return refusal;

    const fault =
      this.tokenFaults.get(token)?.shift() ?? this.nextFaults.shift() ?? this.faults.forToken(token);
    if (fault !== undefined) return fault;

    const badToken = deviceTokenProblem(token);
    if (badToken !== undefined) return badToken;
    const only = this.environmentOnly.get(token);
    if (only !== undefined && only !== environment) return { status: 400, reason: 'BadDeviceToken' };

    return notificationProblem(headers, body, this.options.bundleIds) ?? { status: 200 };
  }
}

/**
 * A fresh apns-id, as one flat string. Node builds randomUUID()'s text from 36 pieces
 * and V8 keeps it as a chain of them until its characters are read: ~490 bytes each
 * instead of ~65, which the inbox kept for every accepted notification (about 70 MB
 * at 150 000, measured with bench/offline-memory.ts).
 */
function newApnsId(): string {
  return Buffer.from(randomUUID(), 'latin1').toString('latin1');
}

function apnsHeaders(headers: http2.IncomingHttpHeaders): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith('apns-') && value !== undefined) kept[name] = String(value);
  }
  return kept;
}

export async function startApnsSimulator(options: SimulatorOptions): Promise<ApnsSimulator> {
  return new ApnsSimulator(options).start();
}
