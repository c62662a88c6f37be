import { createSign, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import apn from '@parse/node-apn';
import { ApnsConnection } from '../lambda/adapters/secondary/apns/apns-gateway';

/**
 * One APNs client under test, in its own process (fresh heap, its own JIT), sending
 * to the simulator: warm-up, then ROUNDS rounds of NOTIFICATIONS; prints one JSON
 * line with the rate of each round and the outcomes of the last.
 *
 *   node --import tsx bench/apns-client.ts <client> <address> <ca file> <key file>
 */
export const NOTIFICATIONS = 20_000;
const ROUNDS = 5;
const WARM_UP = 2_000;
export const BUNDLE_ID = 'com.example.app';
export const KEY_ID = 'BENCHKEY01';
export const TEAM_ID = 'BENCHTEAM1';
const HEADERS = { 'apns-topic': BUNDLE_ID, 'apns-push-type': 'alert', 'apns-priority': '10' };
const BODY = JSON.stringify({
  aps: { alert: { title: 'Hi', body: 'Your order shipped' } },
  pushgate: { id: 'bench' },
});

type Outcome = 'ok' | string;
interface Simulator {
  address: string;
  ca: string;
}

export const CLIENTS = {
  raw: 'raw node:http2, one session (ceiling)',
  'node-apn-1000': 'node-apn send(), 1 000 per call',
  'node-apn-all': 'node-apn send(), all 20 000 in one call',
  gateway: 'pushgate gateway',
} as const;
export type ClientName = keyof typeof CLIENTS;

function providerJwt(key: string): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: 'ES256', kid: KEY_ID })}.${encode({ iss: TEAM_ID, iat: Math.floor(Date.now() / 1000) })}`;
  const signature = createSign('sha256')
    .update(unsigned)
    .sign({ key, dsaEncoding: 'ieee-p1363' })
    .toString('base64url');
  return `${unsigned}.${signature}`;
}

export async function rawHttp2(simulator: Simulator, key: string) {
  const session = http2.connect(`https://${simulator.address}`, { ca: simulator.ca });
  await once(session, 'remoteSettings');
  const authorization = `bearer ${providerJwt(key)}`;
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
  return async (tokens: string[]) => {
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

export async function nodeApn(simulator: Simulator, key: string, perCall: number) {
  const [, port] = simulator.address.split(':');
  const provider = new apn.Provider({
    token: { key, keyId: KEY_ID, teamId: TEAM_ID },
    production: true,
    address: simulator.address,
    port: Number(port),
    ca: [simulator.ca],
  } as apn.ProviderOptions);
  const note = new apn.Notification();
  note.topic = BUNDLE_ID;
  note.pushType = 'alert';
  note.priority = 10;
  note.rawPayload = JSON.parse(BODY);
  return async (tokens: string[]) => {
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

export async function gateway(simulator: Simulator, key: string) {
  const connection = new ApnsConnection(
    { kind: 'token', keyId: KEY_ID, teamId: TEAM_ID, key },
    'production',
    {
      address: simulator.address,
      ca: simulator.ca,
    },
  );
  const request = { headers: HEADERS, body: BODY };
  return async (tokens: string[]) =>
    (await connection.sendAll(request, tokens)).map((answer) =>
      answer.status === 200 ? 'ok' : (answer.reason ?? answer.transportError ?? 'error'),
    );
}

async function main() {
  const [name, address, caFile, keyFile] = process.argv.slice(2) as [ClientName, string, string, string];
  const simulator = { address, ca: readFileSync(caFile, 'utf8') };
  const key = readFileSync(keyFile, 'utf8');
  const create = {
    raw: () => rawHttp2(simulator, key),
    'node-apn-1000': () => nodeApn(simulator, key, 1_000),
    'node-apn-all': () => nodeApn(simulator, key, NOTIFICATIONS),
    gateway: () => gateway(simulator, key),
  }[name];
  const send = await create();
  const tokens = Array.from({ length: NOTIFICATIONS }, () => randomBytes(32).toString('hex'));
  await send(tokens.slice(0, WARM_UP));
  const rates: number[] = [];
  let last: Outcome[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now();
    last = await send(tokens);
    rates.push(Math.round(NOTIFICATIONS / ((performance.now() - started) / 1000)));
  }
  const failures: Record<string, number> = {};
  for (const outcome of last) if (outcome !== 'ok') failures[outcome] = (failures[outcome] ?? 0) + 1;
  process.stdout.write(`${JSON.stringify({ rates, failures })}\n`);
  process.exit(0);
}

if (process.argv[1]?.endsWith('apns-client.ts')) await main();
