import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { SEND_QUEUE, SENDER } from '../../infra/queue-settings';
import { MAX_PART_BYTES } from '../../lambda/domain/job-part';
import { MAX_SQS_MESSAGE_BYTES } from '../../lambda/domain/queue-message';
import { ENVIRONMENT } from '../../lambda/environment';
import {
  IMPORTED_SECRET_ARN,
  KMS_KEY_ARN,
  PROD_STAGE,
  type Resource,
  resourcesOf,
  statementsOfRole,
  synthDefaultStack,
  synthStage,
} from './stack-fixture';

let synthesized: ReturnType<typeof synthStage>;
let resources: Record<string, Resource>;
beforeAll(() => {
  synthesized = synthDefaultStack();
  resources = resourcesOf(synthesized.template);
});

const senderId = () =>
  Object.entries(resources).find(
    ([, r]) => r.Type === 'AWS::Lambda::Function' && String(r.Properties.Description).includes('sender'),
  )?.[0] as string;
const senderStatements = () => {
  const sender = resources[senderId()] as Resource;
  return statementsOfRole(resources, (sender.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0]);
};

describe('send queue and dead-letter queue', () => {
  it('redrives to the DLQ after maxReceiveCount, with a visibility timeout ≥ 6 × the sender timeout', () => {
    const { template } = synthesized;
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: SEND_QUEUE.visibilityTimeoutSeconds,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: SEND_QUEUE.maxReceiveCount },
      SqsManagedSseEnabled: true,
    });
    template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 14 * 86_400 });
    // Both take the messages the sender cuts its parts to, whatever SQS's default was when
    // the queue was made (256 KiB before August 2025; an existing queue keeps it).
    const queues = Object.values(template.findResources('AWS::SQS::Queue'));
    expect(queues).toHaveLength(2);
    for (const queue of queues) expect(queue.Properties.MaximumMessageSize).toBe(MAX_SQS_MESSAGE_BYTES);
    expect(MAX_PART_BYTES).toBeLessThan(MAX_SQS_MESSAGE_BYTES);
    expect(SEND_QUEUE.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(6 * SENDER.timeoutSeconds);
  });
});

describe('sender', () => {
  it('is fed by the send queue with partial batch failures, a batch size and a concurrency cap that fits a quota of 10', () => {
    synthesized.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: senderId() },
      BatchSize: SENDER.batchSize,
      // No batching window: chat latency (infra/queue-settings.ts).
      MaximumBatchingWindowInSeconds: 0,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 5 },
    });
    // Reserving concurrency on an account with a quota of 10 fails the deploy: none by default.
    expect(resources[senderId()]?.Properties.ReservedConcurrentExecutions).toBeUndefined();
  });

  it('paused, its event source is disabled: jobs wait on the send queue until it is deployed unpaused', () => {
    const paused = synthStage({ ...PROD_STAGE, sender: { paused: true } }, { bundle: false }).template;
    paused.hasResourceProperties('AWS::Lambda::EventSourceMapping', { Enabled: false });
    const running = resourcesOf(synthesized.template);
    const mapping = Object.values(running).find((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
    expect(mapping?.Properties.Enabled).not.toBe(false);
  });

  it('runs with the timeout the queue is sized for and knows where its queues and tables are', () => {
    const sender = resources[senderId()]?.Properties as Record<string, unknown>;
    expect(sender.Timeout).toBe(SENDER.timeoutSeconds);
    const variables = (sender.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(Object.keys(variables)).toEqual(
      expect.arrayContaining([
        ENVIRONMENT.devicesTable,
        ENVIRONMENT.notificationsTable,
        ENVIRONMENT.sendQueue,
        ENVIRONMENT.deadLetterQueue,
        ENVIRONMENT.apps,
      ]),
    );
    const apps = JSON.stringify(variables[ENVIRONMENT.apps]);
    expect(apps).toContain(`secretsmanager:${IMPORTED_SECRET_ARN}`);
  });

  it('reads each app’s secret — the created one and the imported one — uses no Scan, and puts only Notifications items', () => {
    const statements = senderStatements();
    const reads = statements.filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'));
    const created = Object.entries(resources).find(([, r]) => r.Type === 'AWS::SecretsManager::Secret')?.[0];
    expect(reads.map((s) => JSON.stringify(s.Resource)).sort()).toEqual(
      [JSON.stringify({ Ref: created }), JSON.stringify(IMPORTED_SECRET_ARN)].sort(),
    );
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['sqs:SendMessage', 'dynamodb:Query']));
    expect(actions).not.toContain('dynamodb:Scan');
    // PutItem: a tracked job published straight to the queue records its id and recipients (delivery/plan.ts).
    const notificationsTable = Object.entries(resources).find(
      ([, r]) => r.Type === 'AWS::DynamoDB::Table' && JSON.stringify(r.Properties.KeySchema).includes('"sk"'),
    )?.[0];
    const puts = statements.filter((s) => [s.Action].flat().includes('dynamodb:PutItem'));
    expect(puts.map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': [notificationsTable, 'Arn'] }]);
  });

  it('may decrypt with the imported secret’s KMS key only through Secrets Manager, for that secret', () => {
    const decrypts = senderStatements().filter((s) => [s.Action].flat().includes('kms:Decrypt'));
    expect(decrypts).toHaveLength(1);
    expect(decrypts[0]?.Resource).toBe(KMS_KEY_ARN);
    expect(decrypts[0]?.Condition).toEqual({
      StringEquals: {
        'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.eu-west-1.', { Ref: 'AWS::URLSuffix' }]] },
        'kms:EncryptionContext:SecretARN': IMPORTED_SECRET_ARN,
      },
    });
    // No other function may decrypt anything.
    const all = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap(
        (p) => (p.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement,
      )
      .filter((s) => [s.Action].flat().some((a) => a.startsWith('kms:')));
    expect(all).toHaveLength(1);
  });
});

describe('Notifications table', () => {
  it('has pk/sk keys, TTL and PITR', () => {
    synthesized.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });
});
