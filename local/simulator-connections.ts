import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo, Server } from 'node:net';
import { join } from 'node:path';
import type { Faults } from './apns-simulator/faults';
import { openConnectionWindow } from './http2-window';

/**
 * The HTTP/2 + TLS endpoint the APNs and FCM simulators both run on, and the one way
 * their connections behave: GOAWAY after the fault script's `goawayEvery` streams (as
 * Apple does: naming the last stream it will answer, refusing newer ones, closing once
 * those are answered), streams reset before they are processed, streams stalled after,
 * and the in-flight peaks the stats report. Apart from the simulators because it
 * changes only when how a provider's connections behave does, never with a provider's
 * request rules or answers.
 */

const TLS_DIR = join(import.meta.dirname, 'apns-simulator');

/** The self-signed certificate clients trust (PEM) and its key. */
export const SIMULATOR_TLS = {
  cert: readFileSync(join(TLS_DIR, 'tls-cert.pem'), 'utf8'),
  key: readFileSync(join(TLS_DIR, 'tls-key.pem')),
};

/**
 * The simulator's counters this module keeps. `maxInFlight` and
 * `maxInFlightBeforeFirstAnswer` are kept only when the simulator's stats have them.
 */
export interface ConnectionStats {
  sessions: number;
  /** The most streams one connection had in flight at once (the server's limit applies per connection). */
  maxInFlightPerSession: number;
  maxInFlight?: number;
  /** The most streams one connection had in flight before it had answered anything (APNs allows one). */
  maxInFlightBeforeFirstAnswer?: number;
}

interface ConnectionState {
  streams: number;
  inFlight: number;
  answered: boolean;
  lastStreamId?: number;
}

/** `Answer`: the simulator's per-token answers, which the connection faults never look at. */
export class SimulatorConnections<Answer extends { times?: number }> {
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private readonly states = new WeakMap<http2.Http2Session, ConnectionState>();
  private readonly stalled = new Set<http2.ServerHttp2Stream>();
  private inFlight = 0;

  constructor(
    private readonly faults: Faults<Answer>,
    private readonly stats: ConnectionStats,
  ) {}

  /** An HTTP/2 server over the simulator's TLS whose connections behave as scripted. */
  createServer(
    maxConcurrentStreams: number | undefined,
    onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void,
  ): http2.Http2SecureServer {
    const server = http2.createSecureServer({
      key: SIMULATOR_TLS.key,
      cert: SIMULATOR_TLS.cert,
      allowHTTP1: false,
      settings: { maxConcurrentStreams: maxConcurrentStreams ?? 1000 },
    });
    server.on('session', (session) => this.onSession(session));
    server.on('stream', onStream);
    return server;
  }

  /**
   * Takes a new stream in: counts it in flight and applies the script's connection
   * faults. Undefined when the stream was refused (after a GOAWAY) or reset, and so
   * already ended; otherwise whether the stream is to be stalled once processed.
   */
  admit(stream: http2.ServerHttp2Stream): { stall: boolean } | undefined {
    stream.on('error', () => undefined);
    const session = stream.session;
    const state = session ? this.states.get(session) : undefined;
    if (state?.lastStreamId !== undefined && (stream.id ?? 0) > state.lastStreamId) {
      // After our GOAWAY, newer streams are refused, never processed (the client may send them again).
      stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      return undefined;
    }
    this.inFlight++;
    if (this.stats.maxInFlight !== undefined)
      this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.inFlight);
    if (state) {
      state.inFlight++;
      this.stats.maxInFlightPerSession = Math.max(this.stats.maxInFlightPerSession, state.inFlight);
      if (!state.answered && this.stats.maxInFlightBeforeFirstAnswer !== undefined) {
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
        // those are answered (above).
        state.lastStreamId = stream.id ?? 0;
        this.faults.count('goaways');
        session.goaway(http2.constants.NGHTTP2_NO_ERROR, state.lastStreamId);
      }
    }
    if (fault === 'reset') {
      // Reset before anything is processed: nothing reaches the device.
      this.faults.count('resets');
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      return undefined;
    }
    return { stall: fault === 'stall' };
  }

  /** The stream's connection has answered something (APNs lets a new connection have one stream until then). */
  answered(stream: http2.ServerHttp2Stream): void {
    const state = stream.session ? this.states.get(stream.session) : undefined;
    if (state) state.answered = true;
  }

  /** Holds the stream unanswered until the client gives up, releaseStalls() or close(). */
  stall(stream: http2.ServerHttp2Stream): void {
    this.faults.count('stalls');
    this.stalled.add(stream);
    stream.on('close', () => this.stalled.delete(stream));
  }

  /** Streams a stall holds now, unanswered. */
  get stalls(): number {
    return this.stalled.size;
  }

  /** Ends every stalled stream with a reset: the client sees the request end without an answer. */
  releaseStalls(): void {
    for (const stream of this.stalled) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  }

  /** Closes the servers, dropping stalled streams and open connections. */
  async close(servers: readonly http2.Http2SecureServer[]): Promise<void> {
    for (const stream of this.stalled) stream.destroy();
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            for (const session of this.sessions) session.destroy();
          }),
      ),
    );
  }

  private onSession(session: http2.ServerHttp2Session): void {
    openConnectionWindow(session);
    this.stats.sessions++;
    this.sessions.add(session);
    this.states.set(session, { streams: 0, inFlight: 0, answered: false });
    session.on('close', () => this.sessions.delete(session));
    session.on('error', () => undefined);
  }
}

/** Listens on 127.0.0.1 (`port`, or a free one) and resolves with the port. */
export function listen(server: Server, port: number | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port ?? 0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}
