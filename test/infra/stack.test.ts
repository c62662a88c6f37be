import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../infra/api-routes';
import { ENVIRONMENT } from '../../lambda/environment';
import {
  ACCOUNT,
  CERTIFICATE_ARN,
  KEY_ACCOUNT,
  type Resource,
  RULE_SOURCE_ARN,
  resourcesOf,
  SNS_SOURCE_ARN,
  statementsOfRole,
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

describe('stateful resources', () => {
  it('both tables are retained and deletion-protected', () => {
    const tables = ofType('AWS::DynamoDB::Table');
    expect(tables).toHaveLength(2);
    for (const [id, table] of tables) {
      expect(table.DeletionPolicy, id).toBe('Retain');
      expect(table.UpdateReplacePolicy, id).toBe('Retain');
      expect(table.Properties.DeletionProtectionEnabled, id).toBe(true);
      expect(table.Properties.TableName, id).toBeUndefined();
    }
  });

  it('the Devices table is keyed by token with byUser and byLiveActivity indexes, TTL, PITR, encryption, on-demand', () => {
    synthesized.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'token', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      GlobalSecondaryIndexes: [
        Match.objectLike({
          IndexName: 'byUser',
          KeySchema: [
            { AttributeName: 'userId', KeyType: 'HASH' },
            { AttributeName: 'appId', KeyType: 'RANGE' },
          ],
        }),
        Match.objectLike({
          IndexName: 'byLiveActivity',
          KeySchema: [{ AttributeName: 'liveActivityTarget', KeyType: 'HASH' }],
        }),
      ],
    });
  });

  it('the user pool is retained and deletion-protected', () => {
    synthesized.template.hasResource('AWS::Cognito::UserPool', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtection: 'ACTIVE' }),
    });
  });

  it('a created APNs secret is stage-named, retained (but removed with a failed first create), refuses deletion, and starts as the documented placeholder', () => {
    const secrets = ofType('AWS::SecretsManager::Secret');
    // One app brings its own secret; only the other one's is created.
    expect(secrets).toHaveLength(1);
    const [id, secret] = secrets[0] as [string, Resource];
    expect(secret.DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(secret.UpdateReplacePolicy).toBe('Retain');
    // The stack's own id ends the name: a secret kept from a destroyed stack of the same stage
    // cannot make the next create fail with "already exists".
    expect(secret.Properties.Name).toEqual({
      'Fn::Join': [
        '',
        [
          'prod-pushgate/apns/com.acme.app/',
          {
            'Fn::Select': [
              0,
              { 'Fn::Split': ['-', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }] },
            ],
          },
        ],
      ],
    });
    expect(secret.Properties.GenerateSecretString).toBeUndefined();
    // Pinned on purpose: CloudFormation rewrites the value whenever this text changes, which would
    // overwrite every operator's filled-in APNs key with the placeholder on the next deploy.
    expect(secret.Properties.SecretString).toBe(
      '{"pushgatePlaceholder":"Replace this whole value with the app’s APNs credentials: {\\"keyId\\",\\"teamId\\",\\"key\\"} (token auth, the .p8 key as PEM) or {\\"cert\\",\\"key\\"} (certificate auth)."}',
    );
    // The refusal stays with the kept secret after a destroy (a failed first create removes both).
    const [[, policy] = []] = ofType('AWS::SecretsManager::ResourcePolicy');
    expect(policy?.DeletionPolicy).toBe('RetainExceptOnCreate');
    synthesized.template.hasResourceProperties('AWS::SecretsManager::ResourcePolicy', {
      SecretId: { Ref: id },
      ResourcePolicy: {
        Statement: [
          Match.objectLike({
            Effect: 'Deny',
            Action: 'secretsmanager:DeleteSecret',
            Principal: { AWS: '*' },
          }),
        ],
      },
    });
  });
});

