import { ArnFormat, type Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CREDENTIAL_REASONS } from '../../lambda/domain/apns-answer';
import { FCM_CREDENTIAL_ALARM, FCM_CREDENTIAL_CODES } from '../../lambda/domain/fcm-answer';
import { operationsDashboard } from './operations-dashboard';
import { FIVE_MINUTES, MAX_METRICS_PER_ALARM, PushgateMetrics, sumOf } from './operations-metrics';

/** The reasons a job is dead-lettered for when our APNs credentials are missing or wrong. */
export const CREDENTIAL_FAILURE_REASONS = ['CredentialsUnavailable', ...CREDENTIAL_REASONS];
/**
 * The reasons a job is dead-lettered for when FCM refuses our service-account key (after
 * one fresh access token). Their own alarm: an alarm's metric math takes at most 10 metrics.
 * A missing or placeholder FCM secret is CredentialsUnavailable, in the alarm above.
 */
export const FCM_CREDENTIAL_FAILURE_REASONS = [...FCM_CREDENTIAL_CODES];
/** The sender's duration alarm fires at this share of its timeout: it stops starting chunks well before. */
export const SENDER_DURATION_ALARM_SHARE = 0.8;
/** How long jobs may sit on the DLQ before DeadLettersWaiting reminds that they wait for a decision. */
export const DEAD_LETTERS_WAITING_SECONDS = 86_400;

export interface OperationsProps {
  /** The deployment's name: prefix of the alarms' and the dashboard's names. */
  name: string;
  /** The namespace the functions publish their metrics in. */
  metricsNamespace: string;
  alarms: { emails: readonly string[]; topicArn?: string | undefined; backlogAgeSeconds: number };
  sendQueue: sqs.IQueue;
  deadLetterQueue: sqs.IQueue;
  sender: lambda.IFunction;
  /** The sender's timeout: its duration alarm fires near it. */
  senderTimeout: Duration;
  /** The API's route functions, whose errors (crashes, timeouts) one alarm watches. */
  routeFunctions: readonly lambda.IFunction[];
  api: apigwv2.IHttpApi;
  /** The API's JSON access log, from which refused (429) requests are counted. */
  apiAccessLogs: logs.ILogGroup;
  devicesTableName: string;
  notificationsTableName: string;
}

/**
 * What an operator watches: an SNS topic (mail subscriptions from the config, or a
 * topic of your own) that every alarm notifies when it fires and when it clears,
 * and a dashboard of sends, outcomes, the queues, errors and latency
 * (operations-dashboard.ts), both drawn from the metrics of operations-metrics.ts.
 */
