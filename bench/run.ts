import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { benchApnsThroughput } from './apns-throughput';
import { benchCosts, PRICES } from './cost-model';
import { benchFcmThroughput } from './fcm-throughput';
import { benchFunctionGrants } from './function-grants';
import { benchLambdaBundles } from './lambda-bundles';
import { benchLatency } from './latency';
import { benchStartup } from './startup';
import { benchStrictJson } from './strict-json';

/**
 * `npm run bench`: every benchmark, one table each, and bench/results.json.
 * `npm run bench -- apns` (or any of PARTS) runs only those, keeping the other figures
 * in results.json. Figures are compared as ratios within one run, never asserted in tests.
 *
 * With no arguments each part runs in a process of its own, one after the other: a part
 * starts its own offline stack, and the Lambda code's SDK clients are module singletons
 * bound to the first stack's endpoints, so two stack-starting parts cannot share a
 * process. Each part writes its figures to results.json as it ends, so a part that fails
 * loses only its own; the run then exits 1 and names it.
 */
const PARTS = ['bundles', 'apns', 'fcm', 'costs', 'latency', 'json', 'startup', 'grants'] as const;

const only = new Set(process.argv.slice(2));
const unknown = [...only].filter((part) => !(PARTS as readonly string[]).includes(part));
if (unknown.length > 0) {
  console.error(`unknown bench part: ${unknown.join(', ')} (parts: ${PARTS.join(', ')})`);
  process.exit(2);
}
if (only.size === 0) {
  const failed: string[] = [];
  for (const part of PARTS) {
    const { status, signal } = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', part], {
      stdio: 'inherit',
    });
    if (status !== 0) failed.push(`${part} (${signal ?? `exit code ${status}`})`);
  }
  if (failed.length > 0) console.error(`\nbench parts that failed: ${failed.join(', ')}`);
  process.exit(failed.length > 0 ? 1 : 0);
}
const wanted = (section: string) => only.has(section);
const previous = existsSync('bench/results.json')
  ? (JSON.parse(readFileSync('bench/results.json', 'utf8')) as Record<string, unknown>)
  : {};
const TARGETS = {
  registryBundleKB: 200,
  registryColdInitMs: 150,
  gatewayVsRaw: 0.9,
  untrackedDollarsPerMillion: 0.05,
  trackedDollarsPerMillion: 0.1,
  /** The chat case, per million pushes (users with 2 devices): SNS charges about $1.00. */
  chatDollarsPerMillion: {
    'chat, SQS batches': 0.5,
    'chat, batch route': 0.8,
    'chat, one API call each': 1.5,
  },
  offlineStartSeconds: 10,
};

const results: Record<string, unknown> = {
  ...previous,
  generatedAt: new Date().toISOString(),
  machine: { node: process.version, platform: process.platform, arch: process.arch },
  targets: TARGETS,
};

if (wanted('bundles')) {
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
  results.lambdas = bundles;
}

if (wanted('apns')) {
  const apns = await benchApnsThroughput();
  console.log(
    `\n${apns.notifications} notifications per round to the APNs simulator (separate process), clients in processes of their own`,
  );
  console.table(
    apns.rows.map((row) => ({
      client: row.client,
      'notifications/s': row.perSecond,
      sent: row.sent,
      failed: row.failed,
      duplicates: row.duplicates ?? '',
      'first failure': Object.keys(row.failures)[0]?.slice(0, 48) ?? '',
    })),
  );
  const gateway = apns.rows.find((row) => row.client === 'pushgate gateway');
  console.log(
    `pushgate ÷ raw = ${apns.gatewayVsRaw} (target ≥ ${TARGETS.gatewayVsRaw} with zero failures: ${
      apns.gatewayVsRaw >= TARGETS.gatewayVsRaw && gateway?.failed === 0 ? 'met' : 'NOT met'
    })`,
  );
  results.apnsThroughput = apns;
}

