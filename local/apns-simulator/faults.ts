/**
 * The simulator's fault script (`POST /_local/apns/faults`): how its connections
 * misbehave, and scripted answers for particular device tokens — so a user can watch
 * their own system cope with APNs at its worst.
 *
 * - `connection.goawayEvery: N` — each connection, after its N-th stream, is sent a
 *   graceful GOAWAY naming that stream as the last it processes: streams up to it
 *   are answered, later ones refused (never processed); then the connection closes.
 * - `connection.resetEvery: N` — every N-th stream is reset (RST_STREAM) before it is
 *   processed: nothing reaches the device.
 * - `connection.stallEvery: N` — every N-th stream is processed (accepted ones reach
 *   the inbox) but never answered: the one truly ambiguous case.
 * - `tokens: {<token>: {status, reason, timestamp, retryAfter, times}}` — that token is
 *   answered so the first `times` times (0 = always), then normally. Without a
 *   `reason` the answer has no body (an incomplete answer).
 * Streams are counted from when the script is set, across both environments.
 */
export interface FaultScript<Answer extends { times?: number } = TokenAnswer> {
  connection?: { goawayEvery?: number; resetEvery?: number; stallEvery?: number };
  tokens?: Record<string, Answer>;
}

export interface TokenAnswer {
  status: number;
  reason?: string;
  /** 410: when the token stopped being valid, ms since the epoch. */
  timestamp?: number;
  /** Seconds, sent as the `retry-after` header. */
  retryAfter?: number;
  /** Answer this way the first `times` times; 0 (the default) = always. */
  times?: number;
}

export interface FaultReport<Answer extends { times?: number } = TokenAnswer> {
  script: FaultScript<Answer>;
  done: { goaways: number; resets: number; stalls: number; tokenFaults: number };
}

type Done = FaultReport['done'];

/** The script and its counters; the FCM simulator uses it too, with its own token answers. */
export class Faults<Answer extends { times?: number } = TokenAnswer> {
  private script: FaultScript<Answer> = {};
  private done: Done = { goaways: 0, resets: 0, stalls: 0, tokenFaults: 0 };
  private streams = 0;
  private readonly used = new Map<string, number>();

  replace(script: FaultScript<Answer>): void {
    this.script = structuredClone(script);
    this.done = { goaways: 0, resets: 0, stalls: 0, tokenFaults: 0 };
    this.streams = 0;
    this.used.clear();
  }

  report(): FaultReport<Answer> {
    return { script: structuredClone(this.script), done: { ...this.done } };
  }

  goawayEvery(): number | undefined {
    return this.script.connection?.goawayEvery;
  }

  /** Numbers a processed stream; says whether it is the one to reset or to stall. */
  nextStream(): 'reset' | 'stall' | undefined {
    const { resetEvery, stallEvery } = this.script.connection ?? {};
    if (resetEvery === undefined && stallEvery === undefined) return undefined;
    const n = ++this.streams;
    if (resetEvery !== undefined && n % resetEvery === 0) return 'reset';
    if (stallEvery !== undefined && n % stallEvery === 0) return 'stall';
    return undefined;
  }

  /** The scripted answer for this device token, if it still applies (without `times`). */
  forToken(token: string): Omit<Answer, 'times'> | undefined {
    const answer = this.script.tokens?.[token];
    if (answer === undefined) return undefined;
    const used = this.used.get(token) ?? 0;
    const times = answer.times ?? 0;
    if (times > 0 && used >= times) return undefined;
    this.used.set(token, used + 1);
    this.done.tokenFaults++;
    const { times: _times, ...scripted } = answer;
    return scripted;
  }

  count(what: 'goaways' | 'resets' | 'stalls'): void {
    this.done[what]++;
  }
}
