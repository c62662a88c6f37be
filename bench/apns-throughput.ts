import { execFile, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { CLIENTS, type ClientName, KEY_ID, NOTIFICATIONS, TEAM_ID } from './apns-client';

/**
 * 20 000 notifications to the APNs simulator, which runs in its own process, by
 * each client in turn — each in a fresh process — in one run on one machine:
 * 1. raw node:http2, one session, requests in flight = the server's limit (the ceiling);
 * 2. @parse/node-apn used naively: send() with 1 000 recipients per call, and all in one call;
 * 3. pushgate's gateway (what the sender uses).
 * The rate of a client is the median of its rounds after a warm-up.
 */
export interface ThroughputRow {
  client: string;
  perSecond: number;
  accepted: number;
  failed: number;
  failures: Record<string, number>;
  roundsPerSecond: number[];
}

const run = promisify(execFile);

export async function benchApnsThroughput(): Promise<{
  rows: ThroughputRow[];
  gatewayVsRaw: number;
  notifications: number;
}> {
  const dir = resolve('.bench-tmp/apns');
  mkdirSync(dir, { recursive: true });
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyFile = join(dir, 'key.pem');
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  const simulator = spawn(process.execPath, ['--import', 'tsx', 'local/apns-simulator/main.ts'], {
    env: {
      ...process.env,
      SIMULATOR_KEY_ID: KEY_ID,
      SIMULATOR_TEAM_ID: TEAM_ID,
      SIMULATOR_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }) as string,
      SIMULATOR_MAX_STREAMS: '1000',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const [line] = (await once(createInterface({ input: simulator.stdout }), 'line')) as [string];
    const started = JSON.parse(line) as { endpoints: { production: string }; ca: string };
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, started.ca);
    const rows: ThroughputRow[] = [];
    for (const [name, label] of Object.entries(CLIENTS) as [ClientName, string][]) {
      const { stdout } = await run(
        process.execPath,
        ['--import', 'tsx', 'bench/apns-client.ts', name, started.endpoints.production, caFile, keyFile],
        { maxBuffer: 1 << 20, timeout: 300_000 },
      );
      const result = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
        rates: number[];
        failures: Record<string, number>;
      };
      const failed = Object.values(result.failures).reduce((a, b) => a + b, 0);
      const sorted = [...result.rates].sort((a, b) => a - b);
      rows.push({
        client: label,
        perSecond: sorted[Math.floor(sorted.length / 2)] ?? 0,
        accepted: NOTIFICATIONS - failed,
        failed,
        failures: result.failures,
        roundsPerSecond: result.rates,
      });
    }
    const raw = rows.find((row) => row.client === CLIENTS.raw)?.perSecond ?? 1;
    const ours = rows.find((row) => row.client === CLIENTS.gateway)?.perSecond ?? 0;
    return { rows, gatewayVsRaw: Math.round((ours / raw) * 100) / 100, notifications: NOTIFICATIONS };
  } finally {
    simulator.kill('SIGTERM');
  }
}
