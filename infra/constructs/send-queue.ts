import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENVIRONMENT, type EnvironmentVariable } from '../../lambda/environment';
import type { SqsAction } from '../function-access';
import { SEND_QUEUE } from '../queue-settings';
import type { Binding } from './pushgate-function';

export interface SendQueuePublishers {
  /** Other AWS accounts allowed to send jobs (their own IAM policies must allow it too). */
  accounts: readonly string[];
  /** SNS topics whose subscriptions deliver to the queue. */
  snsTopicArns: readonly string[];
  /** EventBridge rules that target the queue. */
  eventBridgeRuleArns: readonly string[];
}

/**
 * The send queue and its dead-letter queue — the same settings the offline stack
 * uses (local/queues.ts). Same-account publishers need only IAM; the queue policy
 * admits the configured other accounts, SNS topics and EventBridge rules.
 */
export class SendQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: { publishers: SendQueuePublishers }) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      retentionPeriod: Duration.days(SEND_QUEUE.deadLetterRetentionDays),
      maxMessageSizeBytes: SEND_QUEUE.maxMessageBytes,
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
      maxMessageSizeBytes: SEND_QUEUE.maxMessageBytes,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: SEND_QUEUE.maxReceiveCount },
    });

    const { accounts, snsTopicArns, eventBridgeRuleArns } = props.publishers;
    if (accounts.length > 0) {
      this.queue.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'OtherAccountsSendJobs',
          principals: accounts.map((account) => new iam.AccountPrincipal(account)),
          actions: ['sqs:SendMessage'],
          resources: [this.queue.queueArn],
        }),
      );
    }
    const services = [
      ['SnsTopicsSendJobs', 'sns.amazonaws.com', snsTopicArns],
      ['EventBridgeRulesSendJobs', 'events.amazonaws.com', eventBridgeRuleArns],
    ] as const;
    for (const [sid, service, sources] of services) {
      if (sources.length === 0) continue;
      this.queue.addToResourcePolicy(
        new iam.PolicyStatement({
          sid,
          principals: [new iam.ServicePrincipal(service)],
          actions: ['sqs:SendMessage'],
          resources: [this.queue.queueArn],
          // Only these topics or rules, not every one of the service's customers.
          conditions: { ArnEquals: { 'aws:SourceArn': [...sources] } },
        }),
      );
    }
  }

  /** The send queue's URL for a function that puts jobs on it, with exactly these actions on it. */
  sendJobs(actions: readonly SqsAction[]): Binding {
    return queueBinding(ENVIRONMENT.sendQueue, this.queue, actions);
  }

  /** The dead-letter queue's URL for the sender, which moves jobs that cannot succeed there. */
  deadLetters(actions: readonly SqsAction[]): Binding {
    return queueBinding(ENVIRONMENT.deadLetterQueue, this.deadLetterQueue, actions);
  }
}

/**
 * Not queue.grantSendMessages(): that adds GetQueueAttributes and GetQueueUrl, which
 * the functions never call. The queues are SSE-SQS encrypted, so no key grant is needed.
 */
function queueBinding(
  variable: EnvironmentVariable,
  queue: sqs.Queue,
  actions: readonly SqsAction[],
): Binding {
  return {
    variable,
    value: queue.queueUrl,
    grant: (grantee) => {
      iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: [queue.queueArn] });
    },
  };
}
