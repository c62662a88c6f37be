import * as sqs from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../infra/api-routes';
import { SENDER_ACCESS } from '../../infra/function-access';
import { createPushgateApp } from '../../infra/pushgate-app';
import { PROVIDER_TOKEN_PK_PREFIX } from '../../lambda/adapters/secondary/notifications-keys';
import committed from '../../pushgate.config';
import {
  PROD_STAGE,
  type Resource,
  resourcesOf,
  statementsOfRole,
  synthDefaultStack,
  synthStage,
} from './stack-fixture';

/** What an operator would hit on a real account, short of deploying: each guarded here. */
let resources: Record<string, Resource>;
beforeAll(() => {
  resources = resourcesOf(synthDefaultStack().template);
});

const functions = () =>
  Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function') as [string, Resource][];
const senderId = () =>
  functions().find(([, r]) => String(r.Properties.Description).includes('sender'))?.[0] ?? 'no sender';
const roleOf = (functionId: string) =>
  ((resources[functionId] as Resource).Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
const notificationsTable = () =>
  Object.entries(resources).find(
    ([, r]) => r.Type === 'AWS::DynamoDB::Table' && JSON.stringify(r.Properties.KeySchema).includes('"sk"'),
  )?.[0];

describe('the sender’s re-push chain', () => {
  it('is not cut by Lambda’s recursive-loop detection (the sender feeds its own queue on purpose)', () => {
    expect(resources[senderId()]?.Properties.RecursiveLoop).toBe('Allow');
    // Only the sender: no route function feeds a queue it consumes.
    for (const [id, fn] of functions()) {
      if (id !== senderId()) expect(fn.Properties.RecursiveLoop, id).toBeUndefined();
    }
  });
});

describe('grants', () => {
  it('the sender takes no Query on the Notifications table (it reads by key only)', () => {
    expect(SENDER_ACCESS.notifications).not.toContain('dynamodb:Query');
    const table = notificationsTable();
    const onTable = statementsOfRole(resources, roleOf(senderId())).filter(
      (s) =>
        s.Effect === 'Allow' &&
        JSON.stringify(s.Resource) === JSON.stringify({ 'Fn::GetAtt': [table, 'Arn'] }),
    );
    expect(onTable.flatMap((s) => [s.Action].flat())).not.toContain('dynamodb:Query');
    expect(onTable.length).toBeGreaterThan(0);
  });

  it('only the sender may read or write the APNs provider tokens; every other function with the Notifications table is denied their keys', () => {
    const table = notificationsTable();
    const denies = (functionId: string) =>
      statementsOfRole(resources, roleOf(functionId)).filter(
        (s) =>
          s.Effect === 'Deny' &&
          JSON.stringify(s.Condition) ===
            JSON.stringify({
              'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': [`${PROVIDER_TOKEN_PK_PREFIX}*`] },
            }),
      );
    expect(denies(senderId())).toEqual([]);
    const routesWithTable = API_ROUTES.filter((route) => (route.notifications?.length ?? 0) > 0);
    expect(routesWithTable.length).toBeGreaterThanOrEqual(3);
    for (const route of routesWithTable) {
      const [id] = functions().find(([, r]) =>
        String(r.Properties.Description).endsWith(`${route.method} ${route.path}`),
      ) ?? ['none'];
      const [deny] = denies(id);
      expect(deny, route.name).toBeDefined();
      expect(deny?.Resource, route.name).toEqual({ 'Fn::GetAtt': [table, 'Arn'] });
      // Every action the route holds on the table is covered by the Deny.
      for (const action of route.notifications ?? [])
        expect([deny?.Action].flat(), route.name).toContain(action);
    }
  });
});

describe('API throttling', () => {
  const stageOf = (resourcesOfStack: Record<string, Resource>) =>
    Object.values(resourcesOfStack).find((r) => r.Type === 'AWS::ApiGatewayV2::Stage')?.Properties
      .DefaultRouteSettings as { ThrottlingRateLimit: number; ThrottlingBurstLimit: number };

  it('defaults to 1 000 requests/s with a burst of 2 000, and takes api.throttle', () => {
    expect(stageOf(resources)).toMatchObject({ ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 });
    const configured = resourcesOf(
      synthStage({ ...PROD_STAGE, api: { throttle: { rateLimit: 50, burstLimit: 120 } } }, { bundle: false })
        .template,
    );
    expect(stageOf(configured)).toMatchObject({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 120 });
  });

  it('refuses a burst below the rate', () => {
    expect(() =>
      synthStage(
        { ...PROD_STAGE, api: { throttle: { rateLimit: 500, burstLimit: 100 } } },
        { bundle: false },
      ),
    ).toThrow(/burstLimit below rateLimit/);
  });
});

describe('npx cdk synth (infra/pushgate-app.ts)', () => {
  const noBundling = { context: { 'aws:cdk:bundling-stacks': [] } };

  it('protects every stage but dev from termination', () => {
    const prod = createPushgateApp(
      { stages: { prod: PROD_STAGE } },
      { ...noBundling, context: { ...noBundling.context, stage: 'prod' } },
    );
    expect(prod.stack.terminationProtection).toBe(true);
    expect(prod.app.synth().getStackByName('prod-pushgate').terminationProtection).toBe(true);
    const dev = createPushgateApp(committed, noBundling);
    expect(dev.stack.terminationProtection).toBe(false);
  });

  it('runs cdk-nag on every synth: an unacknowledged finding fails it', () => {
    const { app, stack } = createPushgateApp(committed, noBundling);
    // A queue with no DLQ, plain transport allowed: AwsSolutions-SQS3/SQS4 and Serverless-SQSRedrivePolicy.
    new sqs.Queue(stack, 'CarelessQueue');
    expect(() => app.synth()).toThrow(/CarelessQueue/);
  });
});
