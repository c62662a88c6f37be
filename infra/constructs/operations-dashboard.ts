import { Duration } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { PushgateMetrics } from './operations-metrics';

/**
 * The operator's CloudWatch dashboard: sends and outcomes, the alarms' states, the
 * queues, errors and latency, three widgets a row. Changes when what an operator
 * wants to see at a glance does; the alarms themselves are operations.ts.
 */

/** What the dashboard draws (OperationsProps has each). */
export interface DashboardSources {
  /** The dashboard's name. */
  name: string;
  alarms: { backlogAgeSeconds: number };
  sendQueue: sqs.IQueue;
  deadLetterQueue: sqs.IQueue;
  sender: lambda.IFunction;
  api: apigwv2.IHttpApi;
}

export function operationsDashboard(
  scope: Construct,
  props: DashboardSources,
  metrics: PushgateMetrics,
  alarms: readonly cloudwatch.AlarmBase[],
): cloudwatch.Dashboard {
  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', {
    dashboardName: props.name,
    defaultInterval: Duration.hours(3),
  });
  const width = 8;
  const height = 6;
  const sum = { statistic: 'Sum', period: Duration.minutes(1) };
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Sends: jobs in, notifications out',
      width,
      height,
      left: [
        props.sendQueue.metricNumberOfMessagesSent({ ...sum, label: 'jobs put on the send queue' }),
        ...metrics.outcomes(),
      ],
    }),
    new cloudwatch.GraphWidget({
      title: 'Outcomes by reason',
      width,
      height,
      left: [metrics.outcomesByReason()],
    }),
    new cloudwatch.AlarmStatusWidget({
      title: 'Alarms',
      width,
      height,
      alarms: [...alarms],
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Send queue depth',
      width,
      height,
      left: [
        props.sendQueue.metricApproximateNumberOfMessagesVisible({ label: 'waiting' }),
        props.sendQueue.metricApproximateNumberOfMessagesNotVisible({ label: 'being sent' }),
        props.sendQueue.metric('ApproximateNumberOfMessagesDelayed', {
          label: 'delayed (retries, re-pushes)',
        }),
      ],
    }),
    new cloudwatch.GraphWidget({
      title: 'Oldest job on the send queue (s)',
      width,
      height,
      left: [props.sendQueue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum' })],
      leftAnnotations: [{ value: props.alarms.backlogAgeSeconds, label: 'backlog alarm' }],
    }),
    new cloudwatch.GraphWidget({
      title: 'Dead-letter queue depth',
      width,
      height,
      left: [
        props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum' }),
        metrics.deadLetteredJobs(),
      ],
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Errors',
      width,
      height,
      left: [
        props.sender.metricErrors({ ...sum, label: 'sender errors' }),
        props.sender.metricThrottles({ ...sum, label: 'sender throttles' }),
        props.api.metricServerError({ ...sum, label: 'API 5xx' }),
        props.api.metricClientError({ ...sum, label: 'API 4xx' }),
        metrics.tableThrottles(),
      ],
    }),
    new cloudwatch.GraphWidget({
      title: 'API latency (ms)',
      width,
      height,
      left: [
        props.api.metricLatency({ statistic: 'p50', label: 'p50' }),
        props.api.metricLatency({ statistic: 'p99', label: 'p99' }),
        props.api.metricIntegrationLatency({ statistic: 'p99', label: 'integration p99' }),
      ],
    }),
    new cloudwatch.GraphWidget({
      title: 'Sender duration (ms) and concurrency',
      width,
      height,
      left: [
        props.sender.metricDuration({ statistic: 'p50', label: 'p50' }),
        props.sender.metricDuration({ statistic: 'p99', label: 'p99' }),
        props.sender.metricDuration({ statistic: 'Maximum', label: 'max' }),
      ],
      right: [props.sender.metric('ConcurrentExecutions', { statistic: 'Maximum', label: 'concurrent' })],
    }),
  );
  return dashboard;
}
