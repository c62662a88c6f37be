import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { APP_ID, call, seedOfflineHome } from '../test/e2e/offline-client';
import { startOffline } from '../test/e2e/offline-process';

/**
 * A one-off measurement, not part of `npm run bench` (it takes minutes and 150 000
 * pushes): the resident memory of the offline process while it sends three
 * 50 000-user jobs at once, and 60 s after the send queue drained.
 *
 *   npx tsx bench/offline-memory.ts            # JOBS=3 USERS=50000 SETTLE_SECONDS=60
 *
 * SEED_CACHE=<dir> keeps the seeded table there and copies it into later runs with the
 * same USERS (seeding 50 000 devices takes minutes). HEAP_SNAPSHOT=1 starts the process
 * with `--heapsnapshot-signal=SIGUSR2` and, after the last reading, has it write a heap
 * snapshot (a full GC first) into its working directory: what the heap still holds.
 *
 * Devices are seeded straight into the offline home's table (one per user), as the
 * end-to-end tests do, then `npm start` opens it. RSS is read from /proc for every
 * process of npm's group; the figure is the largest (the pushgate process itself).
 */
const JOBS = Number(process.env.JOBS ?? 3);
const USERS = Number(process.env.USERS ?? 50_000);
const SETTLE_SECONDS = Number(process.env.SETTLE_SECONDS ?? 60);

/** The pid of the largest process of the group (the pushgate process itself). */
function largestProcess(groupId: number): { pid: number; megabytes: number } {
  let largest = { pid: 0, megabytes: 0 };
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces): state, ppid, pgrp, …
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== groupId) continue;
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
      if (kb / 1024 > largest.megabytes) largest = { pid: Number(entry), megabytes: kb / 1024 };
    } catch {
      // The process ended while we read it.
    }
  }
  return largest;
}

function rssMegabytes(groupId: number): number {
  return Math.round(largestProcess(groupId).megabytes);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const userIds = Array.from({ length: USERS }, (_, i) => `memory-user-${i}`);
const home = mkdtempSync(join(tmpdir(), 'pushgate-memory-'));
let started = Date.now();
const seedCache =
  process.env.SEED_CACHE === undefined ? undefined : join(process.env.SEED_CACHE, String(USERS));
if (seedCache !== undefined && existsSync(seedCache)) {
  cpSync(seedCache, join(home, 'dynamodb'), { recursive: true });
  console.log(`copied ${USERS} seeded devices from ${seedCache}`);
} else {
  await seedOfflineHome(home, userIds, 1);
  if (seedCache !== undefined) cpSync(join(home, 'dynamodb'), seedCache, { recursive: true });
  console.log(`seeded ${USERS} devices in ${Math.round((Date.now() - started) / 1000)} s`);
}

const heapSnapshot = process.env.HEAP_SNAPSHOT === '1';
if (heapSnapshot)
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --heapsnapshot-signal=SIGUSR2`.trim();
const offline = await startOffline({ home, memory: false });
const group = offline.process.pid ?? 0;
try {
  await sleep(5_000);
  const baseline = rssMegabytes(group);
  console.log(`baseline RSS ${baseline} MB`);
  const queues = (await call(offline, 'GET', '/_local/queues')).body;
  const sqs = new SQSClient({
    endpoint: queues.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  started = Date.now();
  const answers = await Promise.all(
    Array.from({ length: JOBS }, (_, job) =>
      call(offline, 'POST', '/v1/notifications', {
        bearer: offline.adminKey,
        body: { appId: APP_ID, to: { userIds }, aps: { alert: `memory job ${job}` } },
      }),
    ),
  );
  if (answers.some((answer) => answer.status !== 202))
    throw new Error(`a send was refused: ${JSON.stringify(answers.map((a) => a.body))}`);
  let peak = 0;
  for (;;) {
    peak = Math.max(peak, rssMegabytes(group));
    const total = (await call(offline, 'GET', '/_local/apns/inbox?limit=1')).body.total as number;
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queues.sendQueueUrl,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    const queued = Object.values(Attributes).reduce((sum, value) => sum + Number(value), 0);
    if (total >= JOBS * USERS && queued === 0) break;
    await sleep(2_000);
  }
  const drainedAfter = Math.round((Date.now() - started) / 1000);
  const atDrain = rssMegabytes(group);
  console.log(`drained after ${drainedAfter} s: peak RSS ${peak} MB, at the drain ${atDrain} MB`);
  for (let waited = 0; waited < SETTLE_SECONDS; waited += 15) {
    await sleep(15_000);
    console.log(`  ${waited + 15} s after the drain: RSS ${rssMegabytes(group)} MB`);
  }
  console.log(
    JSON.stringify({
      jobs: JOBS,
      users: USERS,
      baseline,
      peak,
      atDrain,
      settled: rssMegabytes(group),
      drainedAfter,
    }),
  );
  if (heapSnapshot) {
    const { pid } = largestProcess(group);
    process.kill(pid, 'SIGUSR2');
    // Written synchronously by the process into its working directory (npm start's: here).
    const written = () =>
      readdirSync('.').find((name) => name.includes(`.${pid}.`) && name.endsWith('.heapsnapshot'));
    let size = -1;
    for (;;) {
      await sleep(3_000);
      const name = written();
      const now = name === undefined ? -1 : statSync(name).size;
      if (now > 0 && now === size) break;
      size = now;
    }
    console.log(`heap snapshot: ${written()} (${Math.round(size / 1e6)} MB)`);
  }
  sqs.destroy();
} finally {
  await offline.stop();
}
