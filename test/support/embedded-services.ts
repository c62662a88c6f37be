import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynamo } from '../../local/dynamodb';
import { devicesTableDefinition, ensureTable } from '../../local/tables';

export const TEST_APP_ID = 'com.example.app';

/**
 * Vitest global setup for the integration suite: the embedded AWS services, once
 * per run. The environment set here is inherited by the test workers, so the
 * handlers' module-scope SDK clients point at them exactly as a Lambda's would.
 */
export default async function setup() {
  console.log(`integration suite on Node ${process.version}`);
  const dynamo = await startDynamo();
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    DEVICES_TABLE_NAME: 'pushgate-test-devices',
    PUSHGATE_APPS: JSON.stringify([{ appId: TEST_APP_ID, bundleId: TEST_APP_ID }]),
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_NAMESPACE: 'pushgate-test',
  });
  const client = new DynamoDBClient({ endpoint: dynamo.endpoint });
  await ensureTable(client, devicesTableDefinition('pushgate-test-devices'));
  client.destroy();
  return async () => {
    await dynamo.stop();
  };
}
