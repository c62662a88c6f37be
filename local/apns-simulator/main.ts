import { startApnsSimulator } from './simulator';

/**
 * The simulator as its own process (benchmarks run it apart from the client under
 * test). Reads the provider key from env, prints one JSON line with its endpoints
 * and CA, and runs until killed.
 *
 *   SIMULATOR_KEY_ID, SIMULATOR_TEAM_ID, SIMULATOR_PUBLIC_KEY (PEM),
 *   SIMULATOR_MAX_STREAMS (default 1000), SIMULATOR_BUNDLE_ID (optional)
 */
const simulator = await startApnsSimulator({
  providerKeys: [
    {
      keyId: process.env.SIMULATOR_KEY_ID ?? '',
      teamId: process.env.SIMULATOR_TEAM_ID ?? '',
      publicKey: process.env.SIMULATOR_PUBLIC_KEY ?? '',
    },
  ],
  maxConcurrentStreams: Number(process.env.SIMULATOR_MAX_STREAMS ?? 1000),
  inboxLimit: 100,
  ...(process.env.SIMULATOR_BUNDLE_ID ? { bundleIds: [process.env.SIMULATOR_BUNDLE_ID] } : {}),
});
process.stdout.write(`${JSON.stringify({ endpoints: simulator.endpoints, ca: simulator.ca })}\n`);
process.on('SIGTERM', () => {
  simulator.stop().finally(() => process.exit(0));
});
setInterval(() => {
  if (process.env.SIMULATOR_STATS) process.stderr.write(`${JSON.stringify(simulator.stats)}\n`);
}, 5000).unref();
