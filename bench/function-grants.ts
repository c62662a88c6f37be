import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { SENDER_ACCESS } from '../infra/function-access';
import { ENVIRONMENT } from '../lambda/environment';
import { authorize, grantsOf, runAsFunction } from '../local/function-grants';
import { findRoute, loadRouteHandler } from '../local/http-dispatch';
import { requiredPermissions } from '../local/iam-permissions';
import { apiGatewayEvent, lambdaContext } from '../local/lambda-events';
import { seedDevices } from '../local/seed-devices';
import { startLocalStack } from '../local/stack';

const APP_ID = 'com.example.app';
const run = promisify(execFile);

export interface FunctionGrantsResult {
  calls: number;
  /** Mean ms per GET /v1/devices invocation (GetItem + Query on dynalite), one figure per process. */
  checkedMs: number[];
  uncheckedMs: number[];
  /** Median checked ÷ median unchecked: what holding invocations to their grants costs offline. */
  checkedVsUnchecked: number;
  /** The check alone (mapping a Query on an index to its permission and looking it up), µs per SDK call. */
  checkMicrosPerCall: number;
}

/** The check alone, in this process: a sender's Query on the byUser index, many times. */
function checkCost(iterations = 200_000): number {
  const env = {
    [ENVIRONMENT.devicesTable]: 'devices',
    [ENVIRONMENT.notificationsTable]: 'notifications',
  };
  const grants = grantsOf(SENDER_ACCESS, { env });
  const input = { TableName: 'devices', IndexName: 'byUser', KeyConditionExpression: 'userId = :u' };
  const started = performance.now();
  for (let i = 0; i < iterations; i++) {
    authorize('pushgate-sender', grants, requiredPermissions('DynamoDBClient', 'QueryCommand', input));
  }
  return Math.round(((performance.now() - started) * 1000 * 1000) / iterations) / 1000;
}

/**
 * What offline mode's grant check costs: the same route invocation, in processes of
 * their own (so one that never checks never pays for the async context either),
 * alternately with and without the check, against dynalite.
 */
export async function benchFunctionGrants(calls = 400, pairs = 5): Promise<FunctionGrantsResult> {
  const checkedMs: number[] = [];
  const uncheckedMs: number[] = [];
  for (let i = 0; i < pairs; i++) {
    for (const mode of ['unchecked', 'checked'] as const) {
      const { stdout } = await run(
        process.execPath,
        ['--import', 'tsx', 'bench/function-grants.ts', mode, String(calls)],
        { env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' }, maxBuffer: 1 << 20 },
      );
      const meanMs = Number(stdout.trim().split('\n').at(-1));
      (mode === 'checked' ? checkedMs : uncheckedMs).push(meanMs);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  return {
    calls,
    checkedMs,
    uncheckedMs,
    checkedVsUnchecked: Math.round((median(checkedMs) / median(uncheckedMs)) * 1000) / 1000,
    checkMicrosPerCall: checkCost(),
  };
}

/** One process: `calls` invocations of GET /v1/devices after a warm-up; prints the mean ms. */
async function child(mode: string, calls: number): Promise<void> {
  const workDir = resolve(`.bench-tmp/grants-${process.pid}`);
  rmSync(workDir, { recursive: true, force: true });
  const stack = await startLocalStack({ workDir, appId: APP_ID, sender: false });
  try {
    await seedDevices(['grants-user'], 2, APP_ID);
    const found = findRoute('GET', '/v1/devices');
    if (found === undefined) throw new Error('no GET /v1/devices route');
    const { route, params } = found;
    const handler = await loadRouteHandler(route);
    const request = { method: 'GET', url: '/v1/devices', headers: {}, body: undefined };
    const caller = { jwt: { sub: 'grants-user', iss: 'https://issuer.test', aud: 'pushgate' } };
    const functionName = `pushgate-${route.name}`;
    const invoke = (): Promise<APIGatewayProxyResultV2> =>
      handler(apiGatewayEvent(route, request, params, caller) as never, lambdaContext(functionName));
    const once =
      mode === 'checked' ? () => runAsFunction(functionName, grantsOf(route), invoke) : () => invoke();
    for (let i = 0; i < 50; i++) await once();
    const started = performance.now();
    for (let i = 0; i < calls; i++) {
      const result = await once();
      if (typeof result === 'string' || result.statusCode !== 200) throw new Error('the listing failed');
    }
    console.log(((performance.now() - started) / calls).toFixed(3));
  } finally {
    await stack.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('function-grants.ts')) {
  await child(process.argv[2] ?? 'checked', Number(process.argv[3] ?? 400));
}