export class Operations extends Construct {
  readonly topic: sns.ITopic;
  readonly alarms: Readonly<Record<AlarmName, cloudwatch.AlarmBase>>;
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    this.topic = this.alarmTopic(props);
    const metrics = new PushgateMetrics(this, props);
    this.alarms = this.createAlarms(props, metrics);
    for (const alarm of Object.values(this.alarms)) {
      alarm.addAlarmAction(new actions.SnsAction(this.topic));
      alarm.addOkAction(new actions.SnsAction(this.topic));
    }
    this.dashboard = operationsDashboard(this, props, metrics, Object.values(this.alarms));
  }

  private alarmTopic(props: OperationsProps): sns.ITopic {
    let topic: sns.ITopic;
    if (props.alarms.topicArn !== undefined) {
      topic = sns.Topic.fromTopicArn(this, 'Topic', props.alarms.topicArn);
    } else {
      const created = new sns.Topic(this, 'Topic', { displayName: `${props.name} alarms`, enforceSSL: true });
      // With a topic policy (enforceSSL makes one), CloudWatch may publish only if it allows it:
      // this deployment's alarms, in this account.
      const stack = Stack.of(this);
      created.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'CloudWatchAlarmsPublish',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['sns:Publish'],
          resources: [created.topicArn],
          conditions: {
            StringEquals: { 'aws:SourceAccount': stack.account },
            ArnLike: {
              'aws:SourceArn': stack.formatArn({
                service: 'cloudwatch',
                resource: 'alarm',
                resourceName: `${props.name}-*`,
                arnFormat: ArnFormat.COLON_RESOURCE_NAME,
              }),
            },
          },
        }),
      );
      Validations.of(created).acknowledge({
        id: 'AwsSolutions-SNS2',
        reason:
          'Alarm notifications carry alarm names and metric values, no user data; CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key, and a customer-managed key only for this is not worth its cost.',
      });
      topic = created;
    }
    for (const email of props.alarms.emails) {
      const subscription = new sns.Subscription(this, `Mail-${email}`, {
        topic,
        endpoint: email,
        protocol: sns.SubscriptionProtocol.EMAIL,
      });
      Validations.of(subscription).acknowledge({
        id: 'Serverless-SNSRedrivePolicy',
        reason:
          'An email subscription has nothing to redrive; a failed mail is retried by SNS and the alarm stays visible in CloudWatch.',
      });
    }
    return topic;
  }

  private createAlarms(
    props: OperationsProps,
    metrics: PushgateMetrics,
  ): Record<AlarmName, cloudwatch.AlarmBase> {
    const alarm = (
      id: AlarmName,
      description: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      options: { evaluationPeriods?: number } = {},
    ) =>
      new cloudwatch.Alarm(this, id, {
        alarmName: `${props.name}-${id}`,
        alarmDescription: `${props.name}: ${description}`,
        metric,
        threshold,
        evaluationPeriods: options.evaluationPeriods ?? 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    return {
      DeadLetters: alarm(
        'DeadLetters',
        'jobs reached the dead-letter queue in the last minute (it fires again for each later arrival). `npm run redrive -- --dry-run` lists them by pushgate-failure-reason; fix the cause, then `npm run redrive`, or discard what can never succeed.',
        metrics.deadLetterArrivals(),
        1,
      ),
      DeadLettersWaiting: alarm(
        'DeadLettersWaiting',
        `a job has waited on the dead-letter queue for ${DEAD_LETTERS_WAITING_SECONDS / 3600} hours: redrive it or discard it before its retention ends.`,
        props.deadLetterQueue.metricApproximateAgeOfOldestMessage({
          period: FIVE_MINUTES,
          statistic: 'Maximum',
        }),
        DEAD_LETTERS_WAITING_SECONDS,
      ),
      SenderErrors: alarm(
        'SenderErrors',
        'the sender Lambda failed whole invocations (crash or timeout); its messages come back and, after 5 tries, reach the DLQ. Read its logs.',
        props.sender.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
        1,
      ),
      SenderNearTimeout: alarm(
        'SenderNearTimeout',
        `a sender invocation ran ${SENDER_DURATION_ALARM_SHARE * 100}% of its ${props.senderTimeout.toSeconds()} s timeout: a slow APNs or DynamoDB is eating the time budget; timed-out batches come back and, after 5 tries, reach the DLQ.`,
        props.sender.metricDuration({ period: FIVE_MINUTES, statistic: 'Maximum' }),
        props.senderTimeout.toMilliseconds() * SENDER_DURATION_ALARM_SHARE,
      ),
      SenderThrottles: alarm(
        'SenderThrottles',
        'Lambda throttled the sender: the account is out of concurrency. Raise the quota, or lower sender.maxConcurrency.',
        props.sender.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
        1,
      ),
      SendBacklog: alarm(
        'SendBacklog',
        `the oldest job on the send queue waited ${props.alarms.backlogAgeSeconds} s or more: the sender is not keeping up or not running.`,
        props.sendQueue.metricApproximateAgeOfOldestMessage({ period: FIVE_MINUTES, statistic: 'Maximum' }),
        props.alarms.backlogAgeSeconds,
      ),
      ApiServerErrors: alarm(
        'ApiServerErrors',
        'the HTTP API answered 5xx (our fault, never the caller’s) 5 or more times in 5 minutes. Read the access logs and the route functions’ logs.',
        props.api.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
        5,
      ),
      ApiThrottles: alarm(
        'ApiThrottles',
        'the HTTP API refused requests with 429 (its throttling, api.throttle): callers must retry; raise the limits if the traffic is legitimate.',
        metrics.apiThrottled(),
        1,
      ),
      RouteErrors: this.routeErrorsAlarm(props),
      DynamoDbThrottles: alarm(
        'DynamoDbThrottles',
        'DynamoDB throttled reads or writes on the Devices or Notifications table (or the byUser index).',
        metrics.tableThrottles(),
        1,
      ),
      CredentialFailures: alarm(
        'CredentialFailures',
        'jobs failed because an app’s APNs credentials are missing (a secret still holding its placeholder, no read permission) or refused by Apple. The DLQ detail names the secret; fix it, then redrive.',
        metrics.credentialFailures(CREDENTIAL_FAILURE_REASONS, 'jobs failed on APNs credentials'),
        1,
      ),
      // Named by the constant the FCM answer table (and docs/fcm.md) names it by.
      [FCM_CREDENTIAL_ALARM]: alarm(
        FCM_CREDENTIAL_ALARM,
        'jobs failed because FCM refused an app’s service-account key twice (revoked or deleted key, no Firebase Cloud Messaging permission, wrong project). Put a working key in the app’s FCM secret, then redrive.',
        metrics.credentialFailures(FCM_CREDENTIAL_FAILURE_REASONS, 'jobs failed on FCM credentials'),
        1,
      ),
    };
  }

  /**
   * Any route function failed an invocation (crash, timeout, Lambda throttle; a handled
   * error is an HTTP answer, not a function error). One alarm over every route, however
   * many: a composite of metric-math alarms of at most MAX_METRICS_PER_ALARM functions each.
   */
  private routeErrorsAlarm(props: OperationsProps): cloudwatch.CompositeAlarm {
    const groups: lambda.IFunction[][] = [];
    props.routeFunctions.forEach((fn, index) => {
      if (index % MAX_METRICS_PER_ALARM === 0) groups.push([]);
      groups.at(-1)?.push(fn);
    });
    const members = groups.map(
      (group, index) =>
        new cloudwatch.Alarm(this, `RouteErrors${index + 1}`, {
          alarmName: `${props.name}-RouteErrors-${index + 1}`,
          alarmDescription: `${props.name}: part of RouteErrors (its actions are there).`,
          metric: sumOf(
            group.map((fn) => fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' })),
            'route function errors',
          ),
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
    );
    return new cloudwatch.CompositeAlarm(this, 'RouteErrors', {
      compositeAlarmName: `${props.name}-RouteErrors`,
      alarmDescription: `${props.name}: an API route function crashed, timed out or was throttled (callers got 5xx). Read that function's logs.`,
      alarmRule: cloudwatch.AlarmRule.anyOf(
        ...members.map((member) => cloudwatch.AlarmRule.fromAlarm(member, cloudwatch.AlarmState.ALARM)),
      ),
    });
  }
}

export type AlarmName =
  | 'DeadLetters'
  | 'DeadLettersWaiting'
  | 'SenderErrors'
  | 'SenderNearTimeout'
  | 'SenderThrottles'
  | 'SendBacklog'
  | 'ApiServerErrors'
  | 'ApiThrottles'
  | 'RouteErrors'
  | 'DynamoDbThrottles'
  | 'CredentialFailures'
  | typeof FCM_CREDENTIAL_ALARM;