if (wanted('fcm')) {
  const fcm = await benchFcmThroughput();
  console.log(`\n${fcm.notifications} FCM messages per round to the FCM simulator (separate process)`);
  console.table(
    fcm.rows.map((row) => ({
      client: row.client,
      'notifications/s': row.perSecond,
      sent: row.sent,
      failed: row.failed,
      'first failure': Object.keys(row.failures)[0]?.slice(0, 48) ?? '',
    })),
  );
  const gateway = fcm.rows.find((row) => row.client === 'pushgate FCM gateway');
  console.log(
    `pushgate FCM ÷ raw = ${fcm.gatewayVsRaw} (target ≥ ${TARGETS.gatewayVsRaw} with zero failures: ${
      fcm.gatewayVsRaw >= TARGETS.gatewayVsRaw && gateway?.failed === 0 ? 'met' : 'NOT met'
    })`,
  );
  results.fcmThroughput = fcm;
}

if (wanted('costs')) {
  const costs = await benchCosts();
  const chat = costs.filter((cost) => cost.scenario.startsWith('chat, '));
  console.log(
    `\nCost per million notifications (5 000 users × 2 devices, end to end; prices: ${PRICES.asOf})`,
  );
  console.table(
    costs
      .filter((cost) => !chat.includes(cost))
      .map((cost) => ({
        scenario: cost.scenario,
        notifications: cost.notifications,
        'SQS requests': cost.counts.sqsRequests,
        'DynamoDB RRU': cost.counts.dynamoReadUnits,
        'DynamoDB WRU': cost.counts.dynamoWriteUnits,
        'RRU per push': cost.readUnitsPerPush,
        'Lambda invocations': cost.counts.lambdaInvocations,
        'Lambda GB-s': cost.counts.lambdaGbSeconds,
        '$ per million': cost.dollarsPerMillion,
        'SNS ($0.50/M) ÷ this':
          Math.round((PRICES.snsMobilePushPerMillionPublishes / cost.dollarsPerMillion) * 10) / 10,
      })),
  );
  console.log(
    '\nChat: 10 000 notifications, each to one user with 2 devices and its own notificationId; $ per million pushes, line by line',
  );
  const chatLines = [...new Set(chat.flatMap((cost) => Object.keys(cost.breakdownPerMillion)))];
  console.table(
    Object.fromEntries(
      [...chatLines, 'total', 'target', 'SNS ($1.00/M) ÷ this'].map((line) => [
        line,
        Object.fromEntries(
          chat.map((cost) => {
            const target =
              TARGETS.chatDollarsPerMillion[cost.scenario as keyof typeof TARGETS.chatDollarsPerMillion];
            const value =
              line === 'total'
                ? cost.dollarsPerMillion
                : line === 'target'
                  ? `≤ ${target} ${cost.dollarsPerMillion <= target ? 'met' : 'NOT met'}`
                  : line.startsWith('SNS')
                    ? Math.round(
                        ((2 * PRICES.snsMobilePushPerMillionPublishes) / cost.dollarsPerMillion) * 10,
                      ) / 10
                    : (cost.breakdownPerMillion[line] ?? 0);
            return [cost.scenario, value];
          }),
        ),
      ]),
    ),
  );
  const bulk = costs.filter((cost) => !chat.includes(cost));
  console.log('The lines, $ per million notifications (data out to APNs is not in the total above):');
  const lines = [
    ...new Set(
      bulk.flatMap((cost) => [
        ...Object.keys(cost.breakdownPerMillion),
        ...Object.keys(cost.dynamoLinesPerMillion),
      ]),
    ),
  ].filter((name) => !name.startsWith('dynamo'));
  console.table(
    Object.fromEntries([
      ...lines.map((name) => [
        name,
        Object.fromEntries(
          bulk.map((cost) => [
            cost.scenario,
            cost.dynamoLinesPerMillion[name] ?? cost.breakdownPerMillion[name] ?? 0,
          ]),
        ),
      ]),
      [
        'data out to APNs',
        Object.fromEntries(bulk.map((cost) => [cost.scenario, cost.dataOutToApnsPerMillion])),
      ],
      [
        'total (without data out)',
        Object.fromEntries(bulk.map((cost) => [cost.scenario, cost.dollarsPerMillion])),
      ],
    ]),
  );
  const receipt = costs.find((cost) => cost.receipt !== undefined)?.receipt;
  if (receipt !== undefined) {
    console.log(
      `One receipt: ${receipt.dynamoReadUnits} RRU + ${receipt.dynamoWriteUnits} WRU, with API Gateway and Lambda $${receipt.dollarsPerMillion} per million receipts`,
    );
  }
  results.costPerMillion = { prices: PRICES, scenarios: costs };
}

