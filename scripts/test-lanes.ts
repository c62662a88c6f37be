import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * The test suites of `npm test` (after typecheck and lint), as three Vitest runs at once:
 *
 *   integration  the integration project (the handlers on the embedded AWS services and the
 *                APNs simulator), on the development Node;
 *   node24       the same project on Node 24, the Lambda runtime (`npm run test:node24`);
 *   others       the unit, infra (CDK synth + cdk-nag) and e2e (`npm start`) projects.
 *
 * Much of a suite's time is spent waiting — on SQS delays and visibility timeouts, re-push
 * rounds, APNs retry-after and request timeouts, `npm start` coming up — so runs side by side
 * share 2 cores well: together they take little longer than the integration run alone. Each
 * run has its own embedded services. Every output line is prefixed with its run's name; the
 * exit code is 1 when a run failed, once all have finished.
 */
const vitest = (...args: string[]) => ({
  command: process.execPath,
  args: ['node_modules/vitest/vitest.mjs', 'run', ...args],
});
const LANES: { name: string; command: string; args: string[] }[] = [
  { name: 'integration', ...vitest('--project', 'integration') },
  { name: 'node24', command: 'npm', args: ['run', 'test:node24'] },
  { name: 'others', ...vitest('--project', 'unit', '--project', 'infra', '--project', 'e2e') },
];

interface Finished {
  name: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  seconds: number;
  /** The lane's failed tests and their errors, repeated at the end (see FAILURE_LINE). */
  failures: string[];
}

/**
 * A failed test's header or its error's first line. They are printed again after all
 * lanes end, so the last lines of a long log — all a CI summary may keep — name every
 * failure and its error, whatever diff was printed before them.
 */
const FAILURE_LINE = /^\s*(FAIL\s|×\s|[A-Za-z]*Error:\s)/;
const FAILURES_KEPT = 40;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the escape sequences colours are written with.
const COLOURS = /\x1b\[[0-9;]*m/g;

const running = new Set<ReturnType<typeof spawn>>();

function runLane(lane: (typeof LANES)[number]): Promise<Finished> {
  const started = Date.now();
  const child = spawn(lane.command, lane.args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Colours as on a terminal when this runs on one (a pipe would turn them off).
    env: { ...process.env, ...(process.stdout.isTTY ? { FORCE_COLOR: '1' } : {}) },
  });
  running.add(child);
  const failures: string[] = [];
  for (const [stream, out] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ] as const) {
    createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
      out.write(`[${lane.name}] ${line}\n`);
      const plain = line.replace(COLOURS, '').trimEnd();
      if (FAILURE_LINE.test(plain) && !failures.includes(plain)) failures.push(plain.slice(0, 300));
    });
  }
  return new Promise((resolve) => {
    child.once('error', (error) => {
      process.stderr.write(`[${lane.name}] could not start ${lane.command}: ${error.message}\n`);
    });
    child.once('close', (code, signal) => {
      running.delete(child);
      resolve({
        name: lane.name,
        code,
        signal,
        seconds: Math.round((Date.now() - started) / 1000),
        failures,
      });
    });
  });
}

// Ctrl-C reaches the lanes through the terminal's process group; a TERM from elsewhere is passed on.
process.on('SIGTERM', () => {
  for (const child of running) child.kill('SIGTERM');
});

const finished = await Promise.all(LANES.map(runLane));
for (const lane of finished.filter((lane) => lane.code !== 0)) {
  const shown = lane.failures.slice(0, FAILURES_KEPT);
  const more = lane.failures.length - shown.length;
  process.stdout.write(`\n${lane.name} failures:\n${shown.map((line) => `  ${line.trim()}\n`).join('')}`);
  if (more > 0) process.stdout.write(`  …and ${more} more lines above\n`);
}
for (const lane of finished) {
  const outcome = lane.code === 0 ? 'passed' : `FAILED (${lane.signal ?? `exit code ${lane.code}`})`;
  process.stdout.write(`${lane.name}: ${outcome} in ${lane.seconds} s\n`);
}
process.exitCode = finished.every((lane) => lane.code === 0) ? 0 : 1;
