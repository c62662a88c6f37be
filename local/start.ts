import './offline-env';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { LOCAL_AUDIENCE, LOCAL_ISSUER, offlineAdminKey } from './offline-identity';
import { LocalIssuer } from './oidc';
import { createLocalServer } from './server';
import { SIGV4_CREDENTIALS } from './sigv4';
import { type LocalStack, OFFLINE_FCM_PROJECT, startLocalStack } from './stack';

/**
 * `npm start`: the whole of pushgate on this machine — the HTTP API, the sender on
 * the send queue, DynamoDB (dynalite) and SQS (fauxqs), both persisted under
 * .pushgate/ unless --memory, and the APNs simulator (or the real sandbox when
 * PUSHGATE_APNS_CREDENTIALS names a {keyId, teamId, key} file).
 *
 * Run as `node --import tsx local/start.ts`, not through the tsx CLI: the CLI relays
 * a repeated SIGINT to a busy child as SIGKILL, which would cut the graceful stop.
 */
const started = Date.now();
const host = '127.0.0.1';
const port = portFrom('PORT', 3000);
const sqsPort = portFrom('PUSHGATE_SQS_PORT', port + 1);
const appId = process.env.PUSHGATE_APP_ID ?? 'com.example.app';
const memory = process.argv.includes('--memory');
const home = resolve(process.env.PUSHGATE_HOME ?? '.pushgate');
const adminKey = offlineAdminKey(resolve(home, 'admin-key'), process.env.PUSHGATE_ADMIN_KEY);
const base = `http://${host}:${port}`;

let stack: LocalStack;
try {
  stack = await startLocalStack({
    workDir: home,
    ...(memory
      ? {}
      : { dataDir: resolve(home, 'dynamodb'), sqsJournalFile: resolve(home, 'sqs', 'journal.jsonl') }),
    sqsPort,
    appId,
    ...(process.env.PUSHGATE_APNS_CREDENTIALS
      ? { apnsCredentialsFile: resolve(process.env.PUSHGATE_APNS_CREDENTIALS) }
      : {}),
    onSenderError: (error) => console.error('sender invocation failed:', error),
  });
} catch (error) {
  const { code, message } = error as NodeJS.ErrnoException;
  console.error(
    code === 'EADDRINUSE'
      ? `Port ${sqsPort} (the offline SQS) is already in use. Stop whatever listens there, or choose another: PUSHGATE_SQS_PORT=${sqsPort + 1} npm start`
      : `Could not start pushgate offline: ${message}`,
  );
  process.exit(1);
}
const issuer = await LocalIssuer.create(LOCAL_ISSUER, LOCAL_AUDIENCE, resolve(home, 'oidc-key.json'));
const server = createLocalServer({ adminKey, issuer, stack, appId });

server.once('error', async (error: NodeJS.ErrnoException) => {
  console.error(
    error.code === 'EADDRINUSE'
      ? `Port ${port} is already in use. Stop whatever listens there, or start on another port: PORT=${port + 2} npm start`
      : `Could not start the API on ${base}: ${error.message}`,
  );
  await stack.stop();
  process.exit(1);
});

