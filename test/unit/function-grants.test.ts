import { readdirSync, readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../infra/api-routes';
import { EVENT_SOURCE_QUEUE_ACTIONS, type FunctionAccess, SENDER_ACCESS } from '../../infra/function-access';
import { ENVIRONMENT } from '../../lambda/environment';
import {
  AccessDeniedException,
  authorize,
  enforceGrants,
  grantsOf,
  runAsFunction,
  takeDenials,
} from '../../local/function-grants';
import { queueArn, requiredPermissions, secretArn, tableArn } from '../../local/iam-permissions';

const DEVICES = tableArn('devices');
const BY_USER = tableArn('devices', 'byUser');
const BY_LIVE_ACTIVITY = tableArn('devices', 'byLiveActivity');
const NOTIFICATIONS = tableArn('notifications');
const SEND_QUEUE_URL = 'http://sqs.us-east-1.localhost:4566/000000000000/send';
const DLQ_URL = 'http://sqs.us-east-1.localhost:4566/000000000000/send-dlq';
const SECRET = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:pushgate/apns/com.acme.app-AbCdEf';

const env: NodeJS.ProcessEnv = {
  [ENVIRONMENT.devicesTable]: 'devices',
  [ENVIRONMENT.notificationsTable]: 'notifications',
  [ENVIRONMENT.sendQueue]: SEND_QUEUE_URL,
  [ENVIRONMENT.deadLetterQueue]: DLQ_URL,
  [ENVIRONMENT.apps]: JSON.stringify([
    { appId: 'com.acme.app', bundleId: 'com.acme.app', credentials: `secretsmanager:${SECRET}` },
    { appId: 'com.acme.local', bundleId: 'com.acme.local', credentials: 'file:/tmp/key.json' },
  ]),
};

const dynamo = (command: string, input: Record<string, unknown>) =>
  requiredPermissions('DynamoDBClient', command, input);

afterEach(() => {
  takeDenials();
});

describe('the IAM permissions an SDK call needs', () => {
  it('single-item calls: their own action on the table, from the client and the document client alike', () => {
    for (const [command, action] of [
      ['GetItemCommand', 'dynamodb:GetItem'],
      ['GetCommand', 'dynamodb:GetItem'],
      ['PutItemCommand', 'dynamodb:PutItem'],
      ['PutCommand', 'dynamodb:PutItem'],
      ['UpdateItemCommand', 'dynamodb:UpdateItem'],
      ['UpdateCommand', 'dynamodb:UpdateItem'],
      ['DeleteItemCommand', 'dynamodb:DeleteItem'],
      ['DeleteCommand', 'dynamodb:DeleteItem'],
    ] as const) {
      expect(dynamo(command, { TableName: 'devices', Key: { token: 'a' } }), command).toEqual([
        { action, resource: DEVICES },
      ]);
    }
  });

  it('Query and Scan: on the index they name, else on the table', () => {
    expect(dynamo('QueryCommand', { TableName: 'devices', IndexName: 'byUser' })).toEqual([
      { action: 'dynamodb:Query', resource: BY_USER },
    ]);
    expect(dynamo('QueryCommand', { TableName: 'notifications' })).toEqual([
      { action: 'dynamodb:Query', resource: NOTIFICATIONS },
    ]);
    expect(dynamo('ScanCommand', { TableName: 'devices', IndexName: 'byLiveActivity' })).toEqual([
      { action: 'dynamodb:Scan', resource: BY_LIVE_ACTIVITY },
    ]);
  });

  it('batches: the batch action on every table they name', () => {
    const RequestItems = { devices: { Keys: [] }, notifications: { Keys: [] } };
    expect(dynamo('BatchGetCommand', { RequestItems })).toEqual([
      { action: 'dynamodb:BatchGetItem', resource: DEVICES },
      { action: 'dynamodb:BatchGetItem', resource: NOTIFICATIONS },
    ]);
    expect(dynamo('BatchWriteItemCommand', { RequestItems: { devices: [] } })).toEqual([
      { action: 'dynamodb:BatchWriteItem', resource: DEVICES },
    ]);
  });

  it('transactions: each item’s own action on its own table', () => {
    expect(
      dynamo('TransactWriteCommand', {
        TransactItems: [
          { Put: { TableName: 'devices', Item: {} } },
          { Update: { TableName: 'notifications', Key: {} } },
          { Delete: { TableName: 'devices', Key: {} } },
          { ConditionCheck: { TableName: 'notifications', Key: {} } },
        ],
      }),
    ).toEqual([
      { action: 'dynamodb:PutItem', resource: DEVICES },
      { action: 'dynamodb:UpdateItem', resource: NOTIFICATIONS },
      { action: 'dynamodb:DeleteItem', resource: DEVICES },
      { action: 'dynamodb:ConditionCheckItem', resource: NOTIFICATIONS },
    ]);
    expect(dynamo('TransactGetItemsCommand', { TransactItems: [{ Get: { TableName: 'devices' } }] })).toEqual(
      [{ action: 'dynamodb:GetItem', resource: DEVICES }],
    );
  });

  it('SQS: batch calls by their single-message action, on the queue of the URL', () => {
    const sqs = (command: string) => requiredPermissions('SQSClient', command, { QueueUrl: SEND_QUEUE_URL });
    expect(sqs('SendMessageCommand')).toEqual([{ action: 'sqs:SendMessage', resource: queueArn('send') }]);
    expect(sqs('SendMessageBatchCommand')).toEqual([
      { action: 'sqs:SendMessage', resource: queueArn('send') },
    ]);
    expect(sqs('DeleteMessageBatchCommand')).toEqual([
      { action: 'sqs:DeleteMessage', resource: queueArn('send') },
    ]);
    expect(sqs('ChangeMessageVisibilityCommand')).toEqual([
      { action: 'sqs:ChangeMessageVisibility', resource: queueArn('send') },
    ]);
    expect(requiredPermissions('SQSClient', 'GetQueueUrlCommand', { QueueName: 'send-dlq' })).toEqual([
      { action: 'sqs:GetQueueUrl', resource: queueArn(DLQ_URL) },
    ]);
  });

  it('Secrets Manager: GetSecretValue on the secret, named by ARN or by name', () => {
    expect(
      requiredPermissions('SecretsManagerClient', 'GetSecretValueCommand', { SecretId: SECRET }),
    ).toEqual([{ action: 'secretsmanager:GetSecretValue', resource: SECRET }]);
    expect(secretArn('pushgate/apns/x')).toBe(
      'arn:aws:secretsmanager:us-east-1:000000000000:secret:pushgate/apns/x',
    );
  });

  it('refuses to guess: a call it has no mapping for is an error naming it', () => {
    expect(() => dynamo('ExecuteStatementCommand', { Statement: 'SELECT * FROM devices' })).toThrow(
      /DynamoDBClient ExecuteStatementCommand/,
    );
    expect(() => requiredPermissions('S3Client', 'GetObjectCommand', {})).toThrow(
      /local\/iam-permissions\.ts/,
    );
  });
});

describe('a function’s grants, as the stack deploys them', () => {
  it('a grant on the Devices table covers neither index; each index is granted on its own', () => {
    const grants = grantsOf({ devices: { table: ['dynamodb:GetItem', 'dynamodb:Query'] } }, { env });
    expect(grants.get(DEVICES)).toEqual(new Set(['dynamodb:GetItem', 'dynamodb:Query']));
    expect(grants.has(BY_USER)).toBe(false);
    const listing = grantsOf({ devices: { userIndex: ['dynamodb:Query'] } }, { env });
    expect([...listing.keys()]).toEqual([BY_USER]);
  });

  it('the sender: its tables, both queues, each secret (not credential files), and the queue it consumes', () => {
    const grants = grantsOf(SENDER_ACCESS, { env, consumedQueueUrl: SEND_QUEUE_URL });
    expect(grants.get(BY_LIVE_ACTIVITY)).toEqual(new Set(['dynamodb:Query']));
    expect(grants.get(queueArn(DLQ_URL))).toEqual(new Set(['sqs:SendMessage']));
    expect(grants.get(queueArn(SEND_QUEUE_URL))).toEqual(
      new Set(['sqs:SendMessage', ...EVENT_SOURCE_QUEUE_ACTIONS]),
    );
    expect(grants.get(SECRET)).toEqual(new Set(['secretsmanager:GetSecretValue']));
    expect([...grants.keys()].filter((resource) => resource.includes('secretsmanager'))).toEqual([SECRET]);
  });

  it('a route that sends jobs may send to the send queue and nothing else there', () => {
    const send = API_ROUTES.find((route) => route.name === 'send-notification');
    expect(send).toBeDefined();
    const grants = grantsOf(send as FunctionAccess, { env });
    expect(grants.get(queueArn(SEND_QUEUE_URL))).toEqual(new Set(['sqs:SendMessage']));
    expect(grants.has(queueArn(DLQ_URL))).toBe(false);
  });

  it('what the environment does not name is granted nowhere', () => {
    expect(grantsOf(SENDER_ACCESS, { env: {} }).size).toBe(0);
  });
});

describe('the check', () => {
  const grants = grantsOf(
    { devices: { table: ['dynamodb:GetItem'], userIndex: ['dynamodb:Query'] } },
    { env },
  );

  it('lets granted calls through', () => {
    expect(() =>
      authorize('pushgate-list-my-devices', grants, [
        { action: 'dynamodb:GetItem', resource: DEVICES },
        { action: 'dynamodb:Query', resource: BY_USER },
      ]),
    ).not.toThrow();
    expect(takeDenials()).toEqual([]);
  });

  it('refuses the first ungranted one as AWS does, naming function, action and resource, and keeps it', () => {
    let thrown: unknown;
    try {
      authorize('pushgate-list-my-devices', grants, [
        { action: 'dynamodb:GetItem', resource: DEVICES },
        { action: 'dynamodb:Query', resource: BY_LIVE_ACTIVITY },
      ]);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AccessDeniedException);
    const denied = thrown as AccessDeniedException;
    expect(denied.name).toBe('AccessDeniedException');
    expect(denied.$fault).toBe('client');
    expect(denied.message).toBe(
      `User: arn:aws:sts::000000000000:assumed-role/pushgate-list-my-devices/pushgate-list-my-devices is not authorized to perform: dynamodb:Query on resource: ${BY_LIVE_ACTIVITY} because no identity-based policy allows the dynamodb:Query action (offline mode holds each function to its deployed grants: infra/api-routes.ts, infra/function-access.ts)`,
    );
    expect(takeDenials()).toEqual([denied]);
    expect(takeDenials()).toEqual([]);
  });

  it('refuses an action granted on another resource, and another action on the granted one', () => {
    expect(() => authorize('f', grants, [{ action: 'dynamodb:GetItem', resource: NOTIFICATIONS }])).toThrow(
      AccessDeniedException,
    );
    expect(() => authorize('f', grants, [{ action: 'dynamodb:PutItem', resource: DEVICES }])).toThrow(
      AccessDeniedException,
    );
  });
});

describe('enforcement on an SDK client', () => {
  /** A client whose calls end before the network: what reaches the wire is recorded and answered empty. */
  function offlineClients() {
    const sent: string[] = [];
    const inner = new DynamoDBClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    inner.middlewareStack.add(
      (_next, context) => async () => {
        sent.push(String(context.commandName));
        return { output: { $metadata: {} }, response: {} } as never;
      },
      { step: 'build', name: 'answerEmpty' },
    );
    const document = DynamoDBDocumentClient.from(inner);
    const sqs = new SQSClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    sqs.middlewareStack.add(
      (_next, context) => async () => {
        sent.push(String(context.commandName));
        return { output: { $metadata: {} }, response: {} } as never;
      },
      { step: 'build', name: 'answerEmpty' },
    );
    enforceGrants(document);
    enforceGrants(document);
    enforceGrants(sqs);
    return { document, sqs, sent };
  }

  const listing = grantsOf(
    { devices: { table: ['dynamodb:GetItem', 'dynamodb:Query'], userIndex: ['dynamodb:Query'] } },
    { env },
  );

  it('an index query needs the index grant: the table’s Query grant does not do', async () => {
    const { document, sent } = offlineClients();
    const onIndex = new QueryCommand({
      TableName: 'devices',
      IndexName: 'byLiveActivity',
      KeyConditionExpression: 'liveActivityTarget = :t',
      ExpressionAttributeValues: { ':t': 'x' },
    });
    await expect(
      runAsFunction('pushgate-list-my-devices', listing, () => document.send(onIndex)),
    ).rejects.toThrow(
      /not authorized to perform: dynamodb:Query on resource: .*table\/devices\/index\/byLiveActivity/,
    );
    const onUserIndex = new QueryCommand({
      TableName: 'devices',
      IndexName: 'byUser',
      KeyConditionExpression: 'userId = :u',
      ExpressionAttributeValues: { ':u': 'x' },
    });
    await runAsFunction('pushgate-list-my-devices', listing, () => document.send(onUserIndex));
    expect(sent).toEqual(['QueryCommand']);
  });

  it('refuses ungranted calls before they are sent, and lets granted ones through', async () => {
    const { document, sqs, sent } = offlineClients();
    const asListing = <T>(call: () => Promise<T>) => runAsFunction('pushgate-list-my-devices', listing, call);
    await asListing(() => document.send(new GetCommand({ TableName: 'devices', Key: { token: 'a' } })));
    await expect(
      asListing(() => document.send(new PutCommand({ TableName: 'devices', Item: { token: 'a' } }))),
    ).rejects.toBeInstanceOf(AccessDeniedException);
    await expect(
      asListing(() =>
        document.send(new BatchGetCommand({ RequestItems: { devices: { Keys: [{ token: 'a' }] } } })),
      ),
    ).rejects.toThrow(/dynamodb:BatchGetItem/);
    await expect(
      asListing(() =>
        document.send(
          new TransactWriteCommand({
            TransactItems: [{ Delete: { TableName: 'devices', Key: { token: 'a' } } }],
          }),
        ),
      ),
    ).rejects.toThrow(/dynamodb:DeleteItem/);
    await expect(
      asListing(() => sqs.send(new SendMessageBatchCommand({ QueueUrl: SEND_QUEUE_URL, Entries: [] }))),
    ).rejects.toThrow(/sqs:SendMessage on resource: arn:aws:sqs:us-east-1:000000000000:send /);
    expect(sent).toEqual(['GetItemCommand']);
    expect(takeDenials().map((denial) => denial.permission.action)).toEqual([
      'dynamodb:PutItem',
      'dynamodb:BatchGetItem',
      'dynamodb:DeleteItem',
      'sqs:SendMessage',
    ]);
  });

  it('checks nothing outside an invocation (test setup, seeding, tooling)', async () => {
    const { document, sent } = offlineClients();
    await document.send(new PutCommand({ TableName: 'devices', Item: { token: 'a' } }));
    expect(sent).toEqual(['PutItemCommand']);
  });

  it('keeps each concurrent invocation to its own function’s grants', async () => {
    const { document, sent } = offlineClients();
    const writer = grantsOf({ devices: { table: ['dynamodb:PutItem'] } }, { env });
    const put = () => document.send(new PutCommand({ TableName: 'devices', Item: { token: 'a' } }));
    const results = await Promise.allSettled([
      runAsFunction('pushgate-register-device', writer, async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return put();
      }),
      runAsFunction('pushgate-list-my-devices', listing, put),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected']);
    expect(sent).toEqual(['PutItemCommand']);
  });
});

describe('what offline mode can check', () => {
  it('the functions make SDK calls only through lambda/clients.ts, whose clients are checked', () => {
    const sources = readdirSync('lambda', { recursive: true, encoding: 'utf8' }).filter((file) =>
      file.endsWith('.ts'),
    );
    expect(sources.length).toBeGreaterThan(20);
    const creating = sources.filter(
      (file) =>
        file !== 'clients.ts' &&
        /new \w+Client\(|DynamoDBDocument(Client)?\.from\(/.test(readFileSync(`lambda/${file}`, 'utf8')),
    );
    // A client created elsewhere would make calls offline mode never checks against the grants.
    expect(creating).toEqual([]);
  });
});
