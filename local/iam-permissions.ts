/**
 * What IAM authorizes each SDK call the functions make by: the action and the
 * resource ARN, per client and command, as AWS evaluates them — and the ARNs offline
 * resources have. Changes when the code starts making a new kind of call; which
 * function is granted what is function-grants.ts.
 */

/** The account offline ARNs name. */
export const OFFLINE_ACCOUNT = '000000000000';

/** What IAM authorizes: an action on a resource (an ARN). */
export interface Permission {
  action: string;
  resource: string;
}

function region(): string {
  return process.env.AWS_REGION ?? 'us-east-1';
}

export function tableArn(tableName: string, indexName?: string): string {
  const table = `arn:aws:dynamodb:${region()}:${OFFLINE_ACCOUNT}:table/${tableName}`;
  return indexName === undefined ? table : `${table}/index/${indexName}`;
}

/** A queue's ARN from its URL (`…/<account>/<name>`) or its name. */
export function queueArn(queueUrlOrName: string): string {
  const name = queueUrlOrName.slice(queueUrlOrName.lastIndexOf('/') + 1);
  return `arn:aws:sqs:${region()}:${OFFLINE_ACCOUNT}:${name}`;
}

export function secretArn(secretId: string): string {
  return secretId.startsWith('arn:')
    ? secretId
    : `arn:aws:secretsmanager:${region()}:${OFFLINE_ACCOUNT}:secret:${secretId}`;
}

type Input = Record<string, unknown>;

const text = (input: Input, field: string): string => {
  const value = input[field];
  return typeof value === 'string' ? value : '';
};

const record = (value: unknown): Input =>
  typeof value === 'object' && value !== null ? (value as Input) : {};

/** Table or index: Query and Scan are authorized on the index they read, when they name one. */
const tableOrIndex = (input: Input): string => {
  const index = text(input, 'IndexName');
  return tableArn(text(input, 'TableName'), index === '' ? undefined : index);
};

/** One action on the table named by the input's TableName. */
const onTable =
  (action: string) =>
  (input: Input): Permission[] => [{ action, resource: tableArn(text(input, 'TableName')) }];

/** One action on every table a batch names (the keys of RequestItems). */
const onEachTable =
  (action: string) =>
  (input: Input): Permission[] =>
    Object.keys(record(input.RequestItems)).map((table) => ({ action, resource: tableArn(table) }));

/** A transaction needs each item's own action on that item's table. */
const TRANSACT_ACTIONS: Record<string, string> = {
  Get: 'dynamodb:GetItem',
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
};
const transaction = (input: Input): Permission[] => {
  const items = Array.isArray(input.TransactItems) ? input.TransactItems : [];
  return items.flatMap((item: unknown) =>
    Object.entries(record(item)).flatMap(([kind, operation]) => {
      const action = TRANSACT_ACTIONS[kind];
      return action === undefined
        ? []
        : [{ action, resource: tableArn(text(record(operation), 'TableName')) }];
    }),
  );
};

/** SQS authorizes the batch calls by their single-message action, on the queue. */
const onQueue =
  (action: string) =>
  (input: Input): Permission[] => [{ action, resource: queueArn(text(input, 'QueueUrl')) }];

const onSecret =
  (action: string) =>
  (input: Input): Permission[] => [{ action, resource: secretArn(text(input, 'SecretId')) }];

/**
 * What AWS authorizes each call by, per client and command (the command names of
 * both the DynamoDB client and the document client). A call missing here is refused
 * inside an invocation, so a new kind of call cannot pass unchecked.
 */
const COMMANDS: Record<string, Record<string, (input: Input) => Permission[]>> = {
  DynamoDBClient: {
    GetItemCommand: onTable('dynamodb:GetItem'),
    GetCommand: onTable('dynamodb:GetItem'),
    PutItemCommand: onTable('dynamodb:PutItem'),
    PutCommand: onTable('dynamodb:PutItem'),
    UpdateItemCommand: onTable('dynamodb:UpdateItem'),
    UpdateCommand: onTable('dynamodb:UpdateItem'),
    DeleteItemCommand: onTable('dynamodb:DeleteItem'),
    DeleteCommand: onTable('dynamodb:DeleteItem'),
    QueryCommand: (input) => [{ action: 'dynamodb:Query', resource: tableOrIndex(input) }],
    ScanCommand: (input) => [{ action: 'dynamodb:Scan', resource: tableOrIndex(input) }],
    BatchGetItemCommand: onEachTable('dynamodb:BatchGetItem'),
    BatchGetCommand: onEachTable('dynamodb:BatchGetItem'),
    BatchWriteItemCommand: onEachTable('dynamodb:BatchWriteItem'),
    BatchWriteCommand: onEachTable('dynamodb:BatchWriteItem'),
    TransactGetItemsCommand: transaction,
    TransactGetCommand: transaction,
    TransactWriteItemsCommand: transaction,
    TransactWriteCommand: transaction,
    DescribeTableCommand: onTable('dynamodb:DescribeTable'),
  },
  SQSClient: {
    SendMessageCommand: onQueue('sqs:SendMessage'),
    SendMessageBatchCommand: onQueue('sqs:SendMessage'),
    ReceiveMessageCommand: onQueue('sqs:ReceiveMessage'),
    DeleteMessageCommand: onQueue('sqs:DeleteMessage'),
    DeleteMessageBatchCommand: onQueue('sqs:DeleteMessage'),
    ChangeMessageVisibilityCommand: onQueue('sqs:ChangeMessageVisibility'),
    ChangeMessageVisibilityBatchCommand: onQueue('sqs:ChangeMessageVisibility'),
    GetQueueAttributesCommand: onQueue('sqs:GetQueueAttributes'),
    GetQueueUrlCommand: (input) => [
      { action: 'sqs:GetQueueUrl', resource: queueArn(text(input, 'QueueName')) },
    ],
    PurgeQueueCommand: onQueue('sqs:PurgeQueue'),
  },
  SecretsManagerClient: {
    GetSecretValueCommand: onSecret('secretsmanager:GetSecretValue'),
    DescribeSecretCommand: onSecret('secretsmanager:DescribeSecret'),
  },
};

/** The IAM permissions one SDK call needs. Throws for a call it has no mapping for. */
export function requiredPermissions(clientName: string, commandName: string, input: unknown): Permission[] {
  const mapping = COMMANDS[clientName]?.[commandName];
  if (mapping === undefined) {
    throw new Error(
      `Offline mode does not know which IAM action ${clientName} ${commandName} needs, so it cannot check the function's grants: add it to local/iam-permissions.ts.`,
    );
  }
  return mapping(record(input));
}
