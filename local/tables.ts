import {
  CreateTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  ResourceInUseException,
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

/** Creates a table unless it already exists (a persisted offline store keeps its tables). */
export async function ensureTable(
  client: DynamoDBClient,
  definition: CreateTableCommandInput,
): Promise<void> {
  try {
    await client.send(new CreateTableCommand(definition));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
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
