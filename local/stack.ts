import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SENDER_ACCESS } from '../infra/function-access';
import { SENDER } from '../infra/queue-settings';
import { ENVIRONMENT } from '../lambda/environment';
import { createLocalProviderKey } from './apns-credentials';
import { type ApnsSimulator, startApnsSimulator } from './apns-simulator/simulator';
import { releaseChunkClaims } from './chunk-claims';
import { startDynamo } from './dynamodb';
import { createLocalServiceAccount } from './fcm-credentials';
import { type FcmSimulator, startFcmSimulator } from './fcm-simulator/simulator';
import { ensureQueues, type Queues } from './queues';
import { type EmbeddedSqs, startSqs } from './sqs';
import { SqsEventSource } from './sqs-event-source';
import { devicesTableDefinition, ensureTable, notificationsTableDefinition } from './tables';

/** The offline tables (the deployed stack lets CloudFormation name its own). */
/** The Firebase project the offline default app sends to (the FCM simulator's). */
export const OFFLINE_FCM_PROJECT = 'pushgate-local';

export const OFFLINE_TABLES = {
  devices: 'pushgate-devices',
  notifications: 'pushgate-notifications',
} as const;

export interface LocalStackOptions {
  /** Where dynalite persists its data; in memory when absent. */
  dataDir?: string;
  /** The SQS journal that keeps the queues across restarts and crashes; in memory when absent. */
  sqsJournalFile?: string;
  /** Fixed SQS port, so backends can publish to a stable endpoint; random when absent. */
  sqsPort?: number;
  /** Where the generated APNs key and simulator CA go. */
  workDir: string;
  appId: string;
  /** Real APNs sandbox credentials file ({keyId, teamId, key}); the simulator when absent. */
  apnsCredentialsFile?: string;
  /** Simulator port for the sandbox environment (production is the next one); random when absent. */
  simulatorPort?: number;
  /** Run the sender's event source (default true). */
  sender?: boolean;
  onSenderError?: (error: unknown) => void;
}

export interface LocalStack {
  queues: Queues;
  /** The SQS endpoint (`http://127.0.0.1:<port>`) and what its journal restored. */
  sqsServer: EmbeddedSqs;
  simulator?: ApnsSimulator;
  /** The FCM simulator: offline, the default app has FCM next to APNs. */
  fcmSimulator: FcmSimulator;
  eventSource?: SqsEventSource;
  sqs: SQSClient;
  stop(): Promise<void>;
}

