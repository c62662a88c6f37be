import { AsyncLocalStorage } from 'node:async_hooks';
import { EVENT_SOURCE_QUEUE_ACTIONS, type FunctionAccess } from '../infra/function-access';
import { DEVICES_TABLE } from '../lambda/adapters/secondary/devices-keys';
import { ENVIRONMENT } from '../lambda/environment';

/**
 * Offline mode holds every function invocation to the grants the stack deploys for
 * that function (infra/function-access.ts, infra/api-routes.ts): a middleware on the
 * functions' SDK clients maps each call to the IAM action and resource AWS would
 * authorize it by, and refuses it the way AWS does — an AccessDeniedException — when
 * the invoking function is not granted it. Calls made outside an invocation (test
 * setup, seeding, the dashboard) are not checked.
 */

/** The account offline ARNs name. */
const ACCOUNT = '000000000000';

/** What IAM authorizes: an action on a resource (an ARN). */
export interface Permission {
  action: string;
  resource: string;
}

/** Granted actions by resource ARN. */
export type Grants = ReadonlyMap<string, ReadonlySet<string>>;

/** The error AWS answers a call the caller's policies do not allow. */
export class AccessDeniedException extends Error {
  override readonly name = 'AccessDeniedException';
  readonly $fault = 'client';
  readonly $metadata = { httpStatusCode: 400, attempts: 1, totalRetryDelay: 0 };

  constructor(
    readonly functionName: string,
    readonly permission: Permission,
  ) {
    super(
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/${functionName}/${functionName} is not authorized to perform: ${permission.action} on resource: ${permission.resource} because no identity-based policy allows the ${permission.action} action (offline mode holds each function to its deployed grants: infra/api-routes.ts, infra/function-access.ts)`,
    );
  }
}

function region(): string {
  return process.env.AWS_REGION ?? 'us-east-1';
}

export function tableArn(tableName: string, indexName?: string): string {
  const table = `arn:aws:dynamodb:${region()}:${ACCOUNT}:table/${tableName}`;
  return indexName === undefined ? table : `${table}/index/${indexName}`;
}

/** A queue's ARN from its URL (`…/<account>/<name>`) or its name. */
export function queueArn(queueUrlOrName: string): string {
  const name = queueUrlOrName.slice(queueUrlOrName.lastIndexOf('/') + 1);
  return `arn:aws:sqs:${region()}:${ACCOUNT}:${name}`;
}

export function secretArn(secretId: string): string {
  return secretId.startsWith('arn:')
    ? secretId
    : `arn:aws:secretsmanager:${region()}:${ACCOUNT}:secret:${secretId}`;
}

/**
 * A function's grants on the resources the environment names — as the stack's
 * constructs turn the same data into policy statements: the Devices table and each
 * of its indexes separately, the Notifications table, the send queue, the dead-letter
 * queue and each app's credentials secret. `consumedQueueUrl`: the queue an event
 * source feeds the function from, on which CDK's SqsEventSource grants its role the
 * mapping's actions.
 */
export function grantsOf(
  access: FunctionAccess,
  options: { consumedQueueUrl?: string; env?: NodeJS.ProcessEnv } = {},
): Grants {
  const env = options.env ?? process.env;
  const grants = new Map<string, Set<string>>();
  const grant = (resource: string, actions: readonly string[] | undefined) => {
    if (actions === undefined || actions.length === 0) return;
    const granted = grants.get(resource) ?? new Set<string>();
    for (const action of actions) granted.add(action);
    grants.set(resource, granted);
  };
  const devicesTable = env[ENVIRONMENT.devicesTable];
  if (devicesTable !== undefined) {
    grant(tableArn(devicesTable), access.devices?.table);
    grant(tableArn(devicesTable, DEVICES_TABLE.userIndex.name), access.devices?.userIndex);
    grant(tableArn(devicesTable, DEVICES_TABLE.liveActivityIndex.name), access.devices?.liveActivityIndex);
  }
  const notificationsTable = env[ENVIRONMENT.notificationsTable];
  if (notificationsTable !== undefined) grant(tableArn(notificationsTable), access.notifications);
  const sendQueue = env[ENVIRONMENT.sendQueue];
  if (sendQueue !== undefined) grant(queueArn(sendQueue), access.sendQueue);
  const deadLetterQueue = env[ENVIRONMENT.deadLetterQueue];
  if (deadLetterQueue !== undefined) grant(queueArn(deadLetterQueue), access.deadLetterQueue);
  if (access.apnsCredentials?.length) {
    for (const source of credentialSources(env[ENVIRONMENT.apps])) {
      if (source.startsWith('secretsmanager:')) {
        grant(secretArn(source.slice('secretsmanager:'.length)), access.apnsCredentials);
      }
    }
  }
  if (options.consumedQueueUrl !== undefined)
    grant(queueArn(options.consumedQueueUrl), EVENT_SOURCE_QUEUE_ACTIONS);
  return grants;
}

/** The apps' APNs and FCM `credentials` sources (offline they are files, which IAM has no say over). */
function credentialSources(apps: string | undefined): string[] {
  if (apps === undefined) return [];
  try {
    const parsed: unknown = JSON.parse(apps);
    if (!Array.isArray(parsed)) return [];
    return parsed.flatMap((app: unknown) => {
      if (typeof app !== 'object' || app === null) return [];
      const fcm: unknown = Reflect.get(app, 'fcm');
      return [
        Reflect.get(app, 'credentials'),
        typeof fcm === 'object' && fcm !== null ? Reflect.get(fcm, 'credentials') : undefined,
      ].filter((source): source is string => typeof source === 'string');
    });
  } catch {
    return [];
  }
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
      `Offline mode does not know which IAM action ${clientName} ${commandName} needs, so it cannot check the function's grants: add it to local/function-grants.ts.`,
    );
  }
  return mapping(record(input));
}