describe('HTTP API', () => {
  it('has every route, JWT-authorized for the app and IAM-authorized for backends', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
    expect(routes).toHaveLength(API_ROUTES.length);
    for (const route of API_ROUTES) {
      const deployed = routes.find((r) => r.RouteKey === `${route.method} ${route.path}`);
      expect(deployed, `${route.method} ${route.path}`).toBeDefined();
      expect(deployed?.AuthorizationType).toBe(route.auth === 'jwt' ? 'JWT' : 'AWS_IAM');
      if (route.auth === 'jwt') expect(deployed?.AuthorizerId).toBeDefined();
    }
  });

  it('lets an operator sign a test user in from the CLI (ADMIN_USER_PASSWORD_AUTH, IAM-only), and the app with SRP', () => {
    synthesized.template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      ExplicitAuthFlows: Match.arrayWith(['ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH']),
    });
    const [, client] = ofType('AWS::Cognito::UserPoolClient')[0] as [string, Resource];
    expect(client.Properties.ExplicitAuthFlows).not.toContain('ALLOW_USER_PASSWORD_AUTH');
  });

  it('signs app users in through a Cognito hosted UI: code flow only, public client, configured callbacks', () => {
    const { template } = synthesized;
    template.resourceCountIs('AWS::Cognito::UserPool', 1);
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: Match.arrayWith(['openid']),
      CallbackURLs: ['com.acme.app://signed-in'],
      LogoutURLs: ['com.acme.app://signed-out'],
      GenerateSecret: false,
      SupportedIdentityProviders: ['COGNITO'],
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
      Domain: `prod-pushgate-${ACCOUNT}`,
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
    });
  });

  it('throttles the default stage and writes JSON access logs', () => {
    synthesized.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: Match.objectLike({
        ThrottlingRateLimit: Match.anyValue(),
        ThrottlingBurstLimit: Match.anyValue(),
      }),
      AccessLogSettings: Match.objectLike({ Format: Match.stringLikeRegexp('"requestId"') }),
    });
  });

  it('serves the custom domain with the configured certificate, mapped to the default stage', () => {
    const { template } = synthesized;
    const [domainId] = ofType('AWS::ApiGatewayV2::DomainName').map(([id]) => id);
    template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: 'push.acme.test',
      DomainNameConfigurations: [
        Match.objectLike({
          CertificateArn: CERTIFICATE_ARN,
          EndpointType: 'REGIONAL',
          SecurityPolicy: 'TLS_1_2',
        }),
      ],
    });
    const [stageId] = ofType('AWS::ApiGatewayV2::Stage').map(([id]) => id);
    const [apiId] = ofType('AWS::ApiGatewayV2::Api').map(([id]) => id);
    template.hasResource('AWS::ApiGatewayV2::ApiMapping', {
      Properties: { ApiId: { Ref: apiId }, DomainName: { Ref: domainId }, Stage: '$default' },
      DependsOn: [stageId],
    });
    const outputs = template.toJSON().Outputs;
    expect(JSON.stringify(outputs.ApiUrl.Value)).toContain(`"Ref":"${domainId}"`);
    expect(JSON.stringify(outputs.CustomDomainTarget.Value)).toContain('RegionalDomainName');
    expect(JSON.stringify(outputs.CustomDomainHostedZoneId.Value)).toContain('RegionalHostedZoneId');
  });
});

