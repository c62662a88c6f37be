import { defineConfig } from 'vitest/config';

// The development machine runs Node 20 on purpose (CI also runs Node 24); the SDK's nag is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/embedded-services.ts'],
          // Each file has tables and queues of its own in the shared embedded services, so two
          // run at once: most of a file's time is spent waiting on queues, timers and APNs.
          // function-grants-setup fails a test in which a function made a call its deployed
          // grants lack.
          setupFiles: ['test/support/file-resources.ts', 'test/support/function-grants-setup.ts'],
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          // One synth bundles every function with esbuild and runs the cdk-nag packs: ~10 s on a
          // quiet 2-core machine. Files share one module graph so the default stack is synthesized
          // once per run (see stack-fixture.ts), and hooks get many times the measured cost.
          isolate: false,
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
