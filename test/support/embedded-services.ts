import { ENVIRONMENT } from '../../lambda/environment';
import { startDynamo } from '../../local/dynamodb';
import { startSqs } from '../../local/sqs';

export const TEST_APP_ID = 'com.example.app';
/** A second app, iOS only (no FCM): Android registrations for it are refused. */
export const TEST_APP_WITHOUT_FCM = 'com.example.iosonly';
/**
 * Shorter than the stack's 720 s, so a test that makes SQS redeliver a failed message
 * does not wait twelve minutes. A running invocation's messages stay hidden however long
 * it takes (local/sqs-event-source.ts), as in AWS; files that wait for a redelivery set
 * less (SenderHarness.setVisibilityTimeout).
 */
export const TEST_VISIBILITY_TIMEOUT_SECONDS = 60;

/**
 * Set to a DynamoDB endpoint (e.g. DynamoDB Local's `http://127.0.0.1:8000`) to run the
 * integration suite against it instead of the embedded dynalite; SQS stays embedded.
 * Each test file still creates and deletes tables of its own there.
 */
export const EXTERNAL_DYNAMODB_ENDPOINT = 'PUSHGATE_TEST_DYNAMODB_ENDPOINT';

/**
 * Vitest global setup for the integration suite: the embedded AWS services, once
 * per run (DynamoDB at PUSHGATE_TEST_DYNAMODB_ENDPOINT instead, when set). The environment set here is inherited by the test workers, so the
 * handlers' module-scope SDK clients point at them exactly as a Lambda's would.
 * Each test file gets tables and queues of its own in them (file-resources.ts).
 */
export default async function setup() {
  console.log(`integration suite on Node ${process.version}`);
  const external = process.env[EXTERNAL_DYNAMODB_ENDPOINT] || undefined;
  const [dynamo, sqsServer] = await Promise.all([
    external === undefined ? startDynamo() : { endpoint: external, stop: async () => {} },
    startSqs(),
  ]);
  if (external !== undefined) console.log(`DynamoDB at ${external} (${EXTERNAL_DYNAMODB_ENDPOINT})`);
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SQS: sqsServer.endpoint,
    // The app has FCM too (as the route functions see it: the project id only); the second has none.
    [ENVIRONMENT.apps]: JSON.stringify([
      { appId: TEST_APP_ID, bundleId: TEST_APP_ID, fcm: { projectId: 'pushgate-test' } },
      { appId: TEST_APP_WITHOUT_FCM, bundleId: TEST_APP_WITHOUT_FCM },
    ]),
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_NAMESPACE: 'pushgate-test',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  return async () => {
    await Promise.all([dynamo.stop(), sqsServer.stop()]);
  };
}
