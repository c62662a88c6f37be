import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// The development machine runs Node 20 on purpose (CI also runs Node 24); the SDK's nag is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/**
 * The files that take longest — thousands of devices each — go first, so that the
 * shorter ones fill in around them instead of one of them starting last and running
 * alone. Vitest orders by the timings of the previous run, but a fresh clone has none
 * (it would order by file size).
 */
const LONGEST_FILES = [
  'test/integration/scale-limits.test.ts',
  'test/integration/sender-large.test.ts',
  'test/integration/sender-connection-faults.test.ts',
  'test/integration/send-api.test.ts',
];

class LongestFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification) => {
      const index = LONGEST_FILES.findIndex((file) => spec.moduleId.endsWith(file));
      return index === -1 ? LONGEST_FILES.length : index;
    };
    // Array.prototype.sort is stable: the other files keep Vitest's order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    sequence: { sequencer: LongestFilesFirst },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // A cap, not a speed target: a few unit tests build inboxes or schemas of 100 000s of
          // items, a fraction of a second here but seconds on a slower, busy CI machine.
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/embedded-services.ts'],
          // Each file has tables and queues of its own in the shared embedded services, so two
          // run at once: most of a file's time is spent waiting on queues, timers and APNs.
          // function-grants-setup fails a test in which a function made a call its deployed
          // grants lack.
          // route-failures prints the cause of any 500 a route answers.
          setupFiles: [
            'test/support/file-resources.ts',
            'test/support/function-grants-setup.ts',
            'test/support/route-failures.ts',
          ],
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
          // quiet 2-core machine, over 3 minutes on a busy one running the other lanes. Files share
          // one module graph so the default stack is synthesized once per run (see
          // stack-fixture.ts), and hooks get many times the cost seen under load.
          isolate: false,
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 600_000,
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
