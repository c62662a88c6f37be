import { beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../infra/api-routes';
import { type FunctionAccess, SENDER_ACCESS } from '../../infra/function-access';
import { ENVIRONMENT } from '../../lambda/environment';
import { grantsOf } from '../../local/function-grants';
import {
  IMPORTED_SECRET_ARN,
  type Resource,
  resourcesOf,
  statementsOfRole,
  synthDefaultStack,
} from './stack-fixture';

/**
 * Offline mode holds each invocation to the grants local/function-grants.ts derives
 * from the access data; the stack derives each role's policy from the same data.
 * These prove the two derivations agree, statement for statement, for every function
 * the stack deploys — so what passes offline is what AWS allows.
 */

let resources: Record<string, Resource>;
beforeAll(() => {
  resources = resourcesOf(synthDefaultStack().template);
});

const idOf = (type: string, test: (r: Resource) => boolean) =>
  Object.entries(resources).find(([, r]) => r.Type === type && test(r))?.[0] ?? `no ${type}`;

/** Each data resource's name in both derivations. */
function deployedResourceName(resource: unknown): string {
  const json = JSON.stringify(resource);
  const keys = (r: Resource) => JSON.stringify(r.Properties.KeySchema);
  const devices = idOf('AWS::DynamoDB::Table', (r) => keys(r).includes('"token"'));
  const notifications = idOf('AWS::DynamoDB::Table', (r) => keys(r).includes('"sk"'));
  const sendQueue = idOf('AWS::SQS::Queue', (r) => r.Properties.RedrivePolicy !== undefined);
  const deadLetterQueue = idOf('AWS::SQS::Queue', (r) => r.Properties.RedrivePolicy === undefined);
  const createdSecret = idOf('AWS::SecretsManager::Secret', () => true);
  const arnOf = (id: string) => JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] });
  const named: Record<string, string> = {
    [arnOf(devices)]: 'devices',
    [arnOf(notifications)]: 'notifications',
    [arnOf(sendQueue)]: 'sendQueue',
    [arnOf(deadLetterQueue)]: 'deadLetterQueue',
    [JSON.stringify({ Ref: createdSecret })]: 'secret:com.acme.app',
    [JSON.stringify(IMPORTED_SECRET_ARN)]: 'secret:com.acme.chat',
  };
  const index = json.match(/"\/index\/(\w+)"/)?.[1];
  if (index !== undefined && json.includes(arnOf(devices))) return `devices/index/${index}`;
  return named[json] ?? `unknown ${json}`;
}

function deployedGrants(functionId: string): string[] {
  const fn = resources[functionId] as Resource;
  const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
  return statementsOfRole(resources, roleId)
    .filter((s) => s.Effect === 'Allow')
    .flatMap((s) =>
      [s.Action]
        .flat()
        .filter((action) => /^(dynamodb|sqs|secretsmanager):/.test(action))
        .flatMap((action) =>
          [s.Resource].flat().map((resource) => `${action} on ${deployedResourceName(resource)}`),
        ),
    )
    .sort();
}

const offlineEnv: NodeJS.ProcessEnv = {
  [ENVIRONMENT.devicesTable]: 'devices',
  [ENVIRONMENT.notificationsTable]: 'notifications',
  [ENVIRONMENT.sendQueue]: 'http://sqs.us-east-1.localhost/000000000000/sendQueue',
  [ENVIRONMENT.deadLetterQueue]: 'http://sqs.us-east-1.localhost/000000000000/deadLetterQueue',
  [ENVIRONMENT.apps]: JSON.stringify(
    ['com.acme.app', 'com.acme.chat'].map((appId) => ({
      appId,
      bundleId: appId,
      credentials: `secretsmanager:${appId}`,
    })),
  ),
};

function offlineGrants(access: FunctionAccess, consumesSendQueue = false): string[] {
  const grants = grantsOf(access, {
    env: offlineEnv,
    ...(consumesSendQueue ? { consumedQueueUrl: offlineEnv[ENVIRONMENT.sendQueue] } : {}),
  });
  const nameOf = (arn: string) =>
    arn.includes(':table/')
      ? arn.slice(arn.indexOf(':table/') + ':table/'.length)
      : arn.includes(':secret:')
        ? `secret:${arn.slice(arn.indexOf(':secret:') + ':secret:'.length)}`
        : arn.slice(arn.lastIndexOf(':') + 1);
  return [...grants]
    .flatMap(([arn, actions]) => [...actions].map((action) => `${action} on ${nameOf(arn)}`))
    .sort();
}

const functionIds = () =>
  Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
    .map(([id, r]) => [id, String(r.Properties.Description)] as const);

describe('offline mode holds each function to exactly its deployed grants', () => {
  it('every deployed function is a route or the sender: none runs without access data', () => {
    expect(functionIds()).toHaveLength(API_ROUTES.length + 1);
  });

  for (const route of API_ROUTES) {
    it(`${route.method} ${route.path} (${route.name})`, () => {
      const match = functionIds().filter(([, description]) =>
        description.endsWith(` ${route.method} ${route.path}`),
      );
      expect(match).toHaveLength(1);
      const deployed = deployedGrants(match[0]?.[0] ?? '');
      expect(deployed).toEqual(offlineGrants(route));
      expect(deployed.every((grant) => !grant.includes(' on unknown '))).toBe(true);
    });
  }

  it('the sender, with the send queue its event source consumes', () => {
    const match = functionIds().filter(([, description]) => description.includes(' sender'));
    expect(match).toHaveLength(1);
    const deployed = deployedGrants(match[0]?.[0] ?? '');
    expect(deployed).toEqual(offlineGrants(SENDER_ACCESS, true));
    expect(deployed).toContain('dynamodb:Query on devices/index/byLiveActivity');
    expect(deployed).toContain('secretsmanager:GetSecretValue on secret:com.acme.chat');
  });
});
