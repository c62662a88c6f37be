import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../infra/api-routes';
import { synthDefaultStack, synthStack } from './stack-fixture';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

let synthesized: ReturnType<typeof synthStack>;
let resources: Resources;
beforeAll(() => {
  synthesized = synthDefaultStack();
  resources = synthesized.template.toJSON().Resources as Resources;
});

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

describe('Devices table', () => {
  it('is keyed by token with a byUser index, TTL, PITR, encryption, on-demand, retained', () => {
    const { template } = synthesized;
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
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
        ],
      }),
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

  it('creates a Cognito user pool as the JWT issuer when none is configured', () => {
    synthesized.template.resourceCountIs('AWS::Cognito::UserPool', 1);
    synthesized.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
    });
  });

  it('uses the configured issuer and audience instead of a user pool when given', () => {
    const { template } = synthStack({ jwtIssuer: 'https://auth.example.com/', jwtAudience: 'pushgate-api' });
    template.resourceCountIs('AWS::Cognito::UserPool', 0);
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      JwtConfiguration: { Issuer: 'https://auth.example.com/', Audience: ['pushgate-api'] },
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
});

describe('Lambda functions', () => {
  it('all run Node.js 24 on arm64 with tracing', () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThanOrEqual(API_ROUTES.length);
    for (const [id, fn] of functions) {
      expect(fn.Properties.Runtime, id).toBe('nodejs24.x');
      expect(fn.Properties.Architectures, id).toEqual(['arm64']);
      expect(fn.Properties.TracingConfig, id).toEqual({ Mode: 'Active' });
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
      expect(role.Properties.ManagedPolicyArns, id).toBeUndefined();
    }
  });

  it('give the registration function only the writes it makes', () => {
    const statements = ofType('AWS::IAM::Policy')
      .filter(([id]) => id.startsWith('registerdevice'))
      .flatMap(
        ([, p]) => (p.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement,
      )
      .flatMap((s) => [s.Action].flat())
      .filter((a) => a.startsWith('dynamodb:'));
    expect(statements.sort()).toEqual(['dynamodb:PutItem', 'dynamodb:UpdateItem']);
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
