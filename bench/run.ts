import { writeFileSync } from 'node:fs';
import { benchLambdaBundles } from './lambda-bundles';

/**
 * `npm run bench`: every benchmark, one table each, and bench/results.json.
 * Figures are compared as ratios within one run, never asserted in tests.
 */
const TARGETS = { bundleKB: 200, coldInitMs: 150 };

const bundles = await benchLambdaBundles();
console.log(
  '\nLambda bundles (minified, esbuild as deployed) and cold init (import on Node 24, median of 7)',
);
console.table(
  bundles.map((b) => ({
    lambda: b.name,
    'bundle KB': Math.round(b.bundleBytes / 102.4) / 10,
    'cold init ms': b.coldInitMsMedian,
    'within targets': b.bundleBytes <= TARGETS.bundleKB * 1024 && b.coldInitMsMedian <= TARGETS.coldInitMs,
  })),
);

const results = {
  generatedAt: new Date().toISOString(),
  machine: { node: process.version, platform: process.platform, arch: process.arch },
  targets: TARGETS,
  lambdas: bundles,
};
writeFileSync('bench/results.json', `${JSON.stringify(results, null, 2)}\n`);
console.log('wrote bench/results.json');