describe('outputs for operators, backends and apps', () => {
  it('name the queues, the API, the policies, the alarms and the sign-in', () => {
    const outputs = synthesized.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs).sort()).toEqual(
      [
        'AlarmTopicArn',
        'ApiArn',
        'ApiUrl',
        'ApnsSecretcomacmeapp',
        'ApnsSecretcomacmechat',
        'PublisherPolicyArn',
        'PublisherRoleArn',
        'CustomDomainHostedZoneId',
        'CustomDomainTarget',
        'DashboardUrl',
        'DeadLetterQueueArn',
        'DeadLetterQueueUrl',
        'DevicesTableName',
        'ExecuteApiUrl',
        'HostedUiUrl',
        'JwtIssuer',
        'MetricsNamespace',
        'NotificationsTableName',
        'SendQueueArn',
        'SendQueueUrl',
        'SenderRoleArn',
        'Stage',
        'UserPoolClientId',
        'UserPoolId',
      ].sort(),
    );
    const queueId = ofType('AWS::SQS::Queue').find(([, r]) => r.Properties.RedrivePolicy)?.[0];
    expect(outputs.SendQueueUrl?.Value).toEqual({ Ref: queueId });
    expect(outputs.SendQueueArn?.Value).toEqual({ 'Fn::GetAtt': [queueId, 'Arn'] });
    expect(JSON.stringify(outputs.ApiArn?.Value)).toMatch(/:execute-api:eu-west-1:123456789012:/);
    expect(outputs.Stage?.Value).toBe('prod');
    expect(outputs.MetricsNamespace?.Value).toBe('prod-pushgate');
  });

  it('a publisher policy allows exactly sqs:SendMessage on the send queue and execute-api:Invoke on POST /v1/notifications and POST /v1/notification-batches', () => {
    const [, policy] = ofType('AWS::IAM::ManagedPolicy')[0] as [string, Resource];
    const statements = (
      policy.Properties.PolicyDocument as { Statement: { Action: string; Resource: unknown }[] }
    ).Statement;
    const queueId = ofType('AWS::SQS::Queue').find(([, r]) => r.Properties.RedrivePolicy)?.[0];
    expect(statements.map((s) => s.Action)).toEqual(['sqs:SendMessage', 'execute-api:Invoke']);
    expect(statements[0]?.Resource).toEqual({ 'Fn::GetAtt': [queueId, 'Arn'] });
    const routes = ((statements[1]?.Resource ?? []) as unknown[]).map((arn) => JSON.stringify(arn));
    expect(routes).toHaveLength(2);
    expect(routes[0]).toMatch(/\/\$default\/POST\/v1\/notifications"\]\]\}$/);
    expect(routes[1]).toMatch(/\/\$default\/POST\/v1\/notification-batches"\]\]\}$/);
  });

  it('the send queue admits the configured SNS topic, EventBridge rule and account — each only to send', () => {
    const queueId = ofType('AWS::SQS::Queue').find(([, r]) => r.Properties.RedrivePolicy)?.[0];
    const [, policy] = ofType('AWS::SQS::QueuePolicy').find(
      ([, r]) => JSON.stringify(r.Properties.Queues) === JSON.stringify([{ Ref: queueId }]),
    ) as [string, Resource];
    const statements = (
      policy.Properties.PolicyDocument as {
        Statement: {
          Sid?: string;
          Action: string;
          Principal: unknown;
          Condition?: unknown;
          Effect: string;
        }[];
      }
    ).Statement;
    const allows = statements.filter((s) => s.Effect === 'Allow');
    expect(allows.map((s) => s.Action)).toEqual(['sqs:SendMessage', 'sqs:SendMessage', 'sqs:SendMessage']);
    expect(allows.find((s) => s.Sid === 'SnsTopicsSendJobs')).toMatchObject({
      Principal: { Service: 'sns.amazonaws.com' },
      Condition: { ArnEquals: { 'aws:SourceArn': [SNS_SOURCE_ARN] } },
    });
    expect(allows.find((s) => s.Sid === 'EventBridgeRulesSendJobs')).toMatchObject({
      Principal: { Service: 'events.amazonaws.com' },
      Condition: { ArnEquals: { 'aws:SourceArn': [RULE_SOURCE_ARN] } },
    });
    expect(JSON.stringify(allows.find((s) => s.Sid === 'OtherAccountsSendJobs')?.Principal)).toContain(
      `:iam::${KEY_ACCOUNT}:root`,
    );
    // An HTTP API takes no resource policy: the other account assumes a role holding the publisher policy.
    const [policyId] = ofType('AWS::IAM::ManagedPolicy')[0] as [string, Resource];
    const role = ofType('AWS::IAM::Role').find(([id]) => id.startsWith('PushgatePublisherRole'))?.[1];
    expect(role?.Properties.ManagedPolicyArns).toEqual([{ Ref: policyId }]);
    expect(JSON.stringify(role?.Properties.AssumeRolePolicyDocument)).toContain(`:iam::${KEY_ACCOUNT}:root`);
    // enforceSSL stays in force next to them.
    expect(statements.some((s) => s.Effect === 'Deny')).toBe(true);
  });
});