/** Throws AWS's AccessDeniedException for the first permission the grants lack. */
export function authorize(functionName: string, grants: Grants, permissions: readonly Permission[]): void {
  for (const permission of permissions) {
    if (grants.get(permission.resource)?.has(permission.action) !== true) {
      const denied = new AccessDeniedException(functionName, permission);
      recordDenial(denied);
      throw denied;
    }
  }
}

interface Invocation {
  functionName: string;
  grants: Grants;
}

const invocations = new AsyncLocalStorage<Invocation>();

/**
 * Runs one invocation of a function with its grants: every call its code makes on a
 * checked client (the functions' shared ones, lambda/clients.ts, always) must be
 * granted.
 */
export async function runAsFunction<T>(
  functionName: string,
  grants: Grants,
  body: () => Promise<T>,
): Promise<T> {
  await enforcingOnFunctionClients();
  return invocations.run({ functionName, grants }, body);
}

let enforcing: Promise<void> | undefined;

/** Loaded at the first invocation, not when offline mode starts: the clients read their endpoints then. */
function enforcingOnFunctionClients(): Promise<void> {
  enforcing ??= import('../lambda/clients').then(({ dynamo, sqs }) => {
    enforceGrants(dynamo);
    enforceGrants(sqs);
  });
  return enforcing;
}

type Next = (args: { input: unknown }) => Promise<unknown>;

/** Any client's middleware stack, as this middleware uses it: it reads every input as unknown. */
interface MiddlewareStack {
  add(
    middleware: (next: Next, context: { clientName?: string; commandName?: string }) => Next,
    options: { step: 'initialize'; name: string; priority: 'high' },
  ): void;
}

const enforced = new WeakSet<object>();

/**
 * Checks the client's calls inside invocations from now on (once per client): any
 * SDK v3 service client, or the document client (which shares its client's stack).
 */
export function enforceGrants(client: { middlewareStack: object }): void {
  if (enforced.has(client.middlewareStack)) return;
  enforced.add(client.middlewareStack);
  (client.middlewareStack as MiddlewareStack).add(
    (next, context) => async (args) => {
      const invocation = invocations.getStore();
      if (invocation !== undefined) {
        const permissions = requiredPermissions(
          context.clientName ?? '',
          context.commandName ?? '',
          args.input,
        );
        authorize(invocation.functionName, invocation.grants, permissions);
      }
      return next(args);
    },
    { step: 'initialize', name: 'pushgateOfflineGrants', priority: 'high' },
  );
}

/** The last refusals, for tests to see one a handler caught and turned into something else. */
const denials: AccessDeniedException[] = [];
const MAX_DENIALS = 100;

function recordDenial(denied: AccessDeniedException): void {
  denials.push(denied);
  if (denials.length > MAX_DENIALS) denials.shift();
}

/** The refusals since the last call (at most the last 100), oldest first; clears them. */
export function takeDenials(): AccessDeniedException[] {
  return denials.splice(0);
}
