import { createPublicKey, type KeyObject, randomUUID, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Inbox, type InboxEntry } from './inbox';

export type { InboxEntry } from './inbox';

/**
 * The project's APNs simulator: HTTP/2 over TLS (self-signed), speaking the
 * provider API the way APNs does — JWT checks, header and payload rules, APNs's
 * status codes and reasons — plus scripted faults for tests. One listener per APNs
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
}

/** What a scripted fault makes the simulator do with a request. */
export type Fault =
  | { status: number; reason: string; timestamp?: number; retryAfter?: number }
  | { kind: 'reset' }
  | { kind: 'stall' };

const TLS_DIR = join(import.meta.dirname, '.');
const PAYLOAD_LIMIT = 4096;
const VOIP_PAYLOAD_LIMIT = 5120;
const JWT_MAX_AGE_SECONDS = 3600;
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

export class ApnsSimulator {
  readonly ca = readFileSync(join(TLS_DIR, 'tls-cert.pem'), 'utf8');
  /** Every notification accepted, numbered, paged (see Inbox). */
  readonly received: Inbox;
  readonly stats = { requests: 0, accepted: 0, rejected: 0, maxInFlight: 0, sessions: 0 };
  endpoints: Record<ApnsEnvironment, string> = { sandbox: '', production: '' };

  private readonly keys = new Map<string, { teamId: string; publicKey: KeyObject }>();
  private readonly verifiedJwts = new Map<string, { iat: number; teamId: string } | string>();
  private readonly servers: http2.Http2SecureServer[] = [];
  private readonly tokenFaults = new Map<string, Fault[]>();
  private readonly nextFaults: Fault[] = [];
  private readonly environmentOnly = new Map<string, ApnsEnvironment>();
  private readonly stalled = new Set<http2.ServerHttp2Stream>();
  private goawayAfter: number | undefined;
  private inFlight = 0;

  constructor(private readonly options: SimulatorOptions) {
    this.received = new Inbox(options.inboxLimit);
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
    this.goawayAfter = streams;
    this.streamsPerSession = new WeakMap();
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
    this.goawayAfter = undefined;
    Object.assign(this.stats, { requests: 0, accepted: 0, rejected: 0, maxInFlight: 0, sessions: 0 });
  }

  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private streamsPerSession = new WeakMap<http2.Http2Session, number>();
  private readonly goawayLastStreamId = new WeakMap<http2.Http2Session, number>();

  private onSession(session: http2.ServerHttp2Session): void {
    this.stats.sessions++;
    this.sessions.add(session);
    session.on('close', () => this.sessions.delete(session));
    session.on('error', () => undefined);
  }

  private onStream(
    environment: ApnsEnvironment,
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
  ): void {
    this.stats.requests++;
    this.inFlight++;
    this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.inFlight);
    let done = false;
    const finish = () => {
      if (!done) {
        done = true;
        this.inFlight--;
      }
    };
    stream.on('close', finish);
    stream.on('error', () => undefined);
    const session = stream.session;
    const lastAllowed = session ? this.goawayLastStreamId.get(session) : undefined;
    if (lastAllowed !== undefined && (stream.id ?? 0) > lastAllowed) {
      // After our GOAWAY, newer streams are refused, never processed (the client may retry them).
      stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    if (session && this.goawayAfter !== undefined) {
      const count = (this.streamsPerSession.get(session) ?? 0) + 1;
      this.streamsPerSession.set(session, count);
      if (count === this.goawayAfter) {
        this.goawayLastStreamId.set(session, stream.id ?? 0);
        session.goaway(http2.constants.NGHTTP2_NO_ERROR, stream.id ?? 0);
      }
    }
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => this.handle(environment, stream, headers, Buffer.concat(chunks)));
  }

  private handle(
    environment: ApnsEnvironment,
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
    body: Buffer,
  ): void {
    const path = String(headers[':path'] ?? '');
    const token = path.startsWith('/3/device/') ? path.slice('/3/device/'.length) : '';
    const apnsId = typeof headers['apns-id'] === 'string' ? headers['apns-id'] : randomUUID();
    const verdict = this.judge(environment, headers, token, body);
    if ('kind' in verdict) {
      if (verdict.kind === 'reset') {
        stream.session?.destroy();
      } else {
        this.stalled.add(stream);
        stream.on('close', () => this.stalled.delete(stream));
      }
      return;
    }
    if (verdict.status !== 200) {
      this.stats.rejected++;
      if (stream.destroyed) return;
      stream.respond({
        ':status': verdict.status,
        'apns-id': apnsId,
        'content-type': 'application/json',
        ...(verdict.retryAfter === undefined ? {} : { 'retry-after': String(verdict.retryAfter) }),
      });
      const extra = verdict.timestamp === undefined ? {} : { timestamp: verdict.timestamp };
      stream.end(JSON.stringify({ reason: verdict.reason, ...extra }));
      return;
    }
    this.stats.accepted++;
    this.received.add({
      token,
      topic: String(headers['apns-topic']),
      environment,
      apnsId,
      headers: apnsHeaders(headers),
      payload: JSON.parse(body.toString('utf8')),
      receivedAt: new Date().toISOString(),
    });
    if (stream.destroyed) return;
    stream.respond({ ':status': 200, 'apns-id': apnsId });
    stream.end();
  }

  /** What APNs would answer: 200, a rejection with its reason, or a scripted transport fault. */
  private judge(
    environment: ApnsEnvironment,
    headers: http2.IncomingHttpHeaders,
    token: string,
    body: Buffer,
  ): Fault | { status: 200; reason?: undefined; timestamp?: undefined; retryAfter?: undefined } {
    const path = String(headers[':path'] ?? '');
    if (headers[':method'] !== 'POST') return { status: 405, reason: 'MethodNotAllowed' };
    if (!path.startsWith('/3/device/')) return { status: 404, reason: 'BadPath' };
    if (token === '') return { status: 400, reason: 'MissingDeviceToken' };

    const auth = this.checkAuthorization(headers.authorization);
    if (auth !== undefined) return { status: 403, reason: auth };

    const fault = this.tokenFaults.get(token)?.shift() ?? this.nextFaults.shift();
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
    try {
      JSON.parse(body.toString('utf8'));
    } catch {
      return { status: 400, reason: 'PayloadEmpty' };
    }
    return { status: 200 };
  }

  /** Returns the 403 reason, or undefined when the provider token is good. */
  private checkAuthorization(header: string | undefined): string | undefined {
    if (header === undefined || !/^bearer /i.test(header)) return 'MissingProviderToken';
    const jwt = header.slice(7);
    let verdict = this.verifiedJwts.get(jwt);
    if (verdict === undefined) {
      verdict = this.verifyJwt(jwt);
      this.verifiedJwts.set(jwt, verdict);
    }
    if (typeof verdict === 'string') return verdict;
    if (Math.floor(Date.now() / 1000) - verdict.iat > JWT_MAX_AGE_SECONDS) return 'ExpiredProviderToken';
    return undefined;
  }

  private verifyJwt(jwt: string): { iat: number; teamId: string } | string {
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
      return { iat: claims.iat, teamId: claims.iss };
    } catch {
      return 'InvalidProviderToken';
    }
  }
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