/**
 * The whole deployment on one machine: dynalite for DynamoDB, fauxqs for SQS, the
 * APNs simulator (or the real sandbox), the FCM simulator, and the sender fed by an SQS event source —
 * configured through the same environment variables the stack sets on the Lambdas,
 * so the handler modules run unchanged.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  mkdirSync(options.workDir, { recursive: true });
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const [dynamo, sqsServer] = await startBoth(
    startDynamo(options.dataDir === undefined ? {} : { path: options.dataDir }),
    startSqs({
      ...(options.sqsPort === undefined ? {} : { port: options.sqsPort }),
      ...(options.sqsJournalFile === undefined ? {} : { journalFile: options.sqsJournalFile }),
    }),
  );

  let simulator: ApnsSimulator | undefined;
  let credentialsFile = options.apnsCredentialsFile;
  const apnsEnv: Record<string, string> = {};
  if (credentialsFile === undefined) {
    const key = createLocalProviderKey(join(options.workDir, 'apns-simulator-key.json'));
    credentialsFile = key.path;
    simulator = await startApnsSimulator({
      providerKeys: [key],
      bundleIds: [options.appId],
      ...(options.simulatorPort === undefined
        ? {}
        : { ports: { sandbox: options.simulatorPort, production: options.simulatorPort + 1 } }),
    });
    const caFile = join(options.workDir, 'apns-simulator-ca.pem');
    writeFileSync(caFile, simulator.ca);
    apnsEnv[ENVIRONMENT.apnsEndpoints] = JSON.stringify(simulator.endpoints);
    apnsEnv[ENVIRONMENT.apnsCaFile] = caFile;
  }

  // Offline the default app has FCM too, on the simulator; its generated service-account key
  // names the simulator's token endpoint, so google-auth-library runs as deployed.
  const fcmSimulator = await startFcmSimulator({ serviceAccounts: [] });
  const serviceAccount = createLocalServiceAccount(
    join(options.workDir, 'fcm-service-account.json'),
    OFFLINE_FCM_PROJECT,
    fcmSimulator.tokenUri,
  );
  fcmSimulator.addServiceAccount(serviceAccount.account);
  const fcmCaFile = join(options.workDir, 'fcm-simulator-ca.pem');
  writeFileSync(fcmCaFile, fcmSimulator.ca);

  Object.assign(process.env, {
    AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SQS: sqsServer.endpoint,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    [ENVIRONMENT.devicesTable]: OFFLINE_TABLES.devices,
    [ENVIRONMENT.notificationsTable]: OFFLINE_TABLES.notifications,
    [ENVIRONMENT.apps]: JSON.stringify([
      {
        appId: options.appId,
        bundleId: options.appId,
        credentials: `file:${credentialsFile}`,
        fcm: { projectId: OFFLINE_FCM_PROJECT, credentials: `file:${serviceAccount.path}` },
      },
    ]),
    [ENVIRONMENT.fcmEndpoint]: fcmSimulator.endpoint,
    [ENVIRONMENT.fcmCaFile]: fcmCaFile,
    POWERTOOLS_SERVICE_NAME: 'pushgate',
    POWERTOOLS_METRICS_NAMESPACE: 'pushgate-local',
    POWERTOOLS_METRICS_DISABLED: 'true',
    ...apnsEnv,
  });
  const dynamoClient = new DynamoDBClient({ endpoint: dynamo.endpoint });
  await ensureTable(dynamoClient, devicesTableDefinition(OFFLINE_TABLES.devices));
  await ensureTable(dynamoClient, notificationsTableDefinition(OFFLINE_TABLES.notifications));
  // Only a run that ended with messages in flight (stopped mid-send) can have left leases behind.
  if ((sqsServer.restored?.inFlight ?? 0) > 0) {
    await releaseChunkClaims(dynamoClient, OFFLINE_TABLES.notifications);
  }
  dynamoClient.destroy();
  const sqs = new SQSClient({ endpoint: sqsServer.endpoint, useQueueUrlAsEndpoint: false });
  const queues = await ensureQueues(sqs, 'pushgate');
  Object.assign(process.env, {
    [ENVIRONMENT.sendQueue]: queues.sendQueueUrl,
    [ENVIRONMENT.deadLetterQueue]: queues.deadLetterQueueUrl,
  });

  let eventSource: SqsEventSource | undefined;
  if (options.sender !== false) {
    eventSource = new SqsEventSource({
      sqs,
      queueUrl: queues.sendQueueUrl,
      handler: async () => (await import('../lambda/adapters/primary/deliver-notifications/handler')).handler,
      functionName: 'pushgate-sender',
      access: SENDER_ACCESS,
      batchSize: SENDER.batchSize,
      maxConcurrency: 2,
      timeoutMs: SENDER.timeoutSeconds * 1000,
      ...(options.onSenderError === undefined ? {} : { onError: options.onSenderError }),
    });
    await eventSource.start();
  }

  return {
    queues,
    sqsServer,
    ...(simulator === undefined ? {} : { simulator }),
    fcmSimulator,
    ...(eventSource === undefined ? {} : { eventSource }),
    sqs,
    async stop() {
      await eventSource?.stop();
      const { closeApnsConnections } = await import('../lambda/adapters/secondary/apns/apns-gateway');
      await closeApnsConnections();
      const { closeFcmConnections } = await import('../lambda/adapters/secondary/fcm/fcm-gateway');
      await closeFcmConnections();
      await Promise.all([simulator?.stop(), fcmSimulator.stop()]);
      await Promise.all([dynamo.stop(), sqsServer.stop()]);
      sqs.destroy();
    },
  };
}

/** Starts both services; when one fails, stops the other before rethrowing (else the process hangs). */
async function startBoth<A extends { stop(): Promise<void> }, B extends { stop(): Promise<void> }>(
  a: Promise<A>,
  b: Promise<B>,
): Promise<[A, B]> {
  const results = await Promise.allSettled([a, b]);
  const [first, second] = results;
  if (first.status === 'fulfilled' && second.status === 'fulfilled') return [first.value, second.value];
  await Promise.all(
    results.map((result) => (result.status === 'fulfilled' ? result.value.stop() : undefined)),
  );
  throw results.find((result): result is PromiseRejectedResult => result.status === 'rejected')?.reason;
}
