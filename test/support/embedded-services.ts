import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ENVIRONMENT } from '../../lambda/environment';
import { startDynamo } from '../../local/dynamodb';
import { ensureQueues } from '../../local/queues';
import { startSqs } from '../../local/sqs';
import { devicesTableDefinition, ensureTable, notificationsTableDefinition } from '../../local/tables';

export const TEST_APP_ID = 'com.example.app';
/**
 * Shorter than the stack's 720 s, so a test that makes SQS redeliver does not wait twelve
 * minutes; as long as the sender's timeout in tests (60 s), so no invocation outlives its
 * message's. Files whose jobs are all small set less (SenderHarness.setVisibilityTimeout).
 */
export const TEST_VISIBILITY_TIMEOUT_SECONDS = 60;

/**
 * Vitest global setup for the integration suite: the embedded AWS services, once
 * per run. The environment set here is inherited by the test workers, so the
 * handlers' module-scope SDK clients point at them exactly as a Lambda's would.
 */
export default async function setup() {
  console.log(`integration suite on Node ${process.version}`);
  const [dynamo, sqsServer] = await Promise.all([startDynamo(), startSqs()]);
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SQS: sqsServer.endpoint,
    [ENVIRONMENT.devicesTable]: 'pushgate-test-devices',
    [ENVIRONMENT.notificationsTable]: 'pushgate-test-notifications',
    [ENVIRONMENT.apps]: JSON.stringify([{ appId: TEST_APP_ID, bundleId: TEST_APP_ID }]),
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_NAMESPACE: 'pushgate-test',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  const client = new DynamoDBClient({ endpoint: dynamo.endpoint });
  await ensureTable(client, devicesTableDefinition('pushgate-test-devices'));
  await ensureTable(client, notificationsTableDefinition('pushgate-test-notifications'));
  client.destroy();
  const sqs = new SQSClient({ endpoint: sqsServer.endpoint, useQueueUrlAsEndpoint: false });
  const queues = await ensureQueues(sqs, 'pushgate-test', TEST_VISIBILITY_TIMEOUT_SECONDS);
  sqs.destroy();
  Object.assign(process.env, {
    [ENVIRONMENT.sendQueue]: queues.sendQueueUrl,
    [ENVIRONMENT.deadLetterQueue]: queues.deadLetterQueueUrl,
  });
  return async () => {
    await Promise.all([dynamo.stop(), sqsServer.stop()]);
  };
}
