import { writeFileSync } from 'node:fs';
import { benchApnsThroughput } from './apns-throughput';
import { benchCosts, PRICES } from './cost-model';
import { benchLambdaBundles } from './lambda-bundles';
import { benchStartup } from './startup';

/**
 * `npm run bench`: every benchmark, one table each, and bench/results.json.
 * Figures are compared as ratios within one run, never asserted in tests.
 */
const TARGETS = {
  registryBundleKB: 200,
  registryColdInitMs: 150,
  gatewayVsRaw: 0.9,
  untrackedDollarsPerMillion: 0.05,
  offlineStartSeconds: 10,
};

const bundles = await benchLambdaBundles();
console.log(
  '\nLambda bundles (minified, esbuild as deployed) and cold init (import on Node 24, median of 7)',
);
console.table(
  bundles.map((b) => ({
    lambda: b.name,
    'bundle KB': Math.round(b.bundleBytes / 102.4) / 10,
    'cold init ms': b.coldInitMsMedian,
    'registry targets met':
      b.name === 'sender'
        ? 'n/a'
        : b.bundleBytes <= TARGETS.registryBundleKB * 1024 &&
          b.coldInitMsMedian <= TARGETS.registryColdInitMs,
  })),
);

const apns = await benchApnsThroughput();
console.log(
  `\n${apns.notifications} notifications to the APNs simulator (separate process), each client in a fresh process`,
);
console.table(
  apns.rows.map((row) => ({
    client: row.client,
    'notifications/s': row.perSecond,
    accepted: row.accepted,
    failed: row.failed,
    'first failure': Object.keys(row.failures)[0]?.slice(0, 48) ?? '',
  })),
);
const gateway = apns.rows.find((row) => row.client === 'pushgate gateway');
console.log(
  `pushgate ÷ raw = ${apns.gatewayVsRaw} (target ≥ ${TARGETS.gatewayVsRaw} with zero failures: ${
    apns.gatewayVsRaw >= TARGETS.gatewayVsRaw && gateway?.failed === 0 ? 'met' : 'NOT met'
  })`,
);

const costs = await benchCosts();
console.log(`\nCost per million notifications (5 000 users × 2 devices, end to end; prices: ${PRICES.asOf})`);
console.table(
  costs.map((cost) => ({
    scenario: cost.scenario,
    notifications: cost.notifications,
    'SQS requests': cost.counts.sqsRequests,
    'DynamoDB RRU': cost.counts.dynamoReadUnits,
    'DynamoDB WRU': cost.counts.dynamoWriteUnits,
    'Lambda invocations': cost.counts.lambdaInvocations,
    'Lambda GB-s': cost.counts.lambdaGbSeconds,
    '$ per million': cost.dollarsPerMillion,
    'SNS ($0.50/M) ÷ this':
      Math.round((PRICES.snsMobilePushPerMillionPublishes / cost.dollarsPerMillion) * 10) / 10,
  })),
);

const startup = await benchStartup();
console.log(
  `\nnpm start → "running": ${startup.secondsMedian} s median of 3 (${startup.runs.join(', ')}; target < ${TARGETS.offlineStartSeconds} s)`,
);

const results = {
  generatedAt: new Date().toISOString(),
  machine: { node: process.version, platform: process.platform, arch: process.arch },
  targets: TARGETS,
  lambdas: bundles,
  apnsThroughput: apns,
  costPerMillion: { prices: PRICES, scenarios: costs },
  offlineStartSeconds: startup,
};
writeFileSync('bench/results.json', `${JSON.stringify(results, null, 2)}\n`);
console.log('wrote bench/results.json');
