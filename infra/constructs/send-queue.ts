import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SEND_QUEUE } from '../queue-settings';

/**
 * The send queue and its dead-letter queue — the same settings the offline stack
 * uses (local/queues.ts) — and an alarm that fires as soon as anything lands in
 * the DLQ.
 */
export class SendQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly deadLetterAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      retentionPeriod: Duration.days(SEND_QUEUE.deadLetterRetentionDays),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(this.deadLetterQueue).acknowledge(
      { id: 'AwsSolutions-SQS3', reason: 'This is the dead-letter queue; it has none of its own.' },
      { id: 'Serverless-SQSRedrivePolicy', reason: 'This is the dead-letter queue; it has none of its own.' },
    );
    this.queue = new sqs.Queue(this, 'Queue', {
      visibilityTimeout: Duration.seconds(SEND_QUEUE.visibilityTimeoutSeconds),
      retentionPeriod: Duration.days(SEND_QUEUE.retentionDays),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: SEND_QUEUE.maxReceiveCount },
    });
    this.deadLetterAlarm = new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
      alarmDescription:
        'pushgate: notifications reached the dead-letter queue. Read pushgate-failure-reason on the messages, fix, then redrive.',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
