import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CREDENTIAL_FAILURE_REASONS } from '../../infra/constructs/operations';
import { CREDENTIAL_REASONS } from '../../lambda/domain/apns-outcome';
import { JOBS_DEAD_LETTERED, METRICS_SERVICE, OUTCOME_METRICS } from '../../lambda/metric-names';
import { ALARM_EMAIL, type Resource, resourcesOf, synthDefaultStack, type synthStage } from './stack-fixture';

let synthesized: ReturnType<typeof synthStage>;
let resources: Record<string, Resource>;
beforeAll(() => {
  synthesized = synthDefaultStack();
  resources = resourcesOf(synthesized.template);
});

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const idOf = (type: string, match: (r: Resource) => boolean) => ofType(type).find(([, r]) => match(r))?.[0];
const alarm = (suffix: string) => {
  const found = ofType('AWS::CloudWatch::Alarm').find(
    ([, r]) => r.Properties.AlarmName === `prod-pushgate-${suffix}`,
  );
  if (found === undefined) throw new Error(`no alarm ${suffix}`);
  return found[1].Properties;
};
type MetricStat = {
  Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: unknown }[] };
};
const mathMetrics = (properties: Record<string, unknown>) =>
  (properties.Metrics as { Id: string; Expression?: string; MetricStat?: MetricStat }[]).filter(
    (m) => m.MetricStat,
  );

describe('alarm topic', () => {
  it('mails the configured address and accepts only TLS publishers', () => {
    const topicId = ofType('AWS::SNS::Topic')[0]?.[0];
    synthesized.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: ALARM_EMAIL,
      TopicArn: { Ref: topicId },
    });
    const policy = ofType('AWS::SNS::TopicPolicy')[0]?.[1];
    expect(JSON.stringify(policy?.Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
  });

  it('every alarm notifies the topic when it fires and when it clears', () => {
    const topicId = ofType('AWS::SNS::Topic')[0]?.[0];
    const alarms = ofType('AWS::CloudWatch::Alarm');
    expect(alarms.map(([, r]) => r.Properties.AlarmName).sort()).toEqual(
      [
        'ApiServerErrors',
        'CredentialFailures',
        'DeadLetters',
        'DynamoDbThrottles',
        'FcmCredentialFailures',
        'SendBacklog',
        'SenderErrors',
        'SenderThrottles',
      ].map((name) => `prod-pushgate-${name}`),
    );
    for (const [id, { Properties }] of alarms) {
      expect(Properties.AlarmActions, id).toEqual([{ Ref: topicId }]);
      expect(Properties.OKActions, id).toEqual([{ Ref: topicId }]);
      expect(Properties.TreatMissingData, id).toBe('notBreaching');
      expect(Properties.ComparisonOperator, id).toBe('GreaterThanOrEqualToThreshold');
    }
  });
});

describe('alarms watch the right metric', () => {
  it('DLQ depth: any message visible on the dead-letter queue', () => {
    const dlq = idOf('AWS::SQS::Queue', (r) => r.Properties.RedrivePolicy === undefined);
    expect(alarm('DeadLetters')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: 1,
      EvaluationPeriods: 1,
    });
  });

  it('sender errors and throttles: any, on the sender function', () => {
    const sender = idOf('AWS::Lambda::Function', (r) => String(r.Properties.Description).includes('sender'));
    for (const [name, metric] of [
      ['SenderErrors', 'Errors'],
      ['SenderThrottles', 'Throttles'],
    ]) {
      expect(alarm(name as string)).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: metric,
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: sender } }],
        Statistic: 'Sum',
        Threshold: 1,
      });
    }
  });

  it('send backlog: the oldest job on the send queue older than 20 minutes', () => {
    const queue = idOf('AWS::SQS::Queue', (r) => r.Properties.RedrivePolicy !== undefined);
    expect(alarm('SendBacklog')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: 1200,
    });
  });

  it('HTTP API 5xx on the API', () => {
    const api = ofType('AWS::ApiGatewayV2::Api')[0]?.[0];
    expect(alarm('ApiServerErrors')).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Dimensions: [{ Name: 'ApiId', Value: { Ref: api } }],
      Statistic: 'Sum',
      Threshold: 5,
    });
  });

  it('DynamoDB throttling: reads and writes on both tables and the byUser and byLiveActivity indexes, summed', () => {
    const properties = alarm('DynamoDbThrottles');
    const tables = ofType('AWS::DynamoDB::Table').map(([id]) => id);
    const stats = mathMetrics(properties).map((m) => m.MetricStat?.Metric as MetricStat['Metric']);
    expect(stats.every((m) => m.Namespace === 'AWS/DynamoDB')).toBe(true);
    expect(stats.map((m) => m.MetricName).sort()).toEqual([
      ...Array(4).fill('ReadThrottleEvents'),
      ...Array(4).fill('WriteThrottleEvents'),
    ]);
    const dimensions = JSON.stringify(stats.map((m) => m.Dimensions));
    for (const table of tables) expect(dimensions).toContain(`{"Ref":"${table}"}`);
    expect(dimensions).toContain('{"Name":"GlobalSecondaryIndexName","Value":"byUser"}');
    expect(dimensions).toContain('{"Name":"GlobalSecondaryIndexName","Value":"byLiveActivity"}');
    const expression = (properties.Metrics as { Expression?: string }[]).find(
      (m) => m.Expression,
    )?.Expression;
    expect(expression?.split('+')).toHaveLength(8);
    expect(properties.Threshold).toBe(1);
  });

  it('credential failures: jobs dead-lettered as CredentialsUnavailable (or an APNs credential error), as the sender publishes them', () => {
    expect(CREDENTIAL_FAILURE_REASONS).toEqual(['CredentialsUnavailable', ...CREDENTIAL_REASONS]);
    const properties = alarm('CredentialFailures');
    const stats = mathMetrics(properties).map((m) => m.MetricStat?.Metric as MetricStat['Metric']);
    expect(stats.map((m) => m.Dimensions.find((d) => d.Name === 'reason')?.Value)).toEqual(
      CREDENTIAL_FAILURE_REASONS,
    );
    for (const metric of stats) {
      // lambda/metrics.ts: namespace from POWERTOOLS_METRICS_NAMESPACE, dimensions service + reason.
      expect(metric.Namespace).toBe('prod-pushgate');
      expect(metric.MetricName).toBe(JOBS_DEAD_LETTERED);
      expect(metric.Dimensions.map((d) => d.Name).sort()).toEqual(['reason', 'service']);
      expect(metric.Dimensions.find((d) => d.Name === 'service')?.Value).toBe(METRICS_SERVICE);
    }
    expect(properties.Threshold).toBe(1);
  });
});

