import { createInterface } from 'node:readline';
import type { FaultScript } from './faults';
import { type ProviderKey, startApnsSimulator } from './simulator';

/**
 * The simulator as its own process (benchmarks run it apart from the client under
 * test). Prints one JSON line with its endpoints and CA, and runs until killed.
 *
 *   SIMULATOR_KEYS              JSON [{keyId, teamId, publicKey (PEM)}]
 *   SIMULATOR_MAX_STREAMS       SETTINGS_MAX_CONCURRENT_STREAMS (default 1000)
 *   SIMULATOR_BUNDLE_ID         the only topic accepted (optional)
 *   SIMULATOR_FAULTS            a fault script, as POST /_local/apns/faults takes (optional)
 *   SIMULATOR_COUNT_DUPLICATES  "1": count tokens accepted more than once (keeps every token)
 *
 * On stdin, the line `stats` prints `{"stats", "faults"}` as one JSON line.
 */
const keys = JSON.parse(process.env.SIMULATOR_KEYS ?? '[]') as ProviderKey[];
const simulator = await startApnsSimulator({
  providerKeys: keys,
  maxConcurrentStreams: Number(process.env.SIMULATOR_MAX_STREAMS ?? 1000),
  inboxLimit: 100,
  countDuplicates: process.env.SIMULATOR_COUNT_DUPLICATES === '1',
  ...(process.env.SIMULATOR_BUNDLE_ID ? { bundleIds: [process.env.SIMULATOR_BUNDLE_ID] } : {}),
});
if (process.env.SIMULATOR_FAULTS)
  simulator.setFaults(JSON.parse(process.env.SIMULATOR_FAULTS) as FaultScript);
process.stdout.write(`${JSON.stringify({ endpoints: simulator.endpoints, ca: simulator.ca })}\n`);
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'stats') {
    process.stdout.write(
      `${JSON.stringify({ stats: simulator.stats, faults: simulator.faultReport().done })}\n`,
    );
  }
});
process.on('SIGTERM', () => {
  simulator.stop().finally(() => process.exit(0));
});
