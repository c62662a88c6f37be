import {
  type AttributeValue,
  BatchWriteItemCommand,
  CreateTableCommand,
  type CreateTableCommandInput,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { DEVICES_TABLE } from '../lambda/adapters/secondary/devices-keys';
import { NOTIFICATIONS_TABLE } from '../lambda/adapters/secondary/notifications-keys';

/** The offline twin of the stack's tables, built from the same key definitions. */
export function devicesTableDefinition(tableName: string): CreateTableCommandInput {
  const { partitionKey, userIndex, liveActivityIndex } = DEVICES_TABLE;
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: partitionKey, AttributeType: 'S' },
      { AttributeName: userIndex.partitionKey, AttributeType: 'S' },
      { AttributeName: userIndex.sortKey, AttributeType: 'S' },
      { AttributeName: liveActivityIndex.partitionKey, AttributeType: 'S' },
    ],
    KeySchema: [{ AttributeName: partitionKey, KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [
      {
        IndexName: userIndex.name,
        KeySchema: [
          { AttributeName: userIndex.partitionKey, KeyType: 'HASH' },
          { AttributeName: userIndex.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
      {
        IndexName: liveActivityIndex.name,
        KeySchema: [{ AttributeName: liveActivityIndex.partitionKey, KeyType: 'HASH' }],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}

/**
 * Creates a table unless it already exists (a persisted offline store keeps its
 * tables), and returns only once the table and every index are ACTIVE: dynalite
 * answers `CreateTable` with `CREATING` and flips the status later, and a write in
 * between is refused with `ResourceNotFoundException`. A kept table that lacks an
 * index of the definition (made by an older pushgate) is rebuilt with its items:
 * dynalite cannot add an index to a table.
 */
export async function ensureTable(
  client: DynamoDBClient,
  definition: CreateTableCommandInput,
): Promise<void> {
  try {
    await client.send(new CreateTableCommand(definition));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    // It may exist because another process is creating it this moment.
    await tableState(client, String(definition.TableName), 'active');
    await addMissingIndexes(client, definition);
  }
  await tableState(client, String(definition.TableName), 'active');
}

async function addMissingIndexes(client: DynamoDBClient, definition: CreateTableCommandInput): Promise<void> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: definition.TableName }));
  const present = new Set((Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  if ((definition.GlobalSecondaryIndexes ?? []).every((index) => present.has(index.IndexName))) return;
  const items: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: definition.TableName, ExclusiveStartKey: start }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  await client.send(new DeleteTableCommand({ TableName: definition.TableName }));
  await tableState(client, String(definition.TableName), 'gone');
  await client.send(new CreateTableCommand(definition));
  await tableState(client, String(definition.TableName), 'active');
  for (let i = 0; i < items.length; i += 25) {
    const requests = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    await client.send(
      new BatchWriteItemCommand({ RequestItems: { [String(definition.TableName)]: requests } }),
    );
  }
}

/**
 * Waits until the table and each of its indexes is ACTIVE, or until the table is gone:
 * dynalite creates and deletes tables asynchronously. Sized for a busy machine: up to 60 s.
 */
export async function tableState(client: DynamoDBClient, tableName: string, state: 'active' | 'gone') {
  for (let attempt = 0; attempt < 1_200; attempt++) {
    try {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
      const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every(
        (index) => index.IndexStatus === undefined || index.IndexStatus === 'ACTIVE',
      );
      if (state === 'active' && Table?.TableStatus === 'ACTIVE' && indexesActive) return;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
      if (state === 'gone') return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`table ${tableName} did not become ${state} in 60 s`);
}

export function notificationsTableDefinition(tableName: string): CreateTableCommandInput {
  const { partitionKey, sortKey } = NOTIFICATIONS_TABLE;
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: partitionKey, AttributeType: 'S' },
      { AttributeName: sortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: partitionKey, KeyType: 'HASH' },
      { AttributeName: sortKey, KeyType: 'RANGE' },
    ],
  };
}