if (wanted('latency')) {
  const latency = await benchLatency();
  const { chat, chatBatch, endToEnd } = latency;
  console.log(
    `\nChat-like latency offline (one user, one device, POST → APNs answer, ${chat.sends} sends one at a time): p50 ${chat.p50Ms} ms, p95 ${chat.p95Ms} ms, max ${chat.maxMs} ms (p95 ≤ 2 × p50: ${chat.p95Ms <= 2 * chat.p50Ms ? 'met' : 'NOT met'})`,
  );
  console.log(
    `Chat batches offline (${chatBatch.jobs} one-user jobs per POST /v1/notification-batches → the last APNs answer, ${chatBatch.batches} batches): p50 ${chatBatch.p50Ms} ms, p95 ${chatBatch.p95Ms} ms, max ${chatBatch.maxMs} ms (p95 ≤ 2 × p50: ${chatBatch.p95Ms <= 2 * chatBatch.p50Ms ? 'met' : 'NOT met'})`,
  );
  for (const run of [endToEnd, latency.endToEndOnLambdaRuntime]) {
    console.log(
      `End to end offline on Node ${run.node}: ${run.devices} devices from one request: accepted in ${run.acceptMs} ms, first APNs answer at ${run.firstPushMs} ms (target ≤ 1 500), last at ${run.lastPushMs} ms (target ≤ 12 000) = ${run.notificationsPerSecond} notifications/s, ${run.requestsSentAgain} requests sent again`,
    );
    console.log(
      `  mean call (socket queueing included): DynamoDB ${run.meanCallMs.dynamoDb} ms, SQS ${run.meanCallMs.sqs} ms; DynamoDB calls: ${JSON.stringify(run.dynamoDbCalls)}`,
    );
  }
  results.latency = latency;
}

if (wanted('json')) {
  const rows = benchStrictJson();
  console.log(
    '\nStrict JSON bodies: the scan for duplicate keys and depth beside JSON.parse (median of 15, ms)',
  );
  console.table(
    rows.map((row) => ({
      body: row.body,
      MB: row.megabytes,
      'JSON.parse': row.parseMs,
      scan: row.duplicateScanMs,
      'scan ÷ parse': row.scanVsParse,
      'validation walk + schema': row.validateMs,
    })),
  );
  results.strictJson = rows;
}

if (wanted('startup')) {
  const startup = await benchStartup();
  console.log(
    `\nnpm start → "running": ${startup.secondsMedian} s median of 3 (${startup.runs.join(', ')}; target < ${TARGETS.offlineStartSeconds} s)`,
  );
  results.offlineStartSeconds = startup;
}

if (wanted('grants')) {
  const grants = await benchFunctionGrants();
  console.log(
    `\nOffline grant check: GET /v1/devices invoked ${grants.calls}× per process, mean ms checked ${grants.checkedMs.join(', ')} vs unchecked ${grants.uncheckedMs.join(', ')}: checked ÷ unchecked = ${grants.checkedVsUnchecked} (median of ${grants.checkedMs.length} processes each); the check alone ${grants.checkMicrosPerCall} µs per SDK call`,
  );
  results.functionGrants = grants;
}

writeFileSync('bench/results.json', `${JSON.stringify(results, null, 2)}\n`);
console.log('wrote bench/results.json');
