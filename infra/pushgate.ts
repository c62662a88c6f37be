import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENVIRONMENT } from '../lambda/environment';
import { API_ROUTES, handlerEntry } from './api-routes';
import { ApnsCredentials } from './constructs/apns-credentials';
import { DevicesTable } from './constructs/devices-table';
import { PushgateHttpApi } from './constructs/http-api';
import { NotificationsTable } from './constructs/notifications-table';
import { type AlarmName, Operations } from './constructs/operations';
import { type Binding, PushgateFunction } from './constructs/pushgate-function';
import { SendQueue } from './constructs/send-queue';
import { type FunctionAccess, SENDER_ACCESS } from './function-access';
import { type PushgateProps, type ResolvedPushgateProps, resolvePushgateProps } from './pushgate-props';
import { SEND_QUEUE, SENDER } from './queue-settings';

/**
 * pushgate in your own CDK app:
 *
 * ```ts
 * const push = new Pushgate(this, 'Push', {
 *   apps: [{ appId: 'com.acme.chat', bundleId: 'com.acme.chat' }],
 *   auth: { cognito: { callbackUrls: ['com.acme.chat://signed-in'] } },
 *   alarms: { emails: ['oncall@acme.com'] },
 * });
 * push.sendQueue.grantSendMessages(myBackend);
 * ```
 *
 * The Devices and Notifications tables, the HTTP API with one Lambda per route, the
 * send queue with its DLQ, the sender, each app's APNs credentials secret, alarms
 * that notify an SNS topic, and a dashboard. Everything is exposed for further
 * wiring. Stateful resources (tables, secrets, user pool) are retained and
 * deletion-protected, and their construct ids never depend on the configuration, so
 * a redeploy with other settings never replaces them.
 */
export class Pushgate extends Construct {
  /** The props with every default filled in. */
  readonly config: ResolvedPushgateProps;
  /** The prefix of every name the deployment gives; also its metrics namespace. */
  readonly name: string;
  readonly metricsNamespace: string;
  readonly devicesTable: dynamodb.Table;
  readonly notificationsTable: dynamodb.Table;
  readonly sendQueue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly httpApi: apigwv2.HttpApi;
  /** The URL apps and backends use (the custom domain's when configured). */
  readonly apiUrl: string;
  readonly http: PushgateHttpApi;
  readonly sender: NodejsFunction;
  /** The API's functions by route name (api-routes.ts). */
  readonly routeFunctions: Readonly<Record<string, NodejsFunction>>;
  /** Each app's APNs credentials secret, by app id. */
  readonly credentialsSecrets: ReadonlyMap<string, secretsmanager.ISecret>;
  /** Each FCM-enabled app's service-account key secret, by app id. */
  readonly fcmCredentialsSecrets: ReadonlyMap<string, secretsmanager.ISecret>;
  readonly userPool?: cognito.UserPool;
  readonly userPoolClient?: cognito.UserPoolClient;
  readonly alarmTopic: sns.ITopic;
  readonly alarms: Readonly<Record<AlarmName, cloudwatch.AlarmBase>>;
  readonly dashboard: cloudwatch.Dashboard;
  /** A managed policy for backends in this account that send notifications (queue or API). */
  readonly publisherPolicy: iam.ManagedPolicy;
  /** With `publishers.accounts`: the role those accounts assume to call the API (the queue admits them directly). */
  readonly publisherRole?: iam.Role;

