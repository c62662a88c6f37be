import { type ChildProcessByStdio, execFile, spawn } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { promisify } from 'node:util';
import { mintProviderToken } from '../lambda/adapters/secondary/apns/provider-token';
import {
  CLIENTS,
  type ClientConfig,
  type ClientName,
  type ClientResult,
  NOTIFICATIONS,
  TEAM_ID,
} from './apns-client';

/**
 * 20 000 notifications per round to the APNs simulator, which runs in its own
 * process, by clients in processes of their own, in one run on one machine:
 * 1. raw node:http2, one session, requests in flight = the server's limit (the ceiling),
 *    and pushgate's gateway (what the sender uses), alternating round by round in the
 *    same processes so a busy moment of the machine hits both alike; each rate is the
 *    median of its rounds;
 * 2. @parse/node-apn used naively: send() with 1 000 recipients per call, and all in one call;
 * 3. the gateway again, against a simulator that sends GOAWAY every 1 000 streams:
 *    throughput, failures, and duplicates (tokens APNs accepted twice; target 0).
 */
export interface ThroughputRow {
  client: string;
  perSecond: number;
  sent: number;
  failed: number;
  failures: Record<string, number>;
  roundsPerSecond: number[];
  /** GOAWAY row: notifications the simulator accepted twice, and GOAWAYs it sent. */
  duplicates?: number;
  goaways?: number;
}

const run = promisify(execFile);
/** Processes running raw and the gateway round by round, and rounds of each per process. */
const PROCESSES = 3;
const ROUNDS = 4;
const GOAWAY_EVERY = 1_000;

interface Key {
  keyId: string;
  keyFile: string;
  privateKey: string;
  publicKey: string;
}

function newKey(dir: string, keyId: string): Key {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyFile = join(dir, `${keyId}.pem`);
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  writeFileSync(keyFile, pem);
  return {
    keyId,
    keyFile,
    privateKey: pem,
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }) as string,
  };
}

type SimulatorProcess = ChildProcessByStdio<Writable, Readable, null> & { lines: Interface };

async function startSimulator(
  keys: Key[],
  extra: Record<string, string> = {},
): Promise<{ process: SimulatorProcess; address: string; caFile: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/apns-simulator/main.ts'], {
    env: {
      ...process.env,
      SIMULATOR_KEYS: JSON.stringify(
        keys.map(({ keyId, publicKey }) => ({ keyId, teamId: TEAM_ID, publicKey })),
      ),
      SIMULATOR_MAX_STREAMS: '1000',
      ...extra,
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  }) as SimulatorProcess;
  child.lines = createInterface({ input: child.stdout });
  const [line] = (await once(child.lines, 'line')) as [string];
  const started = JSON.parse(line) as { endpoints: { production: string }; ca: string };
  const caFile = resolve('.bench-tmp/apns', `ca-${child.pid}.pem`);
  writeFileSync(caFile, started.ca);
  return { process: child, address: started.endpoints.production, caFile };
}

async function simulatorStats(child: SimulatorProcess) {
  child.stdin.write('stats\n');
  const [line] = (await once(child.lines, 'line')) as [string];
  return JSON.parse(line) as { stats: { duplicates: number }; faults: { goaways: number } };
}

async function runClients(names: ClientName[], config: ClientConfig) {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', 'bench/apns-client.ts', names.join(','), JSON.stringify(config)],
    { maxBuffer: 1 << 20, timeout: 600_000 },
  );
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<ClientName, ClientResult>;
}

function row(client: string, rates: number[], failures: Record<string, number>): ThroughputRow {
  const sorted = [...rates].sort((a, b) => a - b);
  const failed = Object.values(failures).reduce((a, b) => a + b, 0);
  return {
    client,
    perSecond: sorted[Math.floor(sorted.length / 2)] ?? 0,
    sent: rates.length * NOTIFICATIONS,
    failed,
    failures,
    roundsPerSecond: rates,
  };
}

function merge(into: Record<string, number>, from: Record<string, number>): void {
  for (const [reason, count] of Object.entries(from)) into[reason] = (into[reason] ?? 0) + count;
}

export async function benchApnsThroughput(): Promise<{
  rows: ThroughputRow[];
  gatewayVsRaw: number;
  notifications: number;
}> {
  const dir = resolve('.bench-tmp/apns');
  mkdirSync(dir, { recursive: true });
  const shared = newKey(dir, 'BENCHKEY01');
  const nodeApnKeys = {
    'node-apn-1000': newKey(dir, 'BENCHKEY02'),
    'node-apn-all': newKey(dir, 'BENCHKEY03'),
  };
  const tokenFile = join(dir, 'provider-token.json');
  const token = mintProviderToken(
    { keyId: shared.keyId, teamId: TEAM_ID },
    createPrivateKey(shared.privateKey),
    Math.floor(Date.now() / 1000),
  );
  writeFileSync(tokenFile, JSON.stringify(token));
  const rows: ThroughputRow[] = [];

  const plain = await startSimulator([shared, ...Object.values(nodeApnKeys)]);
  try {
    const base = { address: plain.address, caFile: plain.caFile };
    const sharedConfig = { ...base, keyFile: shared.keyFile, keyId: shared.keyId, tokenFile, rounds: ROUNDS };
    const rates: Record<'raw' | 'gateway', number[]> = { raw: [], gateway: [] };
    const failures: Record<'raw' | 'gateway', Record<string, number>> = { raw: {}, gateway: {} };
    for (let run = 0; run < PROCESSES; run++) {
      const names = run % 2 === 0 ? (['raw', 'gateway'] as const) : (['gateway', 'raw'] as const);
      const results = await runClients([...names], sharedConfig);
      for (const name of names) {
        rates[name].push(...results[name].rates);
        merge(failures[name], results[name].failures);
      }
    }
    rows.push(
      row(CLIENTS.raw, rates.raw, failures.raw),
      row(CLIENTS.gateway, rates.gateway, failures.gateway),
    );
    for (const [name, key] of Object.entries(nodeApnKeys) as [keyof typeof nodeApnKeys, Key][]) {
      const rounds = name === 'node-apn-all' ? 1 : ROUNDS;
      const result = (await runClients([name], { ...base, keyFile: key.keyFile, keyId: key.keyId, rounds }))[
        name
      ];
      rows.push(row(CLIENTS[name], result.rates, result.failures));
    }
  } finally {
    plain.process.kill('SIGTERM');
  }

  const goaway = await startSimulator([shared], {
    SIMULATOR_FAULTS: JSON.stringify({ connection: { goawayEvery: GOAWAY_EVERY } }),
    SIMULATOR_COUNT_DUPLICATES: '1',
  });
  try {
    const { gateway: result } = await runClients(['gateway'], {
      address: goaway.address,
      caFile: goaway.caFile,
      keyFile: shared.keyFile,
      keyId: shared.keyId,
      tokenFile,
      rounds: ROUNDS,
    });
    const { stats, faults } = await simulatorStats(goaway.process);
    rows.push({
      ...row(`pushgate gateway, GOAWAY every ${GOAWAY_EVERY} streams`, result.rates, result.failures),
      duplicates: stats.duplicates,
      goaways: faults.goaways,
    });
  } finally {
    goaway.process.kill('SIGTERM');
  }

  const raw = rows.find((r) => r.client === CLIENTS.raw)?.perSecond ?? 1;
  const ours = rows.find((r) => r.client === CLIENTS.gateway)?.perSecond ?? 0;
  return { rows, gatewayVsRaw: Math.round((ours / raw) * 100) / 100, notifications: NOTIFICATIONS };
}
