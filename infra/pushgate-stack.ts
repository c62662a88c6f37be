import { CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { API_ROUTES, handlerEntry } from './api-routes';
import { DevicesTable } from './constructs/devices-table';
import { PushgateHttpApi } from './constructs/http-api';
import { NotificationsTable } from './constructs/notifications-table';
import { PushgateFunction } from './constructs/pushgate-function';
import { SendQueue } from './constructs/send-queue';
import { SEND_QUEUE, SENDER } from './queue-settings';
import type { StackConfig } from './stack-config';

export interface PushgateStackProps extends StackProps {
  config: StackConfig;
}

/**
 * pushgate on AWS: the Devices and Notifications tables, the HTTP API with one
 * Lambda per route, the send queue with its DLQ and alarm, and the sender Lambda.
 */
export class PushgateStack extends Stack {
  constructor(scope: Construct, id: string, props: PushgateStackProps) {
    super(scope, id, props);
    const { config } = props;
    const devices = new DevicesTable(this, 'Devices');
    const http = new PushgateHttpApi(this, 'Http', {
      ...(config.jwtIssuer && config.jwtAudience
        ? { jwt: { issuer: config.jwtIssuer, audience: config.jwtAudience } }
        : {}),
    });
    const notifications = new NotificationsTable(this, 'Notifications');
    const sendQueue = new SendQueue(this, 'Send');
    const apps = JSON.stringify(config.apps.map(({ appId, bundleId }) => ({ appId, bundleId })));

    for (const route of API_ROUTES) {
      const fn = new PushgateFunction(this, route.name, {
        entry: handlerEntry(route.name),
        description: `pushgate ${route.method} ${route.path}`,
        environment: {
          DEVICES_TABLE_NAME: devices.table.tableName,
          PUSHGATE_APPS: apps,
          ...(route.notifications ? { NOTIFICATIONS_TABLE_NAME: notifications.table.tableName } : {}),
          ...(route.sendsJobs ? { SEND_QUEUE_URL: sendQueue.queue.queueUrl } : {}),
        },
      });
      devices.grant(fn.role, route.devices);
      if (route.notifications) notifications.grant(fn.role, route.notifications);
      if (route.sendsJobs) sendQueue.queue.grantSendMessages(fn.role);
      http.addRoute(route, fn.function);
      Validations.of(fn.function).acknowledge({
        id: 'Serverless-LambdaDLQ',
        reason:
          'API Gateway invokes this function synchronously and gets its error; a DLQ only catches asynchronous invocations.',
      });
    }

    const credentials = config.apps.map(
      (app) =>
        [
          app,
          app.credentialsSecretArn
            ? secretsmanager.Secret.fromSecretCompleteArn(this, `Apns-${app.appId}`, app.credentialsSecretArn)
            : this.createCredentialsSecret(app.appId),
        ] as const,
    );
    const senderApps = JSON.stringify(
      credentials.map(([app, secret]) => ({
        appId: app.appId,
        bundleId: app.bundleId,
        credentials: `secretsmanager:${secret.secretArn}`,
      })),
    );
    const sender = new PushgateFunction(this, 'sender', {
      entry: 'lambda/adapters/primary/send-notifications/handler.ts',
      description: 'pushgate sender: send queue → APNs',
      memorySize: SENDER.memoryMb,
      timeout: Duration.seconds(SENDER.timeoutSeconds),
      environment: {
        DEVICES_TABLE_NAME: devices.table.tableName,
        NOTIFICATIONS_TABLE_NAME: notifications.table.tableName,
        SEND_QUEUE_URL: sendQueue.queue.queueUrl,
        DEAD_LETTER_QUEUE_URL: sendQueue.deadLetterQueue.queueUrl,
        PUSHGATE_APPS: senderApps,
      },
    });
    if (SEND_QUEUE.visibilityTimeoutSeconds < 6 * SENDER.timeoutSeconds) {
      throw new Error('The send queue visibility timeout must be at least six times the sender timeout.');
    }
    devices.grant(sender.role, {
      table: ['dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem'],
      userIndex: ['dynamodb:Query'],
    });
    notifications.grant(sender.role, [
      'dynamodb:Query',
      'dynamodb:UpdateItem',
      'dynamodb:BatchGetItem',
      // The fleet's shared APNs provider token, read consistently (lambda/adapters/secondary/provider-token-table.ts).
      'dynamodb:GetItem',
    ]);
    sendQueue.queue.grantSendMessages(sender.role);
    sendQueue.deadLetterQueue.grantSendMessages(sender.role);
    for (const [, secret] of credentials) secret.grantRead(sender.role);
    sender.function.addEventSource(
      new SqsEventSource(sendQueue.queue, {
        batchSize: SENDER.batchSize,
        maxConcurrency: SENDER.maxConcurrency,
        reportBatchItemFailures: true,
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

    new CfnOutput(this, 'ApiUrl', { value: http.url });
    new CfnOutput(this, 'SendQueueUrl', { value: sendQueue.queue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: sendQueue.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'DeadLetterAlarmName', { value: sendQueue.deadLetterAlarm.alarmName });
    for (const [app, secret] of credentials) {
      new CfnOutput(this, `ApnsSecret${app.appId.replace(/[^A-Za-z0-9]/g, '')}`, {
        value: secret.secretArn,
        description: `APNs credentials of ${app.appId}: {"keyId","teamId","key"} or {"cert","key"}`,
      });
    }
    new CfnOutput(this, 'DevicesTableName', { value: devices.table.tableName });
    if (http.userPool && http.userPoolClient) {
      new CfnOutput(this, 'UserPoolId', { value: http.userPool.userPoolId });
      new CfnOutput(this, 'UserPoolClientId', { value: http.userPoolClient.userPoolClientId });
    }
  }

  /** An empty secret for an app's APNs credentials; the operator puts the .p8 key in it once. */
  private createCredentialsSecret(appId: string): secretsmanager.ISecret {
    const secret = new secretsmanager.Secret(this, `Apns-${appId}`, {
      secretName: `pushgate/apns/${appId}`,
      description: `APNs credentials of ${appId}: {"keyId","teamId","key"} (token auth) or {"cert","key"}`,
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'APNs keys are issued and revoked in the Apple Developer portal; there is nothing AWS can rotate.',
    });
    return secret;
  }
}
