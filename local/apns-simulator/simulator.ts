import { createPublicKey, type KeyObject, randomUUID, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Inbox, type InboxEntry } from './inbox';

export type { InboxEntry } from './inbox';

import { openConnectionWindow } from '../http2-window';
import { type FaultReport, type FaultScript, Faults } from './faults';
import { LIVE_ACTIVITY_PAYLOAD_REASON, liveActivityPayloadProblem } from './live-activity-rules';

/**
 * The project's APNs simulator: HTTP/2 over TLS (self-signed), speaking the
 * provider API the way APNs does — JWT checks (expired after 60 minutes, at most one
 * new token per key every 20 minutes), header and payload rules, APNs's status codes
 * and reasons — plus scripted faults (see faults.ts). One listener per APNs
 * environment, so a token can be valid in one and a BadDeviceToken in the other.
 */

export type ApnsEnvironment = 'sandbox' | 'production';

export interface ProviderKey {
  keyId: string;
  teamId: string;
  /** The public half of the .p8 key (PEM or KeyObject). */
  publicKey: string | KeyObject;
}

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

/** A provider token the simulator accepted for the first time. */
export interface ProviderTokenSeen {
  keyId: string;
  issuedAt: number;
  /** By the simulator's clock, ms. */
  firstUsedAt: number;
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

const TLS_DIR = join(import.meta.dirname, '.');
const PAYLOAD_LIMIT = 4096;
const VOIP_PAYLOAD_LIMIT = 5120;
const JWT_MAX_AGE_SECONDS = 3600;
/** APNs refuses a new provider token for a key within this long (by `iat`) of the previous one. */
const JWT_UPDATE_INTERVAL_SECONDS = 1200;
const PUSH_TYPE_SUFFIX: Record<string, string> = {
  alert: '',
  background: '',
  voip: '.voip',
  complication: '.complication',
  fileprovider: '.pushkit.fileprovider',
  mdm: '',
  liveactivity: '.push-type.liveactivity',
  pushtotalk: '.voip-ptt',
  location: '.location-query',
  widgets: '.push-type.widgets',
  controls: '.push-type.controls',
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

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
  readonly ca = readFileSync(join(TLS_DIR, 'tls-cert.pem'), 'utf8');
  /** Every notification accepted, numbered, paged (see Inbox). */
  readonly received: Inbox;
  readonly stats = emptyStats();
  /** Tokens of the streams `stallEvery` processed but never answered (accepted ones are in the inbox). */
  readonly stalledTokens: string[] = [];
  /** Every provider token accepted, in the order first seen. */
  readonly providerTokens: ProviderTokenSeen[] = [];
  endpoints: Record<ApnsEnvironment, string> = { sandbox: '', production: '' };

  private readonly keys = new Map<string, { teamId: string; publicKey: KeyObject }>();
  private readonly verifiedJwts = new Map<string, { iat: number; keyId: string } | string>();
  /** Per key: the tokens accepted so far and the newest one's `iat`. */
  private readonly keyTokens = new Map<string, { accepted: Set<string>; newestIssuedAt: number }>();
  private readonly faults = new Faults();
  private readonly acceptedTokens = new Set<string>();
  /** The simulator's clock (ms); tests may move it to judge provider tokens hours later. */
  clock: () => number;
  private readonly servers: http2.Http2SecureServer[] = [];
  private readonly tokenFaults = new Map<string, Fault[]>();
  private readonly nextFaults: Fault[] = [];
  private readonly environmentOnly = new Map<string, ApnsEnvironment>();
  private readonly stalled = new Set<http2.ServerHttp2Stream>();
  private inFlight = 0;

  constructor(private readonly options: SimulatorOptions) {
    this.received = new Inbox(options.inboxLimit);
    this.clock = options.clock ?? Date.now;
    for (const key of options.providerKeys) this.addProviderKey(key);
  }

  addProviderKey(key: ProviderKey): void {
    const publicKey = typeof key.publicKey === 'string' ? createPublicKey(key.publicKey) : key.publicKey;
    this.keys.set(key.keyId, { teamId: key.teamId, publicKey });
  }

  async start(): Promise<this> {
    for (const environment of ['sandbox', 'production'] as const) {
      const server = http2.createSecureServer({
        key: readFileSync(join(TLS_DIR, 'tls-key.pem')),
        cert: this.ca,
        allowHTTP1: false,
        settings: { maxConcurrentStreams: this.options.maxConcurrentStreams ?? 1000 },
      });
      server.on('session', (session) => this.onSession(session));
      server.on('stream', (stream, headers) => this.onStream(environment, stream, headers));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.options.ports?.[environment] ?? 0, '127.0.0.1', () => resolve());
      });
      this.endpoints[environment] = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      this.servers.push(server);
    }
    return this;
  }

  async stop(): Promise<void> {
    for (const stream of this.stalled) stream.destroy();
    await Promise.all(
      this.servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            for (const session of this.sessions) session.destroy();
          }),
      ),
    );
  }

  /** Streams a stall holds now, unanswered. */
  get stalls(): number {
    return this.stalled.size;
  }

  /**
   * Ends every stream held by a stall now, with a reset: the client sees the request
   * end without an answer (it may have been delivered), as when a connection drops.
   */
  releaseStalls(): void {
    for (const stream of this.stalled) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
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
    // Like a fresh APNs: no provider token seen yet (the 20-minute rule starts over).
    this.keyTokens.clear();
    this.providerTokens.length = 0;
    Object.assign(this.stats, emptyStats());
  }

  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private readonly sessionState = new WeakMap<
    http2.Http2Session,
    { streams: number; inFlight: number; answered: boolean; lastStreamId?: number }
  >();

  private onSession(session: http2.ServerHttp2Session): void {
    openConnectionWindow(session);
    this.stats.sessions++;
    this.sessions.add(session);
    this.sessionState.set(session, { streams: 0, inFlight: 0, answered: false });
    session.on('close', () => this.sessions.delete(session));
    session.on('error', () => undefined);
  }

  private onStream(
    environment: ApnsEnvironment,
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
  ): void {
    this.stats.requests++;
    stream.on('error', () => undefined);
    const session = stream.session;
    const state = session ? this.sessionState.get(session) : undefined;
    if (state?.lastStreamId !== undefined && (stream.id ?? 0) > state.lastStreamId) {
      // After our GOAWAY, newer streams are refused, never processed (the client may send them again).
      stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    this.inFlight++;
    this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.inFlight);
    if (state) {
      state.inFlight++;
      this.stats.maxInFlightPerSession = Math.max(this.stats.maxInFlightPerSession, state.inFlight);
      if (!state.answered) {
        this.stats.maxInFlightBeforeFirstAnswer = Math.max(
          this.stats.maxInFlightBeforeFirstAnswer,
          state.inFlight,
        );
      }
    }
    let done = false;
    stream.on('close', () => {
      if (done) return;
      done = true;
      this.inFlight--;
      if (!state) return;
      state.inFlight--;
      // After GOAWAY, close once every stream up to its last-stream-id has been answered. Not
      // sooner: a close() submitted before the GOAWAY frame is written would send a second
      // GOAWAY with a higher last-stream-id, a protocol error that kills the answers in flight.
      if (state.lastStreamId !== undefined && state.inFlight === 0) session?.close();
    });
    const fault = this.faults.nextStream();
    if (session && state) {
      state.streams++;
      const goawayEvery = this.faults.goawayEvery();
      if (
        goawayEvery !== undefined &&
        state.streams % goawayEvery === 0 &&
        state.lastStreamId === undefined
      ) {
        // As Apple does: GOAWAY naming the last stream it will answer; the connection closes once
        // those are answered (below).
        state.lastStreamId = stream.id ?? 0;
        this.faults.count('goaways');
        session.goaway(http2.constants.NGHTTP2_NO_ERROR, state.lastStreamId);
      }
    }
    if (fault === 'reset') {
      // Reset before anything is processed: nothing reaches the device.
      this.faults.count('resets');
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () =>
      this.handle(environment, stream, headers, Buffer.concat(chunks), fault === 'stall'),
    );
  }

  private handle(
    environment: ApnsEnvironment,
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
    body: Buffer,
    stall: boolean,
  ): void {
    const path = String(headers[':path'] ?? '');
    const token = path.startsWith('/3/device/') ? path.slice('/3/device/'.length) : '';
    const apnsId = typeof headers['apns-id'] === 'string' ? headers['apns-id'] : newApnsId();
    const verdict = this.judge(environment, headers, token, body);
    if ('kind' in verdict) {
      if (verdict.kind === 'reset') {
        stream.session?.destroy();
      } else this.stall(stream);
      return;
    }
    if (verdict.status !== 200) {
      this.stats.rejected++;
      if (stall) {
        this.stall(stream, token);
        return;
      }
      if (stream.destroyed) return;
      this.answered(stream);
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
    this.answered(stream);
    stream.respond({ ':status': 200, 'apns-id': apnsId });
    stream.end();
  }

  private answered(stream: http2.ServerHttp2Stream): void {
    const state = stream.session ? this.sessionState.get(stream.session) : undefined;
    if (state) state.answered = true;
  }

  private stall(stream: http2.ServerHttp2Stream, scriptedFor?: string): void {
    this.faults.count('stalls');
    if (scriptedFor !== undefined) this.stalledTokens.push(scriptedFor);
    this.stalled.add(stream);
    stream.on('close', () => this.stalled.delete(stream));
  }

  /** What APNs would answer: 200, a rejection with its reason, or a scripted transport fault. */
  private judge(
    environment: ApnsEnvironment,
    headers: http2.IncomingHttpHeaders,
    token: string,
    body: Buffer,
  ): Verdict {
    const path = String(headers[':path'] ?? '');
    if (headers[':method'] !== 'POST') return { status: 405, reason: 'MethodNotAllowed' };
    if (!path.startsWith('/3/device/')) return { status: 404, reason: 'BadPath' };
    if (token === '') return { status: 400, reason: 'MissingDeviceToken' };

    const auth = this.checkAuthorization(headers.authorization);
    if (auth !== undefined) return auth;

    const fault =
      this.tokenFaults.get(token)?.shift() ?? this.nextFaults.shift() ?? this.faults.forToken(token);
    if (fault !== undefined) return fault;

    if (!/^[0-9a-f]+$/.test(token) || token.length % 2 !== 0 || token.length < 32 || token.length > 400) {
      return { status: 400, reason: 'BadDeviceToken' };
    }
    const only = this.environmentOnly.get(token);
    if (only !== undefined && only !== environment) return { status: 400, reason: 'BadDeviceToken' };

    const topic = headers['apns-topic'];
    if (typeof topic !== 'string' || topic === '') return { status: 400, reason: 'MissingTopic' };
    const pushType = String(headers['apns-push-type'] ?? 'alert');
    const suffix = PUSH_TYPE_SUFFIX[pushType];
    if (suffix === undefined) return { status: 400, reason: 'InvalidPushType' };
    if (suffix && !topic.endsWith(suffix)) return { status: 400, reason: 'BadTopic' };
    const bundleId = suffix ? topic.slice(0, -suffix.length) : topic;
    if (this.options.bundleIds && !this.options.bundleIds.includes(bundleId)) {
      return { status: 400, reason: 'TopicDisallowed' };
    }
    const priority = String(headers['apns-priority'] ?? '10');
    if (!['10', '5', '1'].includes(priority)) return { status: 400, reason: 'BadPriority' };
    if (pushType === 'background' && priority === '10') return { status: 400, reason: 'BadPriority' };
    const collapseId = headers['apns-collapse-id'];
    if (typeof collapseId === 'string' && Buffer.byteLength(collapseId) > 64) {
      return { status: 400, reason: 'BadCollapseId' };
    }
    const expiration = headers['apns-expiration'];
    if (expiration !== undefined && !/^\d+$/.test(String(expiration)))
      return { status: 400, reason: 'BadExpirationDate' };
    if (headers['apns-id'] !== undefined && !UUID.test(String(headers['apns-id']))) {
      return { status: 400, reason: 'BadMessageId' };
    }
    if (body.length === 0) return { status: 400, reason: 'PayloadEmpty' };
    if (body.length > (pushType === 'voip' ? VOIP_PAYLOAD_LIMIT : PAYLOAD_LIMIT)) {
      return { status: 413, reason: 'PayloadTooLarge' };
    }
    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      return { status: 400, reason: 'PayloadEmpty' };
    }
    if (pushType === 'liveactivity' && liveActivityPayloadProblem(payload) !== undefined) {
      return { status: 400, reason: LIVE_ACTIVITY_PAYLOAD_REASON };
    }
    return { status: 200 };
  }

  /** APNs's refusal of the provider token, or undefined when it is good. */
  private checkAuthorization(header: string | undefined): { status: number; reason: string } | undefined {
    if (header === undefined || !/^bearer /i.test(header))
      return { status: 403, reason: 'MissingProviderToken' };
    const jwt = header.slice(7);
    let verdict = this.verifiedJwts.get(jwt);
    if (verdict === undefined) {
      verdict = this.verifyJwt(jwt);
      this.verifiedJwts.set(jwt, verdict);
    }
    if (typeof verdict === 'string') return { status: 403, reason: verdict };
    const now = this.clock();
    const age = Math.floor(now / 1000) - verdict.iat;
    this.stats.maxProviderTokenAgeSeconds = Math.max(this.stats.maxProviderTokenAgeSeconds, age);
    if (age > JWT_MAX_AGE_SECONDS) return { status: 403, reason: 'ExpiredProviderToken' };
    let key = this.keyTokens.get(verdict.keyId);
    if (key === undefined) {
      key = { accepted: new Set(), newestIssuedAt: Number.NEGATIVE_INFINITY };
      this.keyTokens.set(verdict.keyId, key);
    }
    if (!key.accepted.has(jwt)) {
      // A new token for this key: refused if it comes within 20 minutes (by iat) of the newest one.
      if (Math.abs(verdict.iat - key.newestIssuedAt) < JWT_UPDATE_INTERVAL_SECONDS) {
        return { status: 429, reason: 'TooManyProviderTokenUpdates' };
      }
      key.accepted.add(jwt);
      key.newestIssuedAt = Math.max(key.newestIssuedAt, verdict.iat);
      this.providerTokens.push({ keyId: verdict.keyId, issuedAt: verdict.iat, firstUsedAt: now });
    }
    return undefined;
  }

  private verifyJwt(jwt: string): { iat: number; keyId: string } | string {
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
