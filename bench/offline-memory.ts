import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
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
 * Devices are seeded straight into the offline home's table (one per user), as the
 * end-to-end tests do, then `npm start` opens it. RSS is read from /proc for every
 * process of npm's group; the figure is the largest (the pushgate process itself).
 */
const JOBS = Number(process.env.JOBS ?? 3);
const USERS = Number(process.env.USERS ?? 50_000);
const SETTLE_SECONDS = Number(process.env.SETTLE_SECONDS ?? 60);

function rssMegabytes(groupId: number): number {
  let largest = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces): state, ppid, pgrp, …
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== groupId) continue;
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
      largest = Math.max(largest, kb / 1024);
    } catch {
      // The process ended while we read it.
    }
  }
  return Math.round(largest);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const userIds = Array.from({ length: USERS }, (_, i) => `memory-user-${i}`);
const home = mkdtempSync(join(tmpdir(), 'pushgate-memory-'));
let started = Date.now();
await seedOfflineHome(home, userIds, 1);
console.log(`seeded ${USERS} devices in ${Math.round((Date.now() - started) / 1000)} s`);

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
  sqs.destroy();
} finally {
  await offline.stop();
}
