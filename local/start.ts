import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { LocalIssuer } from './oidc';
import { createLocalServer } from './server';
import { startLocalStack } from './stack';

/**
 * `npm start`: the whole of pushgate on this machine — the HTTP API, the sender on
 * the send queue, DynamoDB (dynalite, persisted under .pushgate/ unless --memory),
 * SQS (fauxqs) and the APNs simulator (or the real sandbox when
 * PUSHGATE_APNS_CREDENTIALS names a {keyId, teamId, key} file).
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

const started = Date.now();
const port = Number(process.env.PORT ?? 3000);
const host = '127.0.0.1';
const appId = process.env.PUSHGATE_APP_ID ?? 'com.example.app';
const adminKey = process.env.PUSHGATE_ADMIN_KEY ?? randomBytes(18).toString('base64url');
const memory = process.argv.includes('--memory');
const home = resolve(process.env.PUSHGATE_HOME ?? '.pushgate');
const base = `http://${host}:${port}`;

const stack = await startLocalStack({
  workDir: home,
  ...(memory ? {} : { dataDir: resolve(home, 'dynamodb') }),
  appId,
  ...(process.env.PUSHGATE_APNS_CREDENTIALS
    ? { apnsCredentialsFile: resolve(process.env.PUSHGATE_APNS_CREDENTIALS) }
    : {}),
  onSenderError: (error) => console.error('sender invocation failed:', error),
});
const issuer = await LocalIssuer.create(`${base}/_local`, 'pushgate-local', resolve(home, 'oidc-key.json'));
const server = createLocalServer({ adminKey, issuer, stack, appId });

server.once('error', async (error: NodeJS.ErrnoException) => {
  console.error(
    error.code === 'EADDRINUSE'
      ? `Port ${port} is already in use. Stop whatever listens there, or start on another port: PORT=3001 npm start`
      : `Could not start the API on ${base}: ${error.message}`,
  );
  await stack.stop();
  process.exit(1);
});

server.listen(port, host, async () => {
  const aliceJwt = await issuer.mint('alice');
  const token = randomBytes(32).toString('hex');
  console.log(`
pushgate is running offline (${((Date.now() - started) / 1000).toFixed(1)} s)

  API and dashboard   ${base}   (dashboard: ${base}/)
  app id              ${appId}
  APNs                ${stack.simulator ? `simulator (inbox: ${base}/_local/apns/inbox)` : 'real APNs sandbox'}
  data                ${memory ? 'in memory (--memory)' : `${home}/dynamodb (kept across restarts)`}
  admin key           ${adminKey}   (stands in for IAM on backend routes)

Walkthrough (copy-paste):

  # 1. a dev JWT for a user (one for alice is below)
  curl -s -X POST ${base}/_local/tokens -H 'content-type: application/json' -d '{"sub":"alice"}'
  export JWT=${aliceJwt}

  # 2. register alice's device
  curl -s -X PUT ${base}/v1/devices/${token} \\
    -H "authorization: Bearer $JWT" -H 'content-type: application/json' \\
    -d '{"appId":"${appId}","environment":"sandbox"}'

  # 3. notify alice, as a backend
  curl -s -X POST ${base}/v1/notifications \\
    -H 'authorization: Bearer ${adminKey}' -H 'content-type: application/json' \\
    -d '{"appId":"${appId}","to":{"userIds":["alice"]},"aps":{"alert":{"title":"Hi","body":"Your order shipped"}}}'

  # 4. watch it arrive
  curl -s ${base}/_local/apns/inbox

Ctrl-C stops (data is kept).
`);
});

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping pushgate…');
    server.close();
    server.closeAllConnections();
    await stack.stop();
    console.log(memory ? 'stopped.' : `stopped; data kept in ${home}`);
    process.exit(0);
  });
}
