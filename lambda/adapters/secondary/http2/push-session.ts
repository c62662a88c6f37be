import http2 from 'node:http2';

/**
 * One HTTP/2 connection to a push service (APNs or FCM) and what the connection
 * layer (push-connection.ts) needs to know about it: how
 * many streams it may carry now, whether it still takes new ones, and — after a
 * GOAWAY — which of its streams the server never processed.
 *
 * A session is only ever *retired* (graceful close: no new streams, the in-flight
 * ones finish and get their answers) — never destroyed while it has healthy streams,
 * because every answer lost that way becomes a duplicate when its request is sent
 * again. Destroy is reserved for a socket that proved dead (no PING answer) and for
 * shutdown.
 */

/** Never more streams in flight than this on one session, whatever the server allows. */
export const MAX_STREAMS_CAP = 1000;
const { NGHTTP2_REFUSED_STREAM } = http2.constants;

export interface SessionOptions {
  /** host[:port] */
  address: string;
  /** A connection not established within this long is given up (destroyed: nothing was sent). */
  connectTimeoutMs: number;
  ca?: string;
  /**
   * The server's stream limit applies from the start. Without this, one stream at a
   * time until the server has accepted our credentials once (APNs allows a single
   * stream before it has seen a valid provider token).
   */
  trustedFromStart?: boolean;
  /** Certificate auth: the TLS client certificate. */
  cert?: string;
  key?: string;
  passphrase?: string;
}

export class PushSession {
  readonly http2: http2.ClientHttp2Session;
  /** Streams sent on this session and not yet answered. */
  inFlight = 0;
  /** Timeouts in a row on this session (an answer resets it). */
  consecutiveTimeouts = 0;
  /** The server has answered at least once (a session that closes without ever answering is suspect). */
  heard = false;
  /** The server accepted our credentials once: from then on its advertised limit applies. */
  private confirmed = false;
  private advertisedLimit = 1;
  private retired = false;
  /** From the server's GOAWAY: streams above it were never processed. */
  private lastProcessedStreamId: number | undefined;

  constructor(
    options: SessionOptions,
    /** Called whenever the session's capacity may have changed (settings, first answer, GOAWAY). */
    private readonly onChange: (session: PushSession) => void,
    /** Called once, when the connection is gone. */
    onClose: (session: PushSession) => void,
  ) {
    this.confirmed = options.trustedFromStart === true;
    this.http2 = http2.connect(`https://${options.address}`, {
      settings: { enablePush: false },
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      ...(options.cert === undefined ? {} : { cert: options.cert }),
      ...(options.key === undefined ? {} : { key: options.key }),
      ...(options.passphrase === undefined ? {} : { passphrase: options.passphrase }),
    });
    const connectTimer = setTimeout(() => {
      if (!this.http2.connecting) return;
      this.retired = true;
      this.http2.destroy();
    }, options.connectTimeoutMs).unref();
    this.http2.once('connect', () => clearTimeout(connectTimer));
    this.http2.once('close', () => clearTimeout(connectTimer));
    this.http2.on('remoteSettings', (settings) => {
      this.advertisedLimit = Math.max(1, Math.min(settings.maxConcurrentStreams ?? 1, MAX_STREAMS_CAP));
      this.onChange(this);
    });
    this.http2.on('goaway', (_code, lastStreamId) => {
      // A later GOAWAY may only lower the id (RFC 9113 §6.8); keep the lowest.
      this.lastProcessedStreamId = Math.min(this.lastProcessedStreamId ?? lastStreamId, lastStreamId);
      // node:http2 itself closes gracefully on NO_ERROR (destroys on an error code).
      this.retired = true;
      this.onChange(this);
    });
    // Errors reach every open stream, which is where they are handled.
    this.http2.on('error', () => undefined);
    this.http2.once('close', () => {
      this.retired = true;
      onClose(this);
    });
  }

  /** Takes new streams: not retired, not closed. */
  get open(): boolean {
    return !this.retired && !this.http2.closed && !this.http2.destroyed;
  }

  get closed(): boolean {
    return this.http2.destroyed;
  }

  /** Streams that may be opened now: one until the server has answered once, then its limit. */
  room(): number {
    if (!this.open) return 0;
    return (this.confirmed ? this.advertisedLimit : 1) - this.inFlight;
  }

  /** An answer arrived (timeouts are no longer in a row); `credentialsAccepted` unlocks the server's limit. */
  answered(credentialsAccepted: boolean): void {
    this.heard = true;
    this.consecutiveTimeouts = 0;
    if (credentialsAccepted && !this.confirmed) {
      this.confirmed = true;
      this.onChange(this);
    }
  }

  /**
   * Whether a failed stream was never processed by the server, so sending it again is
   * no duplicate: never sent (no id), above the GOAWAY's last-stream-id, or refused.
   */
  neverProcessed(stream: http2.ClientHttp2Stream): boolean {
    const id = stream.id;
    if (id === undefined) return true;
    if (this.lastProcessedStreamId !== undefined && id > this.lastProcessedStreamId) return true;
    return stream.rstCode === NGHTTP2_REFUSED_STREAM;
  }

  /** Graceful close: no new streams; the in-flight ones finish, then the connection closes. */
  retire(): void {
    if (this.retired && this.http2.closed) return;
    this.retired = true;
    if (!this.http2.closed && !this.http2.destroyed) this.http2.close();
    this.onChange(this);
  }

  /** For a dead socket or shutdown only: in-flight streams are lost. */
  destroy(): void {
    this.retired = true;
    if (!this.http2.destroyed) this.http2.destroy();
  }

  /** PING: true when the server answers within `timeoutMs`. */
  ping(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      try {
        const sent = this.http2.ping((error) => {
          clearTimeout(timer);
          resolve(!error);
        });
        if (!sent) {
          clearTimeout(timer);
          resolve(false);
        }
      } catch {
        clearTimeout(timer);
        resolve(false);
      }
    });
  }
}
