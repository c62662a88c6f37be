import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { dynamo, sqs as lambdaSqs } from '../lambda/clients';
import { callRoute } from '../local/call-route';
import { seedDevices } from '../local/seed-devices';
import { type LocalStack, startLocalStack } from '../local/stack';
import { node24Path } from './node24';

/** The IAM principal the benchmarks send as. */
const BENCH_CALLER = { iam: { userArn: 'arn:aws:iam::000000000000:role/bench' } };

const APP_ID = 'com.example.app';

export interface LatencyResult {
  chat: { sends: number; p50Ms: number; p95Ms: number; maxMs: number };
  /** POST /v1/notification-batches of `jobs` one-user jobs → the last of their APNs answers. */
  chatBatch: { batches: number; jobs: number; p50Ms: number; p95Ms: number; maxMs: number };
  endToEnd: {
    devices: number;
    acceptMs: number;
    firstPushMs: number;
    lastPushMs: number;
    notificationsPerSecond: number;
    /** Mean wall time of one call, queueing for a socket included. */
    meanCallMs: { dynamoDb: number; sqs: number };
    dynamoDbCalls: Record<string, number>;
    /** Requests the simulator saw beyond one per device: each a push sent again after a timeout or a lost answer. */
    requestsSentAgain: number;
    /** The Node.js that ran it: offline is the developer's Node; the deployed sender runs the Lambda runtime's. */
    node: string;
  };
  /** `endToEnd` again, on the Lambda runtime's Node (24). */
  endToEndOnLambdaRuntime: LatencyResult['endToEnd'];
}

async function post(job: unknown): Promise<void> {
  const answer = await callRoute('POST', '/v1/notifications', job, BENCH_CALLER);
  if (answer.statusCode !== 202) throw new Error(`send refused: ${answer.body}`);
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for APNs');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

/** The chat-like case: one user, one device, POST → the APNs simulator's answer, one send at a time. */
async function chatLatency(stack: LocalStack, sends: number) {
  const simulator = stack.simulator;
  if (simulator === undefined) throw new Error('the bench needs the simulator');
  await seedDevices(['chat-user'], 1, APP_ID);
  const times: number[] = [];
  for (let i = 0; i < sends + 5; i++) {
    const before = simulator.stats.accepted;
    const started = performance.now();
    await post({
      notificationId: `chat-single-${i}`,
      appId: APP_ID,
      to: { userIds: ['chat-user'] },
      aps: { alert: `message ${i}` },
    });
    await until(() => simulator.stats.accepted > before, 30_000);
    if (i >= 5) times.push(performance.now() - started); // the first few warm up connections
  }
  times.sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    sends,
    p50Ms: round(percentile(times, 50)),
    p95Ms: round(percentile(times, 95)),
    maxMs: round(times.at(-1) ?? 0),
  };
}

/**
 * The chat backend that batches: `jobs` one-user jobs (each its own user with one
 * device and its own notificationId) in one POST /v1/notification-batches, timed to
 * the last of their APNs answers; one batch at a time.
 */
async function chatBatchLatency(stack: LocalStack, batches: number, jobs: number) {
  const simulator = stack.simulator;
  if (simulator === undefined) throw new Error('the bench needs the simulator');
  const users = Array.from({ length: jobs }, (_, i) => `chat-batch-user-${i}`);
  await seedDevices(users, 1, APP_ID);
  const times: number[] = [];
  for (let round = 0; round < batches + 2; round++) {
    const before = simulator.stats.accepted;
    const started = performance.now();
    const notifications = users.map((userId, i) => ({
      notificationId: `chat-batch-${round}-${i}`,
      appId: APP_ID,
      to: { userIds: [userId] },
      aps: { alert: `message ${round}` },
    }));
    const answer = await callRoute('POST', '/v1/notification-batches', { notifications }, BENCH_CALLER);
    if (answer.statusCode !== 200) throw new Error(`batch refused: ${answer.body}`);
    await until(() => simulator.stats.accepted >= before + jobs, 60_000);
    if (round >= 2) times.push(performance.now() - started); // the first rounds warm up
  }
  times.sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    batches,
    jobs,
    p50Ms: round(percentile(times, 50)),
    p95Ms: round(percentile(times, 95)),
    maxMs: round(times.at(-1) ?? 0),
  };
}

