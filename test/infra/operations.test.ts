import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../infra/api-routes';
import { CREDENTIAL_FAILURE_REASONS } from '../../infra/constructs/operations';
import { API_THROTTLED_METRIC, MAX_METRICS_PER_ALARM } from '../../infra/constructs/operations-metrics';
import { SENDER } from '../../infra/queue-settings';
import { CREDENTIAL_REASONS } from '../../lambda/domain/apns-answer';
import { JOBS_DEAD_LETTERED, METRICS_SERVICE, OUTCOME_METRICS } from '../../lambda/metric-names';
import {
  ACCOUNT,
  ALARM_EMAIL,
  REGION,
  type Resource,
  resourcesOf,
  synthDefaultStack,
  type synthStage,
} from './stack-fixture';

let synthesized: ReturnType<typeof synthStage>;
let resources: Record<string, Resource>;
beforeAll(() => {
  synthesized = synthDefaultStack();
  resources = resourcesOf(synthesized.template);
});

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const idOf = (type: string, match: (r: Resource) => boolean) => ofType(type).find(([, r]) => match(r))?.[0];
const alarm = (suffix: string) => {
  const found = [...ofType('AWS::CloudWatch::Alarm'), ...ofType('AWS::CloudWatch::CompositeAlarm')].find(
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

  it('lets CloudWatch publish — for this deployment’s alarms in this account only', () => {
    const topicId = ofType('AWS::SNS::Topic')[0]?.[0];
    const policies = ofType('AWS::SNS::TopicPolicy');
    expect(policies).toHaveLength(1);
    const statements = (
      (policies[0] as [string, Resource])[1].Properties.PolicyDocument as {
        Statement: { Effect: string; Principal: unknown; Action: unknown; Condition?: unknown }[];
      }
    ).Statement;
    const allow = statements.filter((s) => s.Effect === 'Allow');
    expect(allow).toEqual([
      expect.objectContaining({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: topicId },
        Condition: {
          StringEquals: { 'aws:SourceAccount': ACCOUNT },
          ArnLike: {
            'aws:SourceArn': {
              'Fn::Join': [
                '',
                ['arn:', { Ref: 'AWS::Partition' }, `:cloudwatch:${REGION}:${ACCOUNT}:alarm:prod-pushgate-*`],
              ],
            },
          },
        },
      }),
    ]);
  });

  it('every alarm notifies the topic when it fires and when it clears', () => {
    const topicId = ofType('AWS::SNS::Topic')[0]?.[0];
    const isRouteErrorsPart = (r: Resource) =>
      String(r.Properties.AlarmName).startsWith('prod-pushgate-RouteErrors-');
    const routeErrorParts = ofType('AWS::CloudWatch::Alarm').filter(([, r]) => isRouteErrorsPart(r));
    const alarms = [
      ...ofType('AWS::CloudWatch::Alarm').filter(([, r]) => !isRouteErrorsPart(r)),
      ...ofType('AWS::CloudWatch::CompositeAlarm'),
    ];
    expect(alarms.map(([, r]) => r.Properties.AlarmName).sort()).toEqual(
      [
        'ApiServerErrors',
        'ApiThrottles',
        'CredentialFailures',
        'DeadLetters',
        'DeadLettersWaiting',
        'DynamoDbThrottles',
        'FcmCredentialFailures',
        'RouteErrors',
        'SendBacklog',
        'SenderErrors',
        'SenderNearTimeout',
        'SenderThrottles',
      ].map((name) => `prod-pushgate-${name}`),
    );
    for (const [id, { Type, Properties }] of alarms) {
      expect(Properties.AlarmActions, id).toEqual([{ Ref: topicId }]);
      expect(Properties.OKActions, id).toEqual([{ Ref: topicId }]);
      if (Type === 'AWS::CloudWatch::CompositeAlarm') continue;
      expect(Properties.TreatMissingData, id).toBe('notBreaching');
      expect(Properties.ComparisonOperator, id).toBe('GreaterThanOrEqualToThreshold');
    }
    // The parts of RouteErrors notify nobody themselves: the composite does, once.
    for (const [id, { Properties }] of routeErrorParts) expect(Properties.AlarmActions, id).toBeUndefined();
  });

  it('no metric-math alarm uses more metrics than CloudWatch allows in one alarm', () => {
    expect(MAX_METRICS_PER_ALARM).toBe(10);
    const counts = ofType('AWS::CloudWatch::Alarm')
      .filter(([, r]) => r.Properties.Metrics !== undefined)
      .map(([, r]) => [r.Properties.AlarmName, mathMetrics(r.Properties).length] as const);
    expect(counts.length).toBeGreaterThanOrEqual(4);
    for (const [name, count] of counts)
      expect(count, String(name)).toBeLessThanOrEqual(MAX_METRICS_PER_ALARM);
  });
});

