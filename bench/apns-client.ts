import { createPrivateKey, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import apn from '@parse/node-apn';
import { ApnsConnection } from '../lambda/adapters/secondary/apns/apns-gateway';
import {
  MemoryProviderTokenStore,
  type ProviderToken,
  ProviderTokens,
  providerKeyName,
} from '../lambda/adapters/secondary/apns/provider-token';

/**
 * APNs clients under test, in a process of their own, sending to the simulator: a
 * warm-up each, then `rounds` rounds of NOTIFICATIONS to fresh tokens; prints one
 * JSON line with, per client, the rate of each round and every failure.
 *
 *   node --import tsx bench/apns-client.ts <client>[,<client>] '<ClientConfig as JSON>'
 *
 * Raw http2 and the gateway share one provider token minted by the runner (APNs
 * refuses a new token for a key within 20 minutes, and the simulator does too);
 * node-apn mints its own, so each node-apn client has a key of its own.
 */
export const NOTIFICATIONS = 20_000;
const WARM_UP = 2_000;
export const BUNDLE_ID = 'com.example.app';
export const TEAM_ID = 'BENCHTEAM1';
const HEADERS = { 'apns-topic': BUNDLE_ID, 'apns-push-type': 'alert', 'apns-priority': '10' };
const BODY = JSON.stringify({
  aps: { alert: { title: 'Hi', body: 'Your order shipped' } },
  pushgate: { id: 'bench' },
});

export interface ClientConfig {
  address: string;
  caFile: string;
  keyFile: string;
  keyId: string;
  /** The shared provider token, `{jwt, issuedAt}` (raw and gateway). */
  tokenFile?: string;
  rounds: number;
}

type Outcome = 'ok' | string;
type Send = (tokens: string[]) => Promise<Outcome[]>;

export const CLIENTS = {
  raw: 'raw node:http2, one session (ceiling)',
  'node-apn-1000': 'node-apn send(), 1 000 per call',
  'node-apn-all': 'node-apn send(), all 20 000 in one call',
  gateway: 'pushgate gateway',
} as const;
export type ClientName = keyof typeof CLIENTS;

function sharedToken(config: ClientConfig): ProviderToken {
  if (config.tokenFile === undefined) throw new Error('this client needs the shared provider token');
  return JSON.parse(readFileSync(config.tokenFile, 'utf8')) as ProviderToken;
}

/** node:http2 as plainly as it gets: one session, as many streams in flight as the server allows. */
export async function rawHttp2(config: ClientConfig): Promise<Send> {
  const session = http2.connect(`https://${config.address}`, { ca: readFileSync(config.caFile, 'utf8') });
  await once(session, 'remoteSettings');
  const authorization = `bearer ${sharedToken(config).jwt}`;
  const one = (token: string) =>
    new Promise<Outcome>((resolve) => {
      const stream = session.request({
        ':method': 'POST',
        ':path': `/3/device/${token}`,
        authorization,
        ...HEADERS,
      });
      let status = 0;
      stream.on('response', (headers) => {
        status = Number(headers[':status']);
      });
      stream.on('data', () => undefined);
      stream.on('end', () => resolve(status === 200 ? 'ok' : `HTTP${status}`));
      stream.on('error', (error) => resolve((error as NodeJS.ErrnoException).code ?? 'error'));
      stream.end(BODY);
    });
  return async (tokens) => {
    const limit = session.remoteSettings.maxConcurrentStreams ?? 100;
    const results = new Array<Outcome>(tokens.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: limit }, async () => {
        while (next < tokens.length) {
          const index = next++;
          results[index] = await one(tokens[index] as string);
        }
      }),
    );
    return results;
  };
}

export async function nodeApn(config: ClientConfig, perCall: number): Promise<Send> {
  const [, port] = config.address.split(':');
  const provider = new apn.Provider({
    token: { key: readFileSync(config.keyFile, 'utf8'), keyId: config.keyId, teamId: TEAM_ID },
    production: true,
    address: config.address,
    port: Number(port),
    ca: [readFileSync(config.caFile, 'utf8')],
  } as apn.ProviderOptions);
  const note = new apn.Notification();
  note.topic = BUNDLE_ID;
  note.pushType = 'alert';
  note.priority = 10;
  note.rawPayload = JSON.parse(BODY);
  return async (tokens) => {
    const results: Outcome[] = [];
    for (let start = 0; start < tokens.length; start += perCall) {
      const { sent, failed } = await provider.send(note, tokens.slice(start, start + perCall));
      for (const _ of sent) results.push('ok');
      for (const failure of failed) {
        const reason = failure.response?.reason ?? (failure.error as Error | undefined)?.message ?? 'error';
        results.push(reason.slice(0, 60));
      }
    }
    return results;
  };
}

/** What the sender uses: the gateway, with the fleet's token already in its store. */
export async function gateway(config: ClientConfig): Promise<Send> {
  const key = { keyId: config.keyId, teamId: TEAM_ID, key: readFileSync(config.keyFile, 'utf8') };
  const store = new MemoryProviderTokenStore();
  await store.replace(providerKeyName(key, createPrivateKey(key.key)), sharedToken(config), undefined);
  const connection = new ApnsConnection(
    { kind: 'token', ...key },
    'production',
    {
      address: config.address,
      ca: readFileSync(config.caFile, 'utf8'),
    },
    { tokens: new ProviderTokens(key, store) },
  );
  const request = { headers: HEADERS, body: BODY };
  return async (tokens) =>
    (await connection.sendAll(request, tokens)).map((answer) =>
      answer.status === 200 ? 'ok' : (answer.reason ?? answer.transportError ?? 'error'),
    );
}

const freshTokens = (count: number) => Array.from({ length: count }, () => randomBytes(32).toString('hex'));

export interface ClientResult {
  rates: number[];
  failures: Record<string, number>;
}

/**
 * Runs `rounds` rounds of each client, alternating round by round (and which goes
 * first), so a busy moment of the machine hits them alike.
 */
async function main() {
  const names = (process.argv[2] ?? '').split(',') as ClientName[];
  const config = JSON.parse(process.argv[3] ?? '{}') as ClientConfig;
  const create = {
    raw: () => rawHttp2(config),
    'node-apn-1000': () => nodeApn(config, 1_000),
    'node-apn-all': () => nodeApn(config, NOTIFICATIONS),
    gateway: () => gateway(config),
  };
  const clients: [ClientName, Send][] = [];
  for (const name of names) {
    const send = await create[name]();
    await send(freshTokens(WARM_UP));
    clients.push([name, send]);
  }
  const results: Record<string, ClientResult> = Object.fromEntries(
    names.map((name) => [name, { rates: [], failures: {} }]),
  );
  for (let round = 0; round < config.rounds; round++) {
    const order = round % 2 === 0 ? clients : [...clients].reverse();
    for (const [name, send] of order) {
      const result = results[name] as ClientResult;
      const tokens = freshTokens(NOTIFICATIONS);
      const started = performance.now();
      const outcomes = await send(tokens);
      result.rates.push(Math.round(NOTIFICATIONS / ((performance.now() - started) / 1000)));
      for (const outcome of outcomes)
        if (outcome !== 'ok') result.failures[outcome] = (result.failures[outcome] ?? 0) + 1;
    }
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
  process.exit(0);
}

if (process.argv[1]?.endsWith('apns-client.ts')) await main();