/** One request to `devices` devices (2 per user), from the POST to the last APNs answer. */
async function endToEnd(stack: LocalStack, devices: number) {
  const simulator = stack.simulator;
  if (simulator === undefined) throw new Error('the bench needs the simulator');
  const users = Array.from({ length: devices / 2 }, (_, i) => `e2e-${i}`);
  await seedDevices(users, 2, APP_ID);
  const callMs = { dynamoDb: 0, sqs: 0 };
  const calls = { dynamoDb: 0, sqs: 0 };
  const dynamoDbCalls: Record<string, number> = {};
  const timing =
    (kind: keyof typeof callMs) =>
    // biome-ignore lint/suspicious/noExplicitAny: SDK middleware signatures are generic over every command
    (next: any, context: any) =>
    async (args: unknown) => {
      const started = performance.now();
      try {
        return await next(args);
      } finally {
        callMs[kind] += performance.now() - started;
        calls[kind]++;
        if (kind === 'dynamoDb') {
          const name = String(context.commandName);
          dynamoDbCalls[name] = (dynamoDbCalls[name] ?? 0) + 1;
        }
      }
    };
  dynamo.middlewareStack.add(timing('dynamoDb'), { step: 'initialize', name: 'benchTiming' });
  lambdaSqs.middlewareStack.add(timing('sqs'), { step: 'initialize', name: 'benchTiming' });
  try {
    const before = simulator.stats.accepted;
    const requestsBefore = simulator.stats.requests;
    const started = performance.now();
    await post({ appId: APP_ID, to: { userIds: users }, aps: { alert: 'to everybody' } });
    const acceptMs = performance.now() - started;
    await until(() => simulator.stats.accepted > before, 120_000);
    const firstPushMs = performance.now() - started;
    await until(() => simulator.stats.accepted >= before + devices, 900_000);
    const lastPushMs = performance.now() - started;
    const round = (ms: number) => Math.round(ms);
    return {
      devices,
      acceptMs: round(acceptMs),
      firstPushMs: round(firstPushMs),
      lastPushMs: round(lastPushMs),
      notificationsPerSecond: Math.round(devices / (lastPushMs / 1000)),
      meanCallMs: {
        dynamoDb: round(callMs.dynamoDb / Math.max(1, calls.dynamoDb)),
        sqs: round(callMs.sqs / Math.max(1, calls.sqs)),
      },
      dynamoDbCalls,
      requestsSentAgain: simulator.stats.requests - requestsBefore - devices,
      node: process.version,
    };
  } finally {
    dynamo.middlewareStack.remove('benchTiming');
    lambdaSqs.middlewareStack.remove('benchTiming');
  }
}

/** Offline (`npm start`'s stack, in memory): the chat-like latency, then one large send. */
export async function benchLatency(chatSends = 100, devices = 50_000): Promise<LatencyResult> {
  const onDevelopersNode = await onLocalStack('latency', async (stack) => ({
    chat: await chatLatency(stack, chatSends),
    chatBatch: await chatBatchLatency(stack, 20, 100),
    endToEnd: await endToEnd(stack, devices),
  }));
  return { ...onDevelopersNode, endToEndOnLambdaRuntime: endToEndOnNode24(devices) };
}

/** The large send alone, on a stack of its own (bench/latency-node24.ts runs it on Node 24). */
export function benchEndToEnd(devices: number): Promise<LatencyResult['endToEnd']> {
  return onLocalStack('latency-end-to-end', (stack) => endToEnd(stack, devices));
}

async function onLocalStack<T>(name: string, run: (stack: LocalStack) => Promise<T>): Promise<T> {
  const workDir = resolve(`.bench-tmp/${name}`);
  rmSync(workDir, { recursive: true, force: true });
  const stack = await startLocalStack({ workDir, appId: APP_ID });
  try {
    return await run(stack);
  } finally {
    await stack.stop();
  }
}

/**
 * The same large send on Node 24, the runtime the deployed sender runs on, in a process
 * of its own: Node 20's http2 and V8 are slower at it, and `npm start` runs on whatever
 * Node the developer has.
 */
function endToEndOnNode24(devices: number): LatencyResult['endToEnd'] {
  const output = execFileSync(node24Path(), ['--import', 'tsx', 'bench/latency-node24.ts', String(devices)], {
    encoding: 'utf8',
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'WARN' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const last = output.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as LatencyResult['endToEnd'];
}
