import { randomBytes } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll } from 'vitest';
import { ENVIRONMENT } from '../../lambda/environment';
import { ensureQueues } from '../../local/queues';
import {
  devicesTableDefinition,
  ensureTable,
  notificationsTableDefinition,
  tableState,
} from '../../local/tables';
import { TEST_VISIBILITY_TIMEOUT_SECONDS } from './embedded-services';

/**
 * Vitest setup file of the integration suite, run in each test file's worker before
 * the file: tables and queues of the file's own, in the embedded services the global
 * setup started. No file sees another's devices, notifications or messages — so files
 * can run side by side, in any order, and a file that counts a whole table counts only
 * what it wrote. They are deleted when the file is done.
 */
const prefix = `pushgate-test-${randomBytes(4).toString('hex')}`;
const tables = { devices: `${prefix}-devices`, notifications: `${prefix}-notifications` };

const dynamo = new DynamoDBClient({});
const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
await ensureTable(dynamo, devicesTableDefinition(tables.devices));
await ensureTable(dynamo, notificationsTableDefinition(tables.notifications));
await Promise.all(Object.values(tables).map((name) => tableState(dynamo, name, 'active')));
const queues = await ensureQueues(sqs, prefix, TEST_VISIBILITY_TIMEOUT_SECONDS);
Object.assign(process.env, {
  [ENVIRONMENT.devicesTable]: tables.devices,
  [ENVIRONMENT.notificationsTable]: tables.notifications,
  [ENVIRONMENT.sendQueue]: queues.sendQueueUrl,
  [ENVIRONMENT.deadLetterQueue]: queues.deadLetterQueueUrl,
});

afterAll(async () => {
  await Promise.all([
    ...Object.values(tables).map((TableName) => dynamo.send(new DeleteTableCommand({ TableName }))),
    ...Object.values(queues).map((QueueUrl) => sqs.send(new DeleteQueueCommand({ QueueUrl }))),
  ]);
  dynamo.destroy();
  sqs.destroy();
});
