import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent } from 'aws-lambda';
import { SENDER_ACCESS } from '../infra/function-access';
import { SENDER } from '../infra/queue-settings';
import { sqs as lambdaSqs } from '../lambda/clients';
import { mapConcurrent } from '../lambda/domain/concurrency';
import { callRoute } from '../local/call-route';
import { findRoute } from '../local/http-dispatch';
import { seedDevices } from '../local/seed-devices';
import { SqsEventSource } from '../local/sqs-event-source';
import { type LocalStack, startLocalStack } from '../local/stack';
import { instrument, type Tally, uninstrument } from './billing-meter';

/** The IAM principal the benchmarks send as. */
const BENCH_CALLER = { iam: { userArn: 'arn:aws:iam::000000000000:role/bench' } };

/**
 * What one end-to-end run costs on AWS, counted from the requests the real code
 * makes against the embedded services: a backend's POST /v1/notifications to
 * USERS users with DEVICES_PER_USER devices each, through the send queue and the
 * sender to APNs. Priced at the us-east-1 list prices below.
 */
export const PRICES = {
  /** As published on aws.amazon.com/<service>/pricing for us-east-1; last checked 2025-06 (update when they change). */
  asOf: '2025-06, us-east-1 list prices',
  sqsPerMillionRequests: 0.4,
  dynamoPerMillionWriteUnits: 0.625,
  dynamoPerMillionReadUnits: 0.125,
  lambdaPerMillionRequests: 0.2,
  lambdaArmPerGbSecond: 0.0000133334,
  httpApiPerMillionRequests: 1.0,
  snsMobilePushPerMillionPublishes: 0.5,
  /** Data transfer out to the internet (APNs), first 10 TB a month. */
  dataOutPerGb: 0.09,
};
/** What one push weighs on the wire to APNs (HTTP/2 frames, headers and a small payload). */
const BYTES_PER_PUSH_ON_THE_WIRE = 370;
const USERS = 5_000;
const DEVICES_PER_USER = 2;
const API_MEMORY_GB = 256 / 1024;

export interface CostResult {
  scenario: string;
  notifications: number;
  counts: {
    sqsRequests: number;
    dynamoReadUnits: number;
    dynamoWriteUnits: number;
    lambdaInvocations: number;
    lambdaGbSeconds: number;
    apiRequests: number;
  };
  dollarsPerMillion: number;
  breakdownPerMillion: Record<string, number>;
  /** DynamoDB by table and purpose, $ per million notifications. */
  dynamoLinesPerMillion: Record<string, number>;
  /** DynamoDB read units per push (the set design's target: ≤ 0.55 with 2 devices per user). */
  readUnitsPerPush: number;
  /** Data out to APNs (BYTES_PER_PUSH_ON_THE_WIRE per push), $ per million; not in `dollarsPerMillion`. */
  dataOutToApnsPerMillion: number;
  /** Tracked only: one app receipt (POST /v1/notifications/{id}/receipts), per million receipts. */
  receipt?: { dynamoReadUnits: number; dynamoWriteUnits: number; dollarsPerMillion: number };
}
/** Every scenario in one offline stack (its SDK clients live for the whole process, like a Lambda's). */
export async function benchCosts(): Promise<CostResult[]> {
  const workDir = resolve('.bench-tmp/cost');
  rmSync(workDir, { recursive: true, force: true });
  const stack = await startLocalStack({ workDir, appId: 'com.example.app', sender: false });
  const tally: Tally = { sqsRequests: 0, readUnits: 0, writeUnits: 0, lines: {}, writesByPurpose: {} };
  instrument(tally, [lambdaSqs, stack.sqs]);
  const reset = () =>
    Object.assign(tally, { sqsRequests: 0, readUnits: 0, writeUnits: 0, lines: {}, writesByPurpose: {} });
  try {
    const results: CostResult[] = [];
    for (const tracked of [false, true]) {
      reset();
      results.push(await runScenario(stack, tally, tracked));
    }
    for (const path of CHAT_PATHS) {
      if (path === 'batch route' && findRoute('POST', '/v1/notification-batches') === undefined) continue;
      reset();
      results.push(await runChatScenario(stack, tally, path));
    }
    return results;
  } finally {
    uninstrument([lambdaSqs, stack.sqs]);
    await stack.stop();
  }
}