server.listen(port, host, async () => {
  const aliceJwt = await issuer.mint('alice');
  const token = randomBytes(32).toString('hex');
  // A new id per start: the same id again would be an idempotent repeat that sends nothing.
  const helloId = `hello-${token.slice(0, 8)}`;
  const sqs = stack.sqsServer;
  const restored = sqs.restored?.messages ?? 0;
  const restoredLine = `\n  restored            ${restored} message${restored === 1 ? '' : 's'} from the queue journal (jobs, retries, re-push rounds, dead letters): sending resumes`;
  const job = JSON.stringify({ appId, to: { userIds: ['alice'] }, aps: { alert: 'Hi from SQS' } });
  console.log(`
pushgate is running offline (${((Date.now() - started) / 1000).toFixed(1)} s)

  API and dashboard   ${base}   (dashboard: ${base}/)
  app id              ${appId}
  APNs                ${stack.simulator ? `simulator (inbox: ${base}/_local/apns/inbox)` : 'real APNs sandbox'}
  FCM                 simulator, project ${OFFLINE_FCM_PROJECT} (inbox: ${base}/_local/fcm/inbox)
  SQS endpoint        ${sqs.endpoint}   (queue URLs: ${base}/_local/queues)
  send queue          ${stack.queues.sendQueueUrl}
  data                ${memory ? 'in memory (--memory)' : `${home} (devices, notifications and queued jobs kept across restarts)`}${restored > 0 ? restoredLine : ''}
  admin key           ${adminKey}   (stands in for IAM on backend routes; ${process.env.PUSHGATE_ADMIN_KEY ? 'from PUSHGATE_ADMIN_KEY' : `kept in ${resolve(home, 'admin-key')}`})
  dev JWT issuer      ${issuer.issuer}, audience ${issuer.audience}   (key kept in ${resolve(home, 'oidc-key.json')}: JWTs survive restarts and port changes)
  logs                ${process.env.POWERTOOLS_LOG_LEVEL} (one INFO line per job part the sender handles; --quiet for warnings only)
  SigV4               access key ${SIGV4_CREDENTIALS.accessKeyId}, secret ${SIGV4_CREDENTIALS.secretAccessKey}, region ${SIGV4_CREDENTIALS.region}, service ${SIGV4_CREDENTIALS.service}

Walkthrough (copy-paste):

  # 1. a dev JWT for a user (one for alice is below)
  curl -s -X POST ${base}/_local/tokens -H 'content-type: application/json' -d '{"sub":"alice"}'
  export JWT=${aliceJwt}

  # 2. register alice's device
  curl -s -X PUT ${base}/v1/devices/${token} \\
    -H "authorization: Bearer $JWT" -H 'content-type: application/json' \\
    -d '{"appId":"${appId}","environment":"sandbox"}'

  # 3. notify alice, as a backend — tracked, so the app can acknowledge it
  curl -s -X POST ${base}/v1/notifications \\
    -H 'authorization: Bearer ${adminKey}' -H 'content-type: application/json' \\
    -d '{"notificationId":"${helloId}","appId":"${appId}","to":{"userIds":["alice"]},"aps":{"alert":{"title":"Hi","body":"Your order shipped"}},"track":{"receipts":true}}'

  # 4. watch it arrive, and see its status: "accepted" by APNs
  curl -s ${base}/_local/apns/inbox
  curl -s ${base}/v1/notifications/${helloId} -H 'authorization: Bearer ${adminKey}'

  # 5. acknowledge it as the app does: "received", then "opened" — the status follows
  for event in received opened; do
    curl -s -X POST ${base}/v1/notifications/${helloId}/receipts \\
      -H "authorization: Bearer $JWT" -H 'content-type: application/json' \\
      -d "{\\"token\\":\\"${token}\\",\\"event\\":\\"$event\\"}"
    curl -s ${base}/v1/notifications/${helloId} -H 'authorization: Bearer ${adminKey}'; echo
  done

  # 6. or publish a send job to the queue, as another AWS service would
  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws sqs send-message --region us-east-1 \\
    --endpoint-url ${sqs.endpoint} --queue-url ${stack.queues.sendQueueUrl} \\
    --message-body '${job}'

Ctrl-C stops gracefully (${memory ? 'in-memory data is dropped' : 'data and queued jobs are kept'}).
`);
});

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // npm relays the terminal's Ctrl-C too: one stop, however many signals arrive.
    if (stopping) return;
    stopping = true;
    void shutdown();
  });
}

async function shutdown(): Promise<void> {
  console.log('\nstopping pushgate… (the sender finishes the chunks it is sending)');
  // Stopping is bounded (the sender gets a grace period); this only guards against a hang.
  setTimeout(() => {
    console.error('pushgate did not stop within 60 s; exiting anyway (queued jobs are kept in the journal).');
    process.exit(1);
  }, 60_000).unref();
  server.close();
  server.closeAllConnections();
  try {
    await stack.stop();
  } catch (error) {
    console.error('stopping failed:', error);
    process.exit(1);
  }
  console.log(memory ? 'stopped.' : `stopped; data kept in ${home}`);
  process.exit(0);
}

function portFrom(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65_535) {
    console.error(`${name} must be a port number (1–65535), not "${raw}".`);
    process.exit(1);
  }
  return value;
}
