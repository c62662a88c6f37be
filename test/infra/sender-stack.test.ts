import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { SEND_QUEUE, SENDER } from '../../infra/queue-settings';
import { synthDefaultStack, synthStack } from './stack-fixture';

type Resource = { Type: string; Properties: Record<string, unknown> };
let synthesized: ReturnType<typeof synthStack>;
let resources: Record<string, Resource>;
beforeAll(() => {
  synthesized = synthDefaultStack();
  resources = synthesized.template.toJSON().Resources as Record<string, Resource>;
});

const senderId = () =>
  Object.entries(resources).find(
    ([, r]) => r.Type === 'AWS::Lambda::Function' && String(r.Properties.Description).includes('sender'),
  )?.[0] as string;

describe('send queue and dead-letter queue', () => {
  it('redrives to the DLQ after maxReceiveCount, with a visibility timeout ≥ 6 × the sender timeout', () => {
    const { template } = synthesized;
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: SEND_QUEUE.visibilityTimeoutSeconds,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: SEND_QUEUE.maxReceiveCount },
      SqsManagedSseEnabled: true,
    });
    template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 14 * 86_400 });
    expect(SEND_QUEUE.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(6 * SENDER.timeoutSeconds);
  });

  it('alarms as soon as one message is in the DLQ', () => {
    synthesized.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
    });
  });
});

describe('sender', () => {
  it('is fed by the send queue with partial batch failures, a batch size and a concurrency cap', () => {
    synthesized.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: senderId() },
      BatchSize: SENDER.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: SENDER.maxConcurrency },
    });
  });

  it('runs with the timeout the queue is sized for and knows where its queues and tables are', () => {
    const sender = resources[senderId()]?.Properties as Record<string, unknown>;
    expect(sender.Timeout).toBe(SENDER.timeoutSeconds);
    const variables = (sender.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(Object.keys(variables)).toEqual(
      expect.arrayContaining([
        'DEVICES_TABLE_NAME',
        'NOTIFICATIONS_TABLE_NAME',
        'SEND_QUEUE_URL',
        'DEAD_LETTER_QUEUE_URL',
        'PUSHGATE_APPS',
      ]),
    );
  });

  it('reads the APNs credentials secret of each app, created when none is given', () => {
    synthesized.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'pushgate/apns/com.example.app',
    });
    const policies = Object.values(resources).filter(
      (r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes('senderRole'),
    );
    const actions = policies.flatMap((p) =>
      (p.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement.flatMap((s) =>
        [s.Action].flat(),
      ),
    );
    expect(actions).toEqual(
      expect.arrayContaining(['secretsmanager:GetSecretValue', 'sqs:SendMessage', 'dynamodb:Query']),
    );
    expect(actions).not.toContain('dynamodb:Scan');
    expect(actions).not.toContain('dynamodb:PutItem');
  });

  it('uses an existing secret instead of creating one when given its ARN', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:apns-chat-AbCdEf';
    const { template } = synthStack({
      apps: [{ appId: 'com.acme.chat', bundleId: 'com.acme.chat', credentialsSecretArn: arn }],
    });
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
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
