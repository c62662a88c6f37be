import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { API_ROUTES, handlerEntry } from '../infra/api-routes';
import { LAMBDA_BUNDLING } from '../infra/bundling';
import { node24Path } from './node24';

export interface BundleResult {
  name: string;
  bundleBytes: number;
  coldInitMsMedian: number;
  coldInitMsRuns: number[];
}

const RUNS = 7;
const OUT_DIR = resolve('.bench-tmp/bundles');

/** Every Lambda the stack deploys: name and entry. */
export function lambdaEntries(): { name: string; entry: string }[] {
  return [
    ...API_ROUTES.map((route) => ({ name: route.name, entry: handlerEntry(route.name) })),
    { name: 'sender', entry: 'lambda/adapters/primary/deliver-notifications/handler.ts' },
  ];
}

/**
 * Bundles each Lambda exactly as the CDK construct does, then measures how long
 * Node 24 takes to import the bundle in a fresh process (the init phase's module
 * load), several times; reports the median.
 */
export async function benchLambdaBundles(): Promise<BundleResult[]> {
  const node = node24Path();
  const results: BundleResult[] = [];
  for (const { name, entry } of lambdaEntries()) {
    const outfile = join(OUT_DIR, name, 'index.mjs');
    mkdirSync(join(OUT_DIR, name), { recursive: true });
    await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: 'node',
      format: LAMBDA_BUNDLING.format,
      target: LAMBDA_BUNDLING.target,
      minify: LAMBDA_BUNDLING.minify,
      sourcemap: LAMBDA_BUNDLING.sourceMap,
      external: [...LAMBDA_BUNDLING.externalModules],
      mainFields: [...LAMBDA_BUNDLING.mainFields],
      banner: { js: LAMBDA_BUNDLING.banner },
      logLevel: 'error',
    });
    const runs: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const script = `const t=performance.now();await import(${JSON.stringify(`file://${outfile}`)});console.log(performance.now()-t)`;
      const out = execFileSync(node, ['--input-type=module', '-e', script], {
        encoding: 'utf8',
        env: {
          ...process.env,
          AWS_REGION: 'us-east-1',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
      });
      runs.push(Number(out.trim()));
    }
    const sorted = [...runs].sort((a, b) => a - b);
    results.push({
      name,
      bundleBytes: statSync(outfile).size,
      coldInitMsMedian: round(sorted[Math.floor(sorted.length / 2)] ?? Number.NaN),
      coldInitMsRuns: runs.map(round),
    });
  }
  return results;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