describe('Lambda functions', () => {
  it('all run Node.js 24 on arm64 with tracing, publishing metrics in the stage’s namespace', () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions.length).toBe(API_ROUTES.length + 1);
    for (const [id, fn] of functions) {
      expect(fn.Properties.Runtime, id).toBe('nodejs24.x');
      expect(fn.Properties.Architectures, id).toEqual(['arm64']);
      expect(fn.Properties.TracingConfig, id).toEqual({ Mode: 'Active' });
      const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(variables.POWERTOOLS_METRICS_NAMESPACE, id).toBe('prod-pushgate');
    }
  });

  it('get each table name or queue URL only together with the grant to use it (bind)', () => {
    const tableId = (key: string) =>
      ofType('AWS::DynamoDB::Table').find(([, r]) =>
        JSON.stringify(r.Properties.KeySchema).includes(key),
      )?.[0];
    const queueIds = ofType('AWS::SQS::Queue').map(
      ([id, r]) => [id, Boolean(r.Properties.RedrivePolicy)] as const,
    );
    const sendQueue = queueIds.find(([, send]) => send)?.[0];
    const deadLetterQueue = queueIds.find(([, send]) => !send)?.[0];
    const expectations = [
      [ENVIRONMENT.devicesTable, tableId('"token"'), 'dynamodb:'],
      [ENVIRONMENT.notificationsTable, tableId('"sk"'), 'dynamodb:'],
      [ENVIRONMENT.sendQueue, sendQueue, 'sqs:SendMessage'],
      [ENVIRONMENT.deadLetterQueue, deadLetterQueue, 'sqs:SendMessage'],
    ] as const;
    for (const [id, fn] of ofType('AWS::Lambda::Function')) {
      const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
      const statements = statementsOfRole(resources, roleId);
      expect(variables[ENVIRONMENT.apps], id).toBeDefined();
      for (const [variable, resourceId, action] of expectations) {
        const granted = statements.some(
          (s) =>
            [s.Action].flat().some((a) => a.startsWith(action)) &&
            JSON.stringify(s.Resource).includes(`"${resourceId}"`),
        );
        expect(variable in variables, `${id} ${variable}`).toBe(granted);
      }
    }
  });

  it('grant no wildcard IAM actions, and wildcard resources only to X-Ray', () => {
    for (const [id, policy] of ofType('AWS::IAM::Policy')) {
      const document = policy.Properties.PolicyDocument as {
        Statement: { Action: string | string[]; Resource: unknown }[];
      };
      for (const statement of document.Statement) {
        const actions = [statement.Action].flat();
        for (const action of actions) expect(action, id).not.toContain('*');
        if (statement.Resource === '*')
          expect(
            actions.every((a) => a.startsWith('xray:')),
            id,
          ).toBe(true);
      }
    }
  });

  it('use no AWS managed policies', () => {
    for (const [id, role] of ofType('AWS::IAM::Role')) {
      expect(JSON.stringify(role.Properties.ManagedPolicyArns ?? []), id).not.toContain(':iam::aws:policy');
      if (role.Properties.Description !== undefined && String(role.Properties.Description).startsWith('Runs'))
        expect(role.Properties.ManagedPolicyArns, id).toBeUndefined();
    }
  });

  it('give the registration function only the device generation read and the writes it makes', () => {
    const statements = ofType('AWS::IAM::Policy')
      .filter(([id]) => id.startsWith('Pushgateregisterdevice'))
      .flatMap(
        ([, p]) => (p.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement,
      )
      .flatMap((s) => [s.Action].flat())
      .filter((a) => a.startsWith('dynamodb:'));
    expect(statements.sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
  });

  it('give each Live Activity token function only the DynamoDB actions it takes, on the table alone', () => {
    const expected: Record<string, string[]> = {
      Pushgateregisterpushtostarttoken: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      Pushgateunregisterpushtostarttoken: ['dynamodb:DeleteItem'],
      Pushgateregisteractivitytoken: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      Pushgateunregisteractivitytoken: ['dynamodb:DeleteItem'],
    };
    for (const [prefix, actions] of Object.entries(expected)) {
      const statements = ofType('AWS::IAM::Policy')
        .filter(([id]) => id.startsWith(prefix))
        .flatMap(
          ([, p]) =>
            (p.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] })
              .Statement,
        )
        .filter((s) => [s.Action].flat().some((a) => a.startsWith('dynamodb:')));
      expect(statements.flatMap((s) => [s.Action].flat()).sort(), prefix).toEqual(actions);
      expect(JSON.stringify(statements.map((s) => s.Resource)), prefix).not.toContain('/index/');
    }
  });

  it('let the sender query the byLiveActivity index and nothing else new', () => {
    const statements = ofType('AWS::IAM::Policy')
      .filter(([id]) => id.startsWith('Pushgatesender'))
      .flatMap(
        ([, p]) =>
          (p.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] })
            .Statement,
      );
    const onLiveActivityIndex = statements.filter((s) =>
      JSON.stringify(s.Resource).includes('/index/byLiveActivity'),
    );
    expect(onLiveActivityIndex.flatMap((s) => [s.Action].flat())).toEqual(['dynamodb:Query']);
  });
});

