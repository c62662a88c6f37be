import { createInterface } from 'node:readline';
import { type ServiceAccount, startFcmSimulator } from './simulator';

/**
 * The FCM simulator as its own process (benchmarks run it apart from the client under
 * test). Prints one JSON line `{endpoint, tokenUri, ca}` and runs until killed.
 *
 *   SIMULATOR_ACCOUNTS       JSON [{clientEmail, publicKey (PEM), projectIds}]
 *   SIMULATOR_MAX_STREAMS    SETTINGS_MAX_CONCURRENT_STREAMS (default 1000)
 *
 * On stdin, the line `stats` prints `{"stats", "faults"}` as one JSON line.
 */
const simulator = await startFcmSimulator({
  serviceAccounts: JSON.parse(process.env.SIMULATOR_ACCOUNTS ?? '[]') as ServiceAccount[],
  maxConcurrentStreams: Number(process.env.SIMULATOR_MAX_STREAMS ?? 1000),
  inboxLimit: 100,
});
process.stdout.write(
  `${JSON.stringify({ endpoint: simulator.endpoint, tokenUri: simulator.tokenUri, ca: simulator.ca })}\n`,
);
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