describe('dashboard', () => {
  it('is named after the stage and shows sends, outcomes by reason, queue depth and age, DLQ depth, errors and latency', () => {
    const [, dashboard] = ofType('AWS::CloudWatch::Dashboard')[0] as [string, Resource];
    expect(dashboard.Properties.DashboardName).toBe('prod-pushgate');
    const join = (dashboard.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    const body = join.map((part) => (typeof part === 'string' ? part : 'REF')).join('');
    const widgets = (
      JSON.parse(body) as { widgets: { properties: { title: string; metrics?: unknown[] } }[] }
    ).widgets;
    const widget = (title: string) => {
      const found = widgets.find((w) => w.properties.title === title);
      expect(found, title).toBeDefined();
      return JSON.stringify(found?.properties);
    };
    const sends = widget('Sends: jobs in, notifications out');
    expect(sends).toContain('NumberOfMessagesSent');
    for (const name of Object.values(OUTCOME_METRICS)) expect(sends).toContain(`"${name}"`);
    expect(sends).toContain('"prod-pushgate"');
    expect(widget('Outcomes by reason')).toContain(
      `SEARCH('{\\"prod-pushgate\\",reason,service} service=\\"${METRICS_SERVICE}\\"', 'Sum', 300)`,
    );
    const depth = widget('Send queue depth');
    for (const metric of [
      'ApproximateNumberOfMessagesVisible',
      'ApproximateNumberOfMessagesNotVisible',
      'ApproximateNumberOfMessagesDelayed',
    ])
      expect(depth).toContain(metric);
    expect(widget('Oldest job on the send queue (s)')).toContain('ApproximateAgeOfOldestMessage');
    expect(widget('Dead-letter queue depth')).toContain('ApproximateNumberOfMessagesVisible');
    const errors = widget('Errors');
    for (const metric of ['"Errors"', '"Throttles"', '"5xx"', '"4xx"', 'ReadThrottleEvents'])
      expect(errors).toContain(metric);
    expect(widget('API latency (ms)')).toContain('"Latency"');
    expect(widget('Sender duration (ms) and concurrency')).toContain('"Duration"');
    expect(widget('Alarms')).toContain('alarms');
  });
});

describe('the runbook (docs/runbook.md)', () => {
  const runbook = readFileSync('docs/runbook.md', 'utf8');

  it('has a section for exactly the alarms the stack defines', () => {
    const deployed = ofType('AWS::CloudWatch::Alarm').map(([, r]) =>
      String(r.Properties.AlarmName).replace(/^prod-pushgate-/, ''),
    );
    const sections = [...runbook.matchAll(/^### (\w+) — /gm)].map(([, name]) => name);
    expect(sections.sort()).toEqual(deployed.sort());
  });

  it('names every reason a credential failure is dead-lettered with', () => {
    for (const reason of CREDENTIAL_FAILURE_REASONS) expect(runbook, reason).toContain(`\`${reason}\``);
  });
});