describe('alarms watch the right metric', () => {
  it('DLQ arrivals: each minute in which a job arrived (sent by the sender, or moved by SQS), so it clears between arrivals', () => {
    const dlq = idOf('AWS::SQS::Queue', (r) => r.Properties.RedrivePolicy === undefined);
    const properties = alarm('DeadLetters');
    const byId = Object.fromEntries(
      (
        properties.Metrics as {
          Id: string;
          Expression?: string;
          MetricStat?: MetricStat & { Period: number; Stat: string };
        }[]
      ).map((m) => [m.Id, m]),
    );
    expect(Object.values(byId).find((m) => m.Expression)?.Expression).toBe(
      'MAX([FILL(sent, 0), FILL(DIFF(visible + held), 0)])',
    );
    const queueDimension = [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }];
    expect(byId.sent?.MetricStat).toMatchObject({
      Metric: { Namespace: 'AWS/SQS', MetricName: 'NumberOfMessagesSent', Dimensions: queueDimension },
      Period: 60,
      Stat: 'Sum',
    });
    // Visible and held (in flight) together: a redrive pass hides the jobs while it looks and
    // releases them when it ends, which must not read as an arrival.
    for (const [id, metricName] of [
      ['visible', 'ApproximateNumberOfMessagesVisible'],
      ['held', 'ApproximateNumberOfMessagesNotVisible'],
    ] as const) {
      expect(byId[id]?.MetricStat).toMatchObject({
        Metric: { Namespace: 'AWS/SQS', MetricName: metricName, Dimensions: queueDimension },
        Period: 60,
        Stat: 'Maximum',
      });
    }
    expect(properties).toMatchObject({ Threshold: 1, EvaluationPeriods: 1 });
  });

  it('DLQ waiting: a job left on the dead-letter queue for a day', () => {
    const dlq = idOf('AWS::SQS::Queue', (r) => r.Properties.RedrivePolicy === undefined);
    expect(alarm('DeadLettersWaiting')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: 86_400,
    });
  });

  it('sender duration: the longest invocation reached 80% of the sender’s timeout', () => {
    const sender = idOf('AWS::Lambda::Function', (r) => String(r.Properties.Description).includes('sender'));
    expect(alarm('SenderNearTimeout')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Duration',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: sender } }],
      Statistic: 'Maximum',
      Threshold: SENDER.timeoutSeconds * 1000 * 0.8,
    });
  });

  it('API throttling: requests answered 429, counted from the access log', () => {
    const accessLogs = idOf('AWS::Logs::LogGroup', (r) => r.Properties.RetentionInDays === 90);
    const [, filter] = ofType('AWS::Logs::MetricFilter')[0] as [string, Resource];
    expect(filter.Properties).toEqual({
      LogGroupName: { Ref: accessLogs },
      FilterPattern: '{ $.status = "429" }',
      MetricTransformations: [
        { MetricNamespace: 'prod-pushgate', MetricName: API_THROTTLED_METRIC, MetricValue: '1' },
      ],
    });
    expect(alarm('ApiThrottles')).toMatchObject({
      Namespace: 'prod-pushgate',
      MetricName: API_THROTTLED_METRIC,
      Statistic: 'Sum',
      Threshold: 1,
    });
  });

  it('route function errors: every route’s function, in parts of at most 10, behind one composite alarm', () => {
    const routeFunctions = ofType('AWS::Lambda::Function')
      .filter(([, r]) => !String(r.Properties.Description).includes('sender'))
      .map(([id]) => id);
    expect(routeFunctions).toHaveLength(API_ROUTES.length);
    const parts = ofType('AWS::CloudWatch::Alarm').filter(([, r]) =>
      String(r.Properties.AlarmName).startsWith('prod-pushgate-RouteErrors-'),
    );
    expect(parts).toHaveLength(Math.ceil(API_ROUTES.length / MAX_METRICS_PER_ALARM));
    const watched = parts.flatMap(([, r]) =>
      mathMetrics(r.Properties).map((m) => {
        expect(m.MetricStat?.Metric.MetricName).toBe('Errors');
        return JSON.stringify(m.MetricStat?.Metric.Dimensions[0]?.Value);
      }),
    );
    expect(watched.sort()).toEqual(routeFunctions.map((id) => JSON.stringify({ Ref: id })).sort());
    const rule = JSON.stringify(alarm('RouteErrors').AlarmRule);
    for (const [id] of parts) expect(rule).toContain(id);
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
    const deployed = [
      ...ofType('AWS::CloudWatch::Alarm').map(([, r]) => String(r.Properties.AlarmName)),
      ...ofType('AWS::CloudWatch::CompositeAlarm').map(([, r]) => String(r.Properties.AlarmName)),
    ]
      // The parts of RouteErrors are documented with it.
      .filter((name) => !/-RouteErrors-\d+$/.test(name))
      .map((name) => name.replace(/^prod-pushgate-/, ''));
    const sections = [...runbook.matchAll(/^### (\w+) — /gm)].map(([, name]) => name);
    expect(sections.sort()).toEqual(deployed.sort());
  });

  it('names every reason a credential failure is dead-lettered with', () => {
    for (const reason of CREDENTIAL_FAILURE_REASONS) expect(runbook, reason).toContain(`\`${reason}\``);
  });
});