/** The sender as its event source drives it, timed for its Lambda cost. */
async function startSender(stack: LocalStack) {
  const counted = { invocations: 0, ms: 0 };
  const { handler } = await import('../lambda/adapters/primary/deliver-notifications/handler');
  const timed = async (event: SQSEvent, context: Context) => {
    const started = performance.now();
    try {
      return await handler(event, context);
    } finally {
      counted.invocations++;
      counted.ms += performance.now() - started;
    }
  };
  const source = new SqsEventSource({
    sqs: stack.sqs,
    queueUrl: stack.queues.sendQueueUrl,
    handler: async () => timed,
    functionName: 'pushgate-sender',
    access: SENDER_ACCESS,
    batchSize: SENDER.batchSize,
    maxConcurrency: 2,
    timeoutMs: SENDER.timeoutSeconds * 1000,
  });
  await source.start();
  return { source, counted };
}

/**
 * The chat-app case: CHAT_MESSAGES notifications, each to one user with
 * DEVICES_PER_USER devices and a caller-given notificationId, sent one of three ways.
 */
export const CHAT_PATHS = ['one API call each', 'batch route', 'SQS batches'] as const;
export type ChatPath = (typeof CHAT_PATHS)[number];
const CHAT_MESSAGES = 10_000;
const CHAT_BATCH_ROUTE_SIZE = 100;
const SQS_BATCH_SIZE = 10;

async function runChatScenario(stack: LocalStack, tally: Tally, path: ChatPath): Promise<CostResult> {
  const tag = path.replace(/\W+/g, '-');
  const users = Array.from({ length: CHAT_MESSAGES }, (_, i) => `chat-${tag}-${i}`);
  await seedDevices(users, DEVICES_PER_USER, 'com.example.app');
  const jobs = users.map((userId, i) => ({
    notificationId: `chat-${tag}-${i}`,
    appId: 'com.example.app',
    to: { userIds: [userId] },
    aps: { alert: { title: 'Ann', body: 'See you at eight?' }, sound: 'default' },
  }));
  const acceptedBefore = stack.simulator?.stats.accepted ?? 0;
  const { source, counted } = await startSender(stack);
  let apiRequests = 0;
  let apiMs = 0;
  const callApi = async (routePath: string, body: unknown, expected: number) => {
    const started = performance.now();
    const answer = await callRoute('POST', routePath, body, BENCH_CALLER);
    apiMs += performance.now() - started;
    apiRequests++;
    if (answer.statusCode !== expected) throw new Error(`${routePath} refused: ${answer.body}`);
    return answer;
  };
  const slices = <T>(items: readonly T[], size: number) =>
    Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
  try {
    if (path === 'one API call each') {
      await mapConcurrent(jobs, 4, (job) => callApi('/v1/notifications', job, 202));
    } else if (path === 'batch route') {
      await mapConcurrent(slices(jobs, CHAT_BATCH_ROUTE_SIZE), 2, async (notifications) => {
        const answer = await callApi('/v1/notification-batches', { notifications }, 200);
        const { results } = JSON.parse(answer.body) as { results: { status: number }[] };
        if (results.some((result) => result.status !== 202))
          throw new Error(`a job was refused: ${answer.body}`);
      });
    } else {
      // The backend's own SendMessageBatch calls (counted: it pays for them).
      await mapConcurrent(slices(jobs, SQS_BATCH_SIZE), 4, (batch) =>
        stack.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: stack.queues.sendQueueUrl,
            Entries: batch.map((job, i) => ({ Id: String(i), MessageBody: JSON.stringify(job) })),
          }),
        ),
      );
    }
    await source.idle(1_200_000);
  } finally {
    await source.stop();
  }
  const notifications = (stack.simulator?.stats.accepted ?? 0) - acceptedBefore;
  if (notifications !== CHAT_MESSAGES * DEVICES_PER_USER)
    throw new Error(`chat (${path}): ${notifications} pushes, expected ${CHAT_MESSAGES * DEVICES_PER_USER}`);
  const gbSeconds = (counted.ms / 1000) * (SENDER.memoryMb / 1024) + (apiMs / 1000) * API_MEMORY_GB;
  const lambdaInvocations = counted.invocations + apiRequests;
  const perMillion = (dollars: number) => (dollars / notifications) * 1_000_000;
  const writes = Object.fromEntries(
    Object.entries(tally.writesByPurpose).map(([purpose, units]) => [
      `dynamoWrites: ${purpose}`,
      perMillion((units / 1e6) * PRICES.dynamoPerMillionWriteUnits),
    ]),
  );
  const breakdownPerMillion = {
    httpApi: perMillion((apiRequests / 1e6) * PRICES.httpApiPerMillionRequests),
    lambdaRequests: perMillion((lambdaInvocations / 1e6) * PRICES.lambdaPerMillionRequests),
    lambdaCompute: perMillion(gbSeconds * PRICES.lambdaArmPerGbSecond),
    sqs: perMillion((tally.sqsRequests / 1e6) * PRICES.sqsPerMillionRequests),
    dynamoReads: perMillion((tally.readUnits / 1e6) * PRICES.dynamoPerMillionReadUnits),
    ...writes,
    dataOut: perMillion(((notifications * BYTES_PER_PUSH_ON_THE_WIRE) / 1e9) * PRICES.dataOutPerGb),
  };
  const round = (value: number) => Math.round(value * 10_000) / 10_000;
  return {
    scenario: `chat, ${path}`,
    notifications,
    counts: {
      sqsRequests: tally.sqsRequests,
      dynamoReadUnits: tally.readUnits,
      dynamoWriteUnits: tally.writeUnits,
      lambdaInvocations,
      lambdaGbSeconds: Math.round(gbSeconds * 100) / 100,
      apiRequests,
    },
    dollarsPerMillion: round(Object.values(breakdownPerMillion).reduce((a, b) => a + b, 0)),
    breakdownPerMillion: Object.fromEntries(
      Object.entries(breakdownPerMillion).map(([k, v]) => [k, round(v)]),
    ),
    dynamoLinesPerMillion: dynamoLinesPerMillion(tally, notifications),
    readUnitsPerPush: Math.round((tally.readUnits / notifications) * 1000) / 1000,
    dataOutToApnsPerMillion: round(breakdownPerMillion.dataOut),
  };
}

