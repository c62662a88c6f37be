import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, readFileSync } from 'node:fs';
import http2 from 'node:http2';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { AccessTokens } from '../lambda/adapters/secondary/fcm/access-tokens';
import { FcmConnection } from '../lambda/adapters/secondary/fcm/fcm-gateway';
import { compileFcmMessage, fcmRequestBodies } from '../lambda/domain/fcm-message';
import { normalizeSendJob, sendJobSchema } from '../lambda/domain/send-job';
import { parseWith } from '../lambda/validation';
import { createLocalServiceAccount } from '../local/fcm-credentials';

/**
 * NOTIFICATIONS FCM messages per round to the FCM simulator, which runs in its own
 * process: raw node:http2 (one session, requests in flight = the server's limit, the
 * ceiling) and pushgate's FCM gateway (what the sender uses: the shared HTTP/2 layer
 * and google-auth-library's access token), alternating round by round so a busy
 * moment of the machine hits both alike; each rate is the median of its rounds, and the
 * ratio the median of the rounds' ratios (each round's pair ran back to back).
 */
export const FCM_NOTIFICATIONS = 10_000;
/** Rounds of each client: a pair per round, alternating which goes first. */
const ROUNDS = 12;
const WARM_UP = 1_000;
const PROJECT = 'pushgate-bench';

export interface FcmThroughputRow {
  client: string;
  perSecond: number;
  sent: number;
  failed: number;
  failures: Record<string, number>;
  roundsPerSecond: number[];
}

type Send = (tokens: string[]) => Promise<string[]>;

const job = normalizeSendJob(
  parseWith(sendJobSchema, {
    appId: 'com.example.app',
    to: { userIds: ['bench'] },
    aps: { alert: { title: 'Hi', body: 'Your order shipped' } },
    data: { orderId: '123' },
  }),
  'bench',
);
const bodyFor = fcmRequestBodies(compileFcmMessage(job));
const HEADERS = { 'content-type': 'application/json' };
const freshTokens = (count: number) =>
  Array.from(
    { length: count },
    () => `${randomBytes(8).toString('base64url')}:APA91b${randomBytes(100).toString('base64url')}`,
  );

function rawHttp2(address: string, ca: string, authorization: string): Send {
  const session = http2.connect(`https://${address}`, { ca });
  const settled = once(session, 'remoteSettings');
  const path = `/v1/projects/${PROJECT}/messages:send`;
  const one = (token: string) =>
    new Promise<string>((done) => {
      const stream = session.request({ ':method': 'POST', ':path': path, authorization, ...HEADERS });
      let status = 0;
      stream.on('response', (headers) => {
        status = Number(headers[':status']);
      });
      stream.on('data', () => undefined);
      stream.on('end', () => done(status === 200 ? 'ok' : `HTTP${status}`));
      stream.on('error', (error) => done((error as NodeJS.ErrnoException).code ?? 'error'));
      stream.end(bodyFor(token));
    });
  return async (tokens) => {
    await settled;
    const limit = session.remoteSettings.maxConcurrentStreams ?? 100;
    const results = new Array<string>(tokens.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(limit, 1000) }, async () => {
        while (next < tokens.length) {
          const index = next++;
          results[index] = await one(tokens[index] as string);
        }
      }),
    );
    return results;
  };
}

function row(client: string, rates: number[], failures: Record<string, number>): FcmThroughputRow {
  const sorted = [...rates].sort((a, b) => a - b);
  return {
    client,
    perSecond: sorted[Math.floor(sorted.length / 2)] ?? 0,
    sent: rates.length * FCM_NOTIFICATIONS,
    failed: Object.values(failures).reduce((a, b) => a + b, 0),
    failures,
    roundsPerSecond: rates,
  };
}

export async function benchFcmThroughput(): Promise<{
  notifications: number;
  rows: FcmThroughputRow[];
  gatewayVsRaw: number;
}> {
  const dir = resolve('.bench-tmp/fcm');
  mkdirSync(dir, { recursive: true });
  // The simulator knows the account by its public key; its token endpoint is filled in below.
  const account = createLocalServiceAccount(join(dir, 'key.json'), PROJECT, 'https://127.0.0.1/token');
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/fcm-simulator/main.ts'], {
    env: {
      ...process.env,
      SIMULATOR_MAX_STREAMS: '1000',
      SIMULATOR_ACCOUNTS: JSON.stringify([account.account]),
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  try {
    const lines = createInterface({ input: child.stdout });
    const [line] = (await once(lines, 'line')) as [string];
    const started = JSON.parse(line) as { endpoint: string; tokenUri: string; ca: string };
    const key = JSON.parse(readFileSync(account.path, 'utf8'));
    key.token_uri = started.tokenUri;
    const tokens = new AccessTokens(key, started.ca);
    await tokens.current();
    const raw = rawHttp2(started.endpoint, started.ca, tokens.usable() as string);
    const connection = new FcmConnection(
      { projectId: PROJECT, serviceAccount: key },
      { address: started.endpoint, ca: started.ca },
    );
    const gateway: Send = async (targets) =>
      (await connection.sendAll({ headers: HEADERS, body: bodyFor }, targets)).map((answer) =>
        answer.status === 200 ? 'ok' : (answer.errorCode ?? answer.transportError ?? `HTTP${answer.status}`),
      );
    const clients: [string, Send][] = [
      ['raw node:http2, one session (ceiling)', raw],
      ['pushgate FCM gateway', gateway],
    ];
    for (const [, send] of clients) await send(freshTokens(WARM_UP));
    const results = new Map(
      clients.map(([name]) => [name, { rates: [] as number[], failures: {} as Record<string, number> }]),
    );
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, send] of round % 2 === 0 ? clients : [...clients].reverse()) {
        const result = results.get(name) as { rates: number[]; failures: Record<string, number> };
        const targets = freshTokens(FCM_NOTIFICATIONS);
        const startedAt = performance.now();
        const outcomes = await send(targets);
        result.rates.push(Math.round(FCM_NOTIFICATIONS / ((performance.now() - startedAt) / 1000)));
        for (const outcome of outcomes)
          if (outcome !== 'ok') result.failures[outcome] = (result.failures[outcome] ?? 0) + 1;
      }
    }
    await connection.close();
    const rows = clients.map(([name]) => {
      const result = results.get(name) as { rates: number[]; failures: Record<string, number> };
      return row(name, result.rates, result.failures);
    });
    // The ratio of each round's pair (run back to back, so a busy moment hits both), then
    // their median: steadier than a ratio of two medians when the machine's load drifts.
    const [rawRates, gatewayRates] = rows.map((row) => row.roundsPerSecond) as [number[], number[]];
    const ratios = gatewayRates.map((rate, round) => rate / (rawRates[round] ?? rate)).sort((a, b) => a - b);
    return {
      notifications: FCM_NOTIFICATIONS,
      rows,
      gatewayVsRaw: Math.round((ratios[Math.floor(ratios.length / 2)] ?? 0) * 100) / 100,
    };
  } finally {
    child.kill('SIGTERM');
  }
}
