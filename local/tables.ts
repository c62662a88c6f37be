import {
  type AttributeValue,
  BatchWriteItemCommand,
  CreateTableCommand,
  type CreateTableCommandInput,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
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
 * tables). A kept table that lacks an index of the definition (made by an older
 * pushgate) is rebuilt with its items: dynalite cannot add an index to a table.
 */
export async function ensureTable(
  client: DynamoDBClient,
  definition: CreateTableCommandInput,
): Promise<void> {
  try {
    await client.send(new CreateTableCommand(definition));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    await addMissingIndexes(client, definition);
  }
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
  await client.send(new CreateTableCommand(definition));
  for (let i = 0; i < items.length; i += 25) {
    const requests = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    await client.send(
      new BatchWriteItemCommand({ RequestItems: { [String(definition.TableName)]: requests } }),
    );
  }
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