  constructor(scope: Construct, id: string, props: PushgateProps) {
    super(scope, id);
    const config = resolvePushgateProps(props);
    this.config = config;
    this.name = config.name;
    this.metricsNamespace = config.name;
    checkRegions(Stack.of(this).region, config);

    const devices = new DevicesTable(this, 'Devices');
    const notifications = new NotificationsTable(this, 'Notifications');
    const queues = new SendQueue(this, 'Send', { publishers: config.publishers });
    const credentials = new ApnsCredentials(this, 'Apns', { name: config.name, apps: config.apps });
    this.http = new PushgateHttpApi(this, 'Http', {
      name: config.name,
      auth: config.auth,
      domain: config.domain,
      throttle: config.api.throttle,
    });

    /**
     * Where a function's data is and its grants on it, from its access data
     * (function-access.ts) — the grants offline mode holds its invocations to.
     */
    const accessBindings = (access: FunctionAccess): Binding[] => {
      const bindings = [
        access.apnsCredentials?.length
          ? credentials.appsForSender(access.apnsCredentials)
          : credentials.appsForRoutes(),
      ];
      const onDevices = access.devices ?? {};
      if (onDevices.table?.length || onDevices.userIndex?.length || onDevices.liveActivityIndex?.length) {
        bindings.push(devices.access(onDevices), {
          variable: ENVIRONMENT.maxDevicesPerUser,
          value: String(config.devices.maxPerUser),
          grant: () => {},
        });
      }
      if (access.notifications?.length) {
        bindings.push(
          notifications.access(access.notifications, {
            providerTokens: (access.apnsCredentials?.length ?? 0) > 0,
          }),
        );
      }
      if (access.sendQueue?.length) bindings.push(queues.sendJobs(access.sendQueue));
      if (access.deadLetterQueue?.length) bindings.push(queues.deadLetters(access.deadLetterQueue));
      return bindings;
    };

    const routeFunctions: Record<string, NodejsFunction> = {};
    for (const route of API_ROUTES) {
      const fn = new PushgateFunction(this, route.name, {
        entry: handlerEntry(route.name),
        description: `${config.name} ${route.method} ${route.path}`,
        metricsNamespace: this.metricsNamespace,
      });
      fn.bind(...accessBindings(route));
      this.http.addRoute(route, fn.function);
      Validations.of(fn.function).acknowledge({
        id: 'Serverless-LambdaDLQ',
        reason:
          'API Gateway invokes this function synchronously and gets its error; a DLQ only catches asynchronous invocations.',
      });
      routeFunctions[route.name] = fn.function;
    }

    if (SEND_QUEUE.visibilityTimeoutSeconds < 6 * SENDER.timeoutSeconds) {
      throw new Error('The send queue visibility timeout must be at least six times the sender timeout.');
    }
    const sender = new PushgateFunction(this, 'sender', {
      entry: 'lambda/adapters/primary/deliver-notifications/handler.ts',
      description: `${config.name} sender: send queue → APNs`,
      metricsNamespace: this.metricsNamespace,
      memorySize: SENDER.memoryMb,
      timeout: Duration.seconds(SENDER.timeoutSeconds),
      // The sender feeds its own queue on purpose: retries, continuations and re-push rounds
      // not yet due go back in 15-minute hops, and a job may ask for rounds up to 7 days out.
      // Lambda's loop detection would stop such a chain after about 16 hops (≈ 4 hours) and
      // drop the message; every chain here ends by itself (rounds and attempts are bounded).
      recursiveLoop: lambda.RecursiveLoop.ALLOW,
      ...(config.sender.reservedConcurrency === undefined
        ? {}
        : { reservedConcurrentExecutions: config.sender.reservedConcurrency }),
    });
    sender.bind(...accessBindings(SENDER_ACCESS));
    sender.function.addEventSource(
      new SqsEventSource(queues.queue, {
        batchSize: SENDER.batchSize,
        maxBatchingWindow: Duration.seconds(SENDER.maxBatchingWindowSeconds),
        maxConcurrency: config.sender.maxConcurrency,
        reportBatchItemFailures: true,
        enabled: !config.sender.paused,
      }),
    );
    Validations.of(sender.function).acknowledge(
      {
        id: 'Serverless-LambdaDLQ',
        reason:
          'The SQS event source invokes the sender synchronously; failed messages return to the send queue, whose redrive policy moves them to its DLQ.',
      },
      {
        id: 'Serverless-LambdaEventSourceMappingDestination',
        reason:
          'SQS event source mappings take no on-failure destination; the send queue’s redrive policy is that destination (its DLQ, alarmed).',
      },
    );

    const operations = new Operations(this, 'Operations', {
      name: config.name,
      metricsNamespace: this.metricsNamespace,
      alarms: config.alarms,
      sendQueue: queues.queue,
      deadLetterQueue: queues.deadLetterQueue,
      sender: sender.function,
      senderTimeout: Duration.seconds(SENDER.timeoutSeconds),
      routeFunctions: Object.values(routeFunctions),
      api: this.http.api,
      apiAccessLogs: this.http.accessLogs,
      devicesTableName: devices.table.tableName,
      notificationsTableName: notifications.table.tableName,
    });

    // Every IAM route that puts jobs on the send queue: the single send and the batch.
    const sendRoutes = API_ROUTES.filter(
      (route) => route.sendQueue?.includes('sqs:SendMessage') && route.auth === 'iam',
    );
    if (sendRoutes.length === 0) throw new Error('api-routes.ts has no IAM route that sends jobs');
    this.publisherPolicy = new iam.ManagedPolicy(this, 'PublisherPolicy', {
      description: `${config.name}: send notifications, through the send queue or ${sendRoutes.map((route) => `${route.method} ${route.path}`).join(' or ')}`,
      statements: [
        new iam.PolicyStatement({
          sid: 'SendJobsToTheQueue',
          actions: ['sqs:SendMessage'],
          resources: [queues.queue.queueArn],
        }),
        new iam.PolicyStatement({
          sid: 'SendJobsThroughTheApi',
          actions: ['execute-api:Invoke'],
          resources: sendRoutes.map((route) =>
            this.http.api.arnForExecuteApi(route.method, route.path, '$default'),
          ),
        }),
      ],
    });
    if (config.publishers.accounts.length > 0) {
      // An HTTP API takes no resource policy: other accounts call it by assuming this role.
      this.publisherRole = new iam.Role(this, 'PublisherRole', {
        description: `${config.name}: assumed by backends in other accounts to send notifications`,
        assumedBy: new iam.CompositePrincipal(
          ...config.publishers.accounts.map((account) => new iam.AccountPrincipal(account)),
        ),
        managedPolicies: [this.publisherPolicy],
      });
    }

    this.devicesTable = devices.table;
    this.notificationsTable = notifications.table;
    this.sendQueue = queues.queue;
    this.deadLetterQueue = queues.deadLetterQueue;
    this.httpApi = this.http.api;
    this.apiUrl = this.http.url;
    this.sender = sender.function;
    this.routeFunctions = routeFunctions;
    this.credentialsSecrets = credentials.secrets;
    this.fcmCredentialsSecrets = credentials.fcmSecrets;
    if (this.http.userPool) this.userPool = this.http.userPool;
    if (this.http.userPoolClient) this.userPoolClient = this.http.userPoolClient;
    this.alarmTopic = operations.topic;
    this.alarms = operations.alarms;
    this.dashboard = operations.dashboard;
  }

  /** Lets a backend send jobs: sqs:SendMessage on the send queue. */
  grantSendJobs(grantee: iam.IGrantable): iam.Grant {
    return this.sendQueue.grantSendMessages(grantee);
  }
}

/** The sender reads secrets, and CloudWatch notifies topics, of their own region only. */
function checkRegions(stackRegion: string, config: ResolvedPushgateProps): void {
  if (Token.isUnresolved(stackRegion)) return;
  const topicRegion = config.alarms.topicArn?.split(':')[3];
  if (topicRegion !== undefined && topicRegion !== stackRegion) {
    throw new Error(
      `alarms.topicArn is in ${topicRegion}, the stack in ${stackRegion}: CloudWatch alarms notify topics of their own region only.`,
    );
  }
  for (const app of config.apps) {
    const secretRegion = app.credentialsSecretArn?.split(':')[3];
    if (secretRegion !== undefined && secretRegion !== stackRegion) {
      throw new Error(
        `The credentials secret of ${app.appId} is in ${secretRegion}, the stack in ${stackRegion}: the sender reads secrets of its own region only. Replicate the secret to ${stackRegion} and use that ARN.`,
      );
    }
  }
}