async function runScenario(stack: LocalStack, tally: Tally, tracked: boolean): Promise<CostResult> {
  const acceptedBefore = stack.simulator?.stats.accepted ?? 0;
  const users = Array.from({ length: USERS }, (_, i) => `cost-${tracked ? 'tracked' : 'untracked'}-${i}`);
  const seeded = await seedDevices(users, DEVICES_PER_USER, 'com.example.app');
  const { source, counted } = await startSender(stack);
  try {
    const job = {
      appId: 'com.example.app',
      to: { userIds: users },
      aps: { alert: { title: 'Hi', body: 'Your order shipped' } },
      ...(tracked ? { track: { receipts: true } } : {}),
    };
    const apiStarted = performance.now();
    const answer = await callRoute('POST', '/v1/notifications', job, BENCH_CALLER);
    const apiMs = performance.now() - apiStarted;
    if (answer.statusCode !== 202) throw new Error(`send refused: ${answer.body}`);
    await source.idle(600_000);

    const notifications = (stack.simulator?.stats.accepted ?? 0) - acceptedBefore;
    const gbSeconds = (counted.ms / 1000) * (SENDER.memoryMb / 1024) + (apiMs / 1000) * API_MEMORY_GB;
    const lambdaInvocations = counted.invocations + 1;
    const perMillion = (dollars: number) => (dollars / notifications) * 1_000_000;
    const breakdownPerMillion = {
      sqs: perMillion((tally.sqsRequests / 1e6) * PRICES.sqsPerMillionRequests),
      dynamoReads: perMillion((tally.readUnits / 1e6) * PRICES.dynamoPerMillionReadUnits),
      dynamoWrites: perMillion((tally.writeUnits / 1e6) * PRICES.dynamoPerMillionWriteUnits),
      lambdaRequests: perMillion((lambdaInvocations / 1e6) * PRICES.lambdaPerMillionRequests),
      lambdaCompute: perMillion(gbSeconds * PRICES.lambdaArmPerGbSecond),
      httpApi: perMillion((1 / 1e6) * PRICES.httpApiPerMillionRequests),
    };
    const dataOutToApnsPerMillion = perMillion(
      ((notifications * BYTES_PER_PUSH_ON_THE_WIRE) / 1e9) * PRICES.dataOutPerGb,
    );
    const round = (value: number) => Math.round(value * 10_000) / 10_000;
    const notificationId = String(JSON.parse(answer.body).notificationId);
    const receipt = tracked ? await receiptCost(tally, notificationId, seeded[0]) : undefined;
    return {
      scenario: tracked ? 'tracked (track.receipts)' : 'untracked',
      notifications,
      counts: {
        sqsRequests: tally.sqsRequests,
        dynamoReadUnits: tally.readUnits,
        dynamoWriteUnits: tally.writeUnits,
        lambdaInvocations,
        lambdaGbSeconds: Math.round(gbSeconds * 100) / 100,
        apiRequests: 1,
      },
      dollarsPerMillion: round(Object.values(breakdownPerMillion).reduce((a, b) => a + b, 0)),
      breakdownPerMillion: Object.fromEntries(
        Object.entries(breakdownPerMillion).map(([k, v]) => [k, round(v)]),
      ),
      dynamoLinesPerMillion: dynamoLinesPerMillion(tally, notifications),
      readUnitsPerPush: Math.round((tally.readUnits / notifications) * 1000) / 1000,
      dataOutToApnsPerMillion: round(dataOutToApnsPerMillion),
      ...(receipt === undefined ? {} : { receipt }),
    };
  } finally {
    await source.stop();
  }
}