describe('physical names', () => {
  it('every name the stack gives starts with the stage’s prefix, so stages share an account', () => {
    const named: string[] = [];
    const nameKeys: Record<string, string> = {
      'AWS::DynamoDB::Table': 'TableName',
      'AWS::SQS::Queue': 'QueueName',
      'AWS::SecretsManager::Secret': 'Name',
      'AWS::Cognito::UserPool': 'UserPoolName',
      'AWS::Cognito::UserPoolDomain': 'Domain',
      'AWS::ApiGatewayV2::Api': 'Name',
      'AWS::Lambda::Function': 'FunctionName',
      'AWS::IAM::Role': 'RoleName',
      'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
      'AWS::Logs::LogGroup': 'LogGroupName',
      'AWS::SNS::Topic': 'TopicName',
      'AWS::CloudWatch::Alarm': 'AlarmName',
      'AWS::CloudWatch::CompositeAlarm': 'AlarmName',
      'AWS::CloudWatch::Dashboard': 'DashboardName',
    };
    const prefixOf = (value: unknown): string =>
      typeof value === 'string'
        ? value
        : (JSON.stringify(value).match(/"Fn::Join":\["",\["([^"]*)"/)?.[1] ?? JSON.stringify(value));
    for (const [id, resource] of Object.entries(resources)) {
      const key = nameKeys[resource.Type];
      if (key === undefined || resource.Properties?.[key] === undefined) continue;
      named.push(`${id}.${key}`);
      expect(prefixOf(resource.Properties[key]), `${id}.${key}`).toMatch(/^prod-pushgate([-/]|$)/);
    }
    // The stack gives these names itself; everything else is named by CloudFormation after the stack.
    // Secret, hosted UI domain, alarms (and RouteErrors' parts), API, dashboard.
    expect(named.length).toBe(
      1 +
        1 +
        ofType('AWS::CloudWatch::Alarm').length +
        ofType('AWS::CloudWatch::CompositeAlarm').length +
        1 +
        1,
    );
    expect(ofType('AWS::CloudWatch::CompositeAlarm')).toHaveLength(1);
    expect(synthesized.stack.stackName).toBe('prod-pushgate');
  });
});

describe('cdk-nag', () => {
  it.each([
    ['AwsSolutions', () => new AwsSolutionsChecks()],
    ['Serverless', () => new ServerlessChecks()],
  ])('%s pack finds nothing unacknowledged', (_name, pack) => {
    const report = pack().validateScope(synthesized.stack);
    const findings = report.violations.map(
      (v) =>
        `${v.ruleName}: ${v.violatingResources.map((r) => r.resourceLogicalId).join(', ')} — ${v.description}`,
    );
    expect(findings).toEqual([]);
  });
});
