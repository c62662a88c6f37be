import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { DEVICES_TABLE } from '../../lambda/adapters/secondary/devices-keys';
import {
  JOBS_DEAD_LETTERED,
  METRICS_SERVICE,
  OUTCOME_METRICS,
  REASON_DIMENSION,
} from '../../lambda/metric-names';

/**
 * The metrics the alarms and the dashboard are drawn from: the sender's own
 * (lambda/metric-names.ts), the dead-letter queue's arrivals, the API's refusals
 * counted from its access log, DynamoDB throttling — and the one rule on summing
 * them (CloudWatch's limit per alarm). Changes when what is measured does; which
 * alarm fires on it is operations.ts, how it is drawn operations-dashboard.ts.
 */

/** The period of every alarm's metric. */
export const FIVE_MINUTES = Duration.minutes(5);
/** CloudWatch refuses a metric-math alarm over more metrics than this. */
export const MAX_METRICS_PER_ALARM = 10;
/** Requests the API refused with 429 (throttling), counted from its access log. */
export const API_THROTTLED_METRIC = 'ApiRequestsThrottled';

/** What the metrics are read from (OperationsProps has each). */
export interface MetricSources {
  /** The namespace the functions publish their metrics in. */
  metricsNamespace: string;
  deadLetterQueue: sqs.IQueue;
  /** The API's JSON access log, from which refused (429) requests are counted. */
  apiAccessLogs: logs.ILogGroup;
  devicesTableName: string;
  notificationsTableName: string;
}

/** The sender's own metrics (lambda/metric-names.ts) and the DynamoDB throttling sum. */
export class PushgateMetrics {
  constructor(
    private readonly scope: Construct,
    private readonly props: MetricSources,
  ) {}

  outcomes(): cloudwatch.Metric[] {
    return Object.values(OUTCOME_METRICS).map((metricName) => this.metric(metricName, {}, metricName));
  }

  outcomesByReason(): cloudwatch.MathExpression {
    const namespace = this.props.metricsNamespace;
    return new cloudwatch.MathExpression({
      expression: `SEARCH('{"${namespace}",${REASON_DIMENSION},service} service="${METRICS_SERVICE}"', 'Sum', 300)`,
      label: '',
      period: FIVE_MINUTES,
    });
  }

  deadLetteredJobs(): cloudwatch.MathExpression {
    const namespace = this.props.metricsNamespace;
    return new cloudwatch.MathExpression({
      expression: `SUM(SEARCH('{"${namespace}",${REASON_DIMENSION},service} MetricName="${JOBS_DEAD_LETTERED}"', 'Sum', 60))`,
      label: 'jobs dead-lettered by the sender',
      period: Duration.minutes(1),
    });
  }

  /**
   * Jobs that arrived on the DLQ per minute: what the sender put there (NumberOfMessagesSent)
   * or, for what SQS moved after maxReceiveCount (which that metric does not count), the
   * rise in depth — so the alarm clears after each arrival instead of staying in ALARM
   * while the job waits there for 14 days. The depth counts held messages too: `npm run
   * redrive` (even a dry run) hides every job while it looks, and makes them visible again
   * when it ends; visible messages alone would rise then and raise a false alarm.
   */
  deadLetterArrivals(): cloudwatch.MathExpression {
    const dlq = this.props.deadLetterQueue;
    const minute = Duration.minutes(1);
    return new cloudwatch.MathExpression({
      expression: 'MAX([FILL(sent, 0), FILL(DIFF(visible + held), 0)])',
      usingMetrics: {
        sent: dlq.metricNumberOfMessagesSent({ period: minute, statistic: 'Sum' }),
        visible: dlq.metricApproximateNumberOfMessagesVisible({ period: minute, statistic: 'Maximum' }),
        held: dlq.metricApproximateNumberOfMessagesNotVisible({ period: minute, statistic: 'Maximum' }),
      },
      label: 'jobs arrived on the dead-letter queue',
      period: minute,
    });
  }

  /** Requests the API answered 429, from the access log's status (no HTTP API metric counts them). */
  apiThrottled(): cloudwatch.Metric {
    const filter = new logs.MetricFilter(this.scope, 'ApiThrottledFilter', {
      logGroup: this.props.apiAccessLogs,
      filterPattern: logs.FilterPattern.stringValue('$.status', '=', '429'),
      metricNamespace: this.props.metricsNamespace,
      metricName: API_THROTTLED_METRIC,
      metricValue: '1',
    });
    return filter.metric({ period: FIVE_MINUTES, statistic: 'Sum' });
  }

  /** Jobs dead-lettered for a credential reason, whichever one. */
  credentialFailures(reasons: readonly string[], label: string): cloudwatch.MathExpression {
    return sumOf(
      reasons.map((reason) => this.metric(JOBS_DEAD_LETTERED, { [REASON_DIMENSION]: reason }, reason)),
      label,
    );
  }

  /** Throttled reads and writes on both tables and the Devices table's indexes. */
  tableThrottles(): cloudwatch.MathExpression {
    const { devicesTableName, notificationsTableName } = this.props;
    const sources: Record<string, string>[] = [
      { TableName: devicesTableName },
      { TableName: devicesTableName, GlobalSecondaryIndexName: DEVICES_TABLE.userIndex.name },
      { TableName: devicesTableName, GlobalSecondaryIndexName: DEVICES_TABLE.liveActivityIndex.name },
      { TableName: notificationsTableName },
    ];
    return sumOf(
      sources.flatMap((dimensionsMap) =>
        ['ReadThrottleEvents', 'WriteThrottleEvents'].map(
          (metricName) =>
            new cloudwatch.Metric({
              namespace: 'AWS/DynamoDB',
              metricName,
              dimensionsMap,
              statistic: 'Sum',
              period: FIVE_MINUTES,
            }),
        ),
      ),
      'DynamoDB throttled requests',
    );
  }

  private metric(metricName: string, dimensions: Record<string, string>, label: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.props.metricsNamespace,
      metricName,
      dimensionsMap: { service: METRICS_SERVICE, ...dimensions },
      statistic: 'Sum',
      period: FIVE_MINUTES,
      label,
    });
  }
}

/**
 * The sum of metrics (a missing one counts 0), refused at synth past what CloudWatch
 * takes in one alarm — adding a table index or an APNs reason must not break the deploy.
 */
export function sumOf(metrics: readonly cloudwatch.IMetric[], label: string): cloudwatch.MathExpression {
  if (metrics.length > MAX_METRICS_PER_ALARM) {
    throw new Error(
      `"${label}" sums ${metrics.length} metrics; a CloudWatch alarm takes at most ${MAX_METRICS_PER_ALARM}: split it.`,
    );
  }
  const usingMetrics = Object.fromEntries(metrics.map((metric, index) => [`m${index}`, metric]));
  return new cloudwatch.MathExpression({
    expression: Object.keys(usingMetrics)
      .map((id) => `FILL(${id}, 0)`)
      .join(' + '),
    usingMetrics,
    label,
    period: FIVE_MINUTES,
  });
}