/** DynamoDB by purpose, each line priced as reads or writes: $ per million notifications, to 4 places. */
function dynamoLinesPerMillion(tally: Tally, notifications: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(tally.lines).map(([name, units]) => {
      const price = /write/.test(name) ? PRICES.dynamoPerMillionWriteUnits : PRICES.dynamoPerMillionReadUnits;
      return [name, Math.round((((units / 1e6) * price) / notifications) * 1_000_000 * 10_000) / 10_000];
    }),
  );
}

/** One receipt from the app, counted like the send: API request, Lambda (256 MB) and DynamoDB units. */
async function receiptCost(
  tally: Tally,
  notificationId: string,
  device: { token: string; userId: string } | undefined,
): Promise<NonNullable<CostResult['receipt']>> {
  if (device === undefined) throw new Error('no device to acknowledge from');
  const path = `/v1/notifications/${notificationId}/receipts`;
  const before = { readUnits: tally.readUnits, writeUnits: tally.writeUnits };
  const started = performance.now();
  const answer = await callRoute(
    'POST',
    path,
    { token: device.token, event: 'received' },
    { jwt: { sub: device.userId, iss: 'https://issuer.bench', aud: 'pushgate' } },
  );
  const ms = performance.now() - started;
  if (answer.statusCode !== 204) throw new Error(`receipt refused: ${answer.body}`);
  const readUnits = tally.readUnits - before.readUnits;
  const writeUnits = tally.writeUnits - before.writeUnits;
  const dollars =
    (readUnits / 1e6) * PRICES.dynamoPerMillionReadUnits +
    (writeUnits / 1e6) * PRICES.dynamoPerMillionWriteUnits +
    PRICES.lambdaPerMillionRequests / 1e6 +
    (ms / 1000) * API_MEMORY_GB * PRICES.lambdaArmPerGbSecond +
    PRICES.httpApiPerMillionRequests / 1e6;
  return {
    dynamoReadUnits: readUnits,
    dynamoWriteUnits: writeUnits,
    dollarsPerMillion: Math.round(dollars * 1e6 * 10_000) / 10_000,
  };
}
