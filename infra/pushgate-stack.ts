import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Pushgate } from './pushgate';
import { appIdKey, type PushgateProps } from './pushgate-props';

export interface PushgateStackProps extends StackProps {
  /** The stage's name (an output, for the operator's tools). */
  stage: string;
  pushgate: PushgateProps;
}

/**
 * This project's own deployment: the `Pushgate` construct and the outputs an
 * operator, a backend and an iOS app need. Output names are fixed — the redrive
 * tool and scripts read them.
 */
export class PushgateStack extends Stack {
  readonly pushgate: Pushgate;

  constructor(scope: Construct, id: string, props: PushgateStackProps) {
    super(scope, id, props);
    const push = new Pushgate(this, 'Pushgate', props.pushgate);
    this.pushgate = push;
    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });

    output('Stage', props.stage, 'The stage (pushgate.config.ts) this stack deploys.');
    output('ApiUrl', push.apiUrl, 'The API base URL for apps and backends.');
    output(
      'ApiArn',
      this.formatArn({ service: 'execute-api', resource: push.httpApi.apiId }),
      'execute-api ARN of the API: IAM policies allow execute-api:Invoke on <ApiArn>/$default/<METHOD>/<path>.',
    );
    output('SendQueueUrl', push.sendQueue.queueUrl, 'Backends put send jobs here (sqs:SendMessage).');
    output(
      'SendQueueArn',
      push.sendQueue.queueArn,
      'For IAM policies, SNS subscriptions and EventBridge targets.',
    );
    output(
      'DeadLetterQueueUrl',
      push.deadLetterQueue.queueUrl,
      'Jobs that could not be sent; npm run redrive.',
    );
    output('DeadLetterQueueArn', push.deadLetterQueue.queueArn, 'The dead-letter queue’s ARN.');
    output(
      'PublisherPolicyArn',
      push.publisherPolicy.managedPolicyArn,
      'Attach to a backend role in this account that sends notifications (queue or API).',
    );
    if (push.publisherRole) {
      output(
        'PublisherRoleArn',
        push.publisherRole.roleArn,
        'Backends in the accounts of publishers.accounts assume this role to call the API.',
      );
    }
    output('AlarmTopicArn', push.alarmTopic.topicArn, 'Every alarm notifies this topic.');
    output(
      'DashboardUrl',
      `https://console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards:name=${push.dashboard.dashboardName}`,
      'The CloudWatch dashboard.',
    );
    output('MetricsNamespace', push.metricsNamespace, 'The CloudWatch namespace of the sender’s metrics.');
    output(
      'SenderRoleArn',
      push.sender.role?.roleArn ?? '',
      'The sender’s role: allow it in the policy of a secret or KMS key in another account.',
    );
    for (const [appId, secret] of push.credentialsSecrets) {
      output(
        `ApnsSecret${appIdKey(appId)}`,
        secret.secretArn,
        `APNs credentials of ${appId}: {"keyId","teamId","key"} or {"cert","key"}`,
      );
    }
    for (const [appId, secret] of push.fcmCredentialsSecrets) {
      output(
        `FcmSecret${appIdKey(appId)}`,
        secret.secretArn,
        `FCM credentials of ${appId}: the Firebase project's service-account key JSON`,
      );
    }
    output('DevicesTableName', push.devicesTable.tableName, 'The Devices table.');
    output('NotificationsTableName', push.notificationsTable.tableName, 'The Notifications table.');
    output('JwtIssuer', push.http.jwtIssuer, 'The OIDC issuer whose tokens the app routes accept.');
    if (push.userPool && push.userPoolClient && push.http.userPoolDomain) {
      output('UserPoolId', push.userPool.userPoolId, 'The Cognito user pool of app users.');
      output(
        'UserPoolClientId',
        push.userPoolClient.userPoolClientId,
        'The app’s client id (public, code + PKCE).',
      );
      output(
        'HostedUiUrl',
        push.http.userPoolDomain.baseUrl(),
        'The hosted sign-in: <url>/oauth2/authorize and <url>/oauth2/token.',
      );
    }
    if (push.http.domainName) {
      output(
        'CustomDomainTarget',
        push.http.domainName.regionalDomainName,
        'Point the custom domain here (CNAME, or Route 53 alias with CustomDomainHostedZoneId).',
      );
      output(
        'CustomDomainHostedZoneId',
        push.http.domainName.regionalHostedZoneId,
        'For a Route 53 alias record.',
      );
      output(
        'ExecuteApiUrl',
        push.http.executeApiUrl,
        'API Gateway’s own URL of the API (use the custom domain).',
      );
    }
  }
}
