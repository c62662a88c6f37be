import { beforeAll, describe, expect, it } from 'vitest';
import type { StageConfig } from '../../infra/config';
import { PROD_STAGE, type Resource, resourcesOf, synthDefaultStack, synthStage } from './stack-fixture';

/**
 * Resources that hold data or identity: replacing one loses messages, users, APNs keys,
 * confirmed alarm subscriptions, or a URL or client id compiled into shipped apps.
 * `compare`: the properties that must stay the same too — every one (`all`), or those
 * whose change makes CloudFormation replace the resource.
 */
const STATEFUL: Record<string, { compare: 'all' | readonly string[] }> = {
  'AWS::DynamoDB::Table': { compare: 'all' },
  'AWS::SQS::Queue': { compare: 'all' },
  'AWS::SecretsManager::Secret': { compare: 'all' },
  // Mail settings, MFA, policies change in place; these replace the pool.
  'AWS::Cognito::UserPool': {
    compare: [
      'AliasAttributes',
      'UsernameAttributes',
      'UsernameConfiguration',
      'Schema',
      'DeletionProtection',
    ],
  },
  'AWS::Cognito::UserPoolDomain': { compare: 'all' },
  // Callback URLs change in place; the client id apps carry stays.
  'AWS::Cognito::UserPoolClient': { compare: ['UserPoolId', 'GenerateSecret'] },
  'AWS::ApiGatewayV2::Api': { compare: 'all' },
  'AWS::SNS::Topic': { compare: 'all' },
};

/** The same stage after an operator changed everything a config file can change but its name. */
const CHANGED: StageConfig = {
  env: PROD_STAGE.env,
  // One app removed, one added before the remaining one.
  apps: [
    { appId: 'com.acme.news', bundleId: 'com.acme.news' },
    PROD_STAGE.apps[0] as StageConfig['apps'][number],
  ],
  auth: {
    cognito: {
      callbackUrls: ['com.acme.app://auth', 'https://acme.test/callback'],
      email: { from: 'no-reply@acme.test' },
    },
  },
  alarms: { emails: ['someone-else@acme.test'], backlogAgeSeconds: 600 },
  sender: { maxConcurrency: 20, reservedConcurrency: 25, paused: true },
};

let before: Record<string, Resource>;
let after: Record<string, Resource>;
beforeAll(() => {
  before = resourcesOf(synthDefaultStack().template);
  after = resourcesOf(synthStage(CHANGED, { bundle: false }).template);
});

const statefulIds = (resources: Record<string, Resource>) =>
  Object.entries(resources)
    .filter(([, r]) => r.Type in STATEFUL)
    .map(([id, r]) => `${r.Type} ${id}`)
    .sort();

describe('a redeploy with changed configuration', () => {
  it('keeps every stateful resource under its logical id with the same settings, or retains what it drops', () => {
    let compared = 0;
    for (const [id, resource] of Object.entries(before)) {
      const rule = STATEFUL[resource.Type];
      if (rule === undefined) continue;
      const now = after[id];
      if (now === undefined) {
        expect(resource.DeletionPolicy, `${id} left the template: it must be retained`).toMatch(
          /^Retain(ExceptOnCreate)?$/,
        );
        continue;
      }
      expect(now.Type, id).toBe(resource.Type);
      const pick = (properties: Record<string, unknown>) =>
        rule.compare === 'all'
          ? properties
          : Object.fromEntries(rule.compare.map((key) => [key, properties[key]]));
      expect(pick(now.Properties), id).toEqual(pick(resource.Properties));
      compared++;
    }
    // Tables, queues, the remaining app's secret, pool, client, domain, API, alarm topic.
    expect(compared).toBe(10);
  });

  it('pins those logical ids: a refactor that moves a construct would replace them on the next deploy', () => {
    expect(statefulIds(before)).toEqual(
      [
        'AWS::ApiGatewayV2::Api PushgateHttpApi0A7E40BC',
        'AWS::Cognito::UserPool PushgateHttpUsersEF35514E',
        'AWS::Cognito::UserPoolClient PushgateHttpUsersApp467D0F99',
        'AWS::Cognito::UserPoolDomain PushgateHttpUsersHostedUi7121028B',
        'AWS::DynamoDB::Table PushgateDevicesTable9036049A',
        'AWS::DynamoDB::Table PushgateNotificationsTable777F1909',
        'AWS::SNS::Topic PushgateOperationsTopic48E47D4A',
        'AWS::SQS::Queue PushgateSendDeadLetterQueue70EA8BC9',
        'AWS::SQS::Queue PushgateSendQueue3F5F1835',
        'AWS::SecretsManager::Secret PushgateApnscomacmeapp36A3DDDE',
      ].sort(),
    );
    // The added app gets a secret of its own; the remaining app's secret keeps its id.
    expect(statefulIds(after)).toContain('AWS::SecretsManager::Secret PushgateApnscomacmeapp36A3DDDE');
    expect(
      Object.values(after).filter(
        (r) =>
          r.Type === 'AWS::SecretsManager::Secret' &&
          JSON.stringify(r.Properties.Name).includes('"prod-pushgate/apns/com.acme.news/"'),
      ),
    ).toHaveLength(1);
  });

  it('applies the new settings: sender concurrency, backlog threshold, alarm recipient', () => {
    const sender = Object.values(after).find(
      (r) => r.Type === 'AWS::Lambda::Function' && String(r.Properties.Description).includes('sender'),
    );
    expect(sender?.Properties.ReservedConcurrentExecutions).toBe(25);
    const mapping = Object.values(after).find((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
    expect(mapping?.Properties.ScalingConfig).toEqual({ MaximumConcurrency: 20 });
    const backlog = Object.values(after).find((r) => r.Properties?.AlarmName === 'prod-pushgate-SendBacklog');
    expect(backlog?.Properties.Threshold).toBe(600);
    const mails = Object.values(after).filter((r) => r.Type === 'AWS::SNS::Subscription');
    expect(mails.map((r) => r.Properties.Endpoint)).toEqual(['someone-else@acme.test']);
    expect(Object.values(after).some((r) => r.Type === 'AWS::ApiGatewayV2::DomainName')).toBe(false);
  });
});
