import type http2 from 'node:http2';
import { type FaultReport, type FaultScript, Faults } from '../apns-simulator/faults';
import { Inbox } from '../apns-simulator/inbox';
import { listen, SIMULATOR_TLS, SimulatorConnections } from '../simulator-connections';
import { errorBody, type Rejection, readMessage, scriptedRejection, sendProblem } from './message-rules';
import { type FcmTokenEndpointFault, GoogleOAuth, type ServiceAccount } from './oauth';

export { FCM_TOKEN_AUDIENCE, type FcmTokenEndpointFault, type ServiceAccount } from './oauth';

/**
 * The project's FCM simulator: FCM HTTP v1 over HTTP/2 + TLS
 * (`POST /v1/projects/{projectId}/messages:send`) with Google's request checks and
 * error shapes (message-rules.ts), and Google's OAuth token endpoint on its own HTTPS
 * port (oauth.ts) — so the sender runs google-auth-library unchanged. Shares the APNs
 * simulator's TLS certificate and connection behaviour (../simulator-connections.ts),
 * inbox paging and fault script (faults.ts: the same `connection` faults; `tokens`
 * answer with an FCM status and errorCode). This module is the simulator's face: it
 * puts the checks in FCM's order, applies the faults a test programs, answers and
 * records what it accepted.
 */

export interface FcmTokenAnswer {
  status: number;
  errorCode?: string;
  /** FCM's sentence; a default per errorCode when absent (INVALID_ARGUMENT's is about the message). */
  message?: string;
  retryAfter?: number;
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

const SEND_PATH = /^\/v1\/projects\/([^/]+)\/messages:send$/;

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
  readonly ca = SIMULATOR_TLS.cert;
  readonly received: Inbox<FcmInboxEntry>;
  readonly stats = emptyStats();
  /** `host:port` of the FCM API. */
  endpoint = '';
  /** The OAuth token endpoint: what a service-account key's `token_uri` should say. */
  tokenUri = '';
  private readonly oauth: GoogleOAuth;
  private readonly faults = new Faults<FcmTokenAnswer>();
  private readonly connections = new SimulatorConnections(this.faults, this.stats);
  private readonly acceptedTokens = new Set<string>();
  private server: http2.Http2SecureServer | undefined;

  constructor(private readonly options: FcmSimulatorOptions) {
    this.received = new Inbox<FcmInboxEntry>(options.inboxLimit);
    this.oauth = new GoogleOAuth(options.accessTokenSeconds, this.stats);
    for (const account of options.serviceAccounts) this.addServiceAccount(account);
  }

  addServiceAccount(account: ServiceAccount): void {
    this.oauth.addServiceAccount(account);
  }

  async start(): Promise<this> {
    const server = this.connections.createServer(this.options.maxConcurrentStreams, (stream, headers) =>
      this.onStream(stream, headers),
    );
    this.server = server;
    this.endpoint = `127.0.0.1:${await listen(server, this.options.ports?.fcm)}`;
    this.tokenUri = await this.oauth.start(this.options.ports?.oauth);
    return this;
  }

  async stop(): Promise<void> {
    await Promise.all([
      this.connections.close(this.server === undefined ? [] : [this.server]),
      this.oauth.stop(),
    ]);
  }

  setFaults(script: FcmFaultScript): void {
    const { tokenEndpoint, ...rest } = script;
    this.faults.replace(rest);
    this.oauth.setFault(tokenEndpoint);
  }

  faultReport(): FcmFaultReport {
    const { script, done } = this.faults.report();
    const tokenEndpoint = this.oauth.faultReport();
    return {
      script: {
        ...script,
        ...(tokenEndpoint.fault === undefined ? {} : { tokenEndpoint: tokenEndpoint.fault }),
      },
      done: { ...done, tokenEndpointFaults: tokenEndpoint.done },
    };
  }

  clearFaults(): void {
    this.setFaults({});
  }

  clearInbox(): void {
    this.received.clear();
  }

  /** Forgets every access token issued: the next request with one is answered 401 (a revoked key). */
  revokeAccessTokens(): void {
    this.oauth.revokeAccessTokens();
  }

  reset(): void {
    this.clearInbox();
    this.clearFaults();
    this.acceptedTokens.clear();
    Object.assign(this.stats, emptyStats());
  }

  private onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    this.stats.requests++;
    const admitted = this.connections.admit(stream);
    if (admitted === undefined) return;
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => this.handle(stream, headers, Buffer.concat(chunks), admitted.stall));
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
      this.connections.stall(stream);
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
    const account = this.oauth.accountFor(String(headers.authorization ?? ''));
    if (account === undefined) {
      return {
        status: 401,
        message:
          'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
      };
    }
    if (!this.oauth.maySendFor(account, decodeURIComponent(projectId))) {
      return {
        status: 403,
        message: `Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/projects/${projectId}' (or it may not exist).`,
      };
    }
    const read = readMessage(body);
    if ('status' in read) return read;
    const scripted = this.faults.forToken(read.token);
    if (scripted !== undefined) return scriptedRejection(scripted);
    const problem = sendProblem(read.message, read.token);
    if (problem !== undefined) return problem;
    parsed(read.message);
    return undefined;
  }
}

export async function startFcmSimulator(options: FcmSimulatorOptions): Promise<FcmSimulator> {
  return new FcmSimulator(options).start();
}
