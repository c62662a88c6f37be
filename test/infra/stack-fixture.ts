import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { type PushgateConfig, resolveStage, type StageConfig } from '../../infra/config';
import { stageStackProps } from '../../infra/pushgate-app';
import { PushgateStack } from '../../infra/pushgate-stack';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
/** Another account, holding one app's secret and the KMS key that encrypts it. */
export const KEY_ACCOUNT = '210987654321';
export const IMPORTED_SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${KEY_ACCOUNT}:secret:pushgate/apns/com.acme.chat-AbCdEf`;
export const KMS_KEY_ARN = `arn:aws:kms:${REGION}:${KEY_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
export const CERTIFICATE_ARN = `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0`;
export const ALARM_EMAIL = 'oncall@acme.test';
export const SNS_SOURCE_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:orders-shipped`;
export const RULE_SOURCE_ARN = `arn:aws:events:${REGION}:${ACCOUNT}:rule/order-events`;

/**
 * The stage every infra test reads: a production stage with everything configured —
 * a created secret and one imported from another account with its KMS key, Cognito
 * with a hosted UI, alarm mail, a custom domain and publishers from SNS, EventBridge
 * and another account. Defaults (sender concurrency, backlog age) stay unset.
 */
export const PROD_STAGE: StageConfig = {
  env: { account: ACCOUNT, region: REGION },
  apps: [
    { appId: 'com.acme.app', bundleId: 'com.acme.app' },
    {
      appId: 'com.acme.chat',
      bundleId: 'com.acme.chat',
      credentialsSecretArn: IMPORTED_SECRET_ARN,
      credentialsKmsKeyArn: KMS_KEY_ARN,
    },
  ],
  auth: {
    cognito: { callbackUrls: ['com.acme.app://signed-in'], logoutUrls: ['com.acme.app://signed-out'] },
  },
  alarms: { emails: [ALARM_EMAIL] },
  domain: { name: 'push.acme.test', certificateArn: CERTIFICATE_ARN },
  publishers: {
    accounts: [KEY_ACCOUNT],
    snsTopicArns: [SNS_SOURCE_ARN],
    eventBridgeRuleArns: [RULE_SOURCE_ARN],
  },
};

/**
 * Synthesises one stage the way `cdk synth` does (infra/app.ts). `bundle: false` skips
 * esbuild — the template is the same but for the code assets — for tests that read
 * only names, ids and settings.
 */
export function synthStage(stageConfig: StageConfig, options: { stage?: string; bundle?: boolean } = {}) {
  const stageName = options.stage ?? 'prod';
  const config: PushgateConfig = { stages: { [stageName]: stageConfig } };
  const stage = resolveStage(config, stageName);
  const app = new App(options.bundle === false ? { context: { 'aws:cdk:bundling-stacks': [] } } : {});
  const stack = new PushgateStack(
    app,
    stage.stackName,
    stageStackProps(stage, { account: ACCOUNT, region: REGION }),
  );
  return { app, stack, template: Template.fromStack(stack) };
}

let prodStack: ReturnType<typeof synthStage> | undefined;

/**
 * The production stage, synthesized once per test run with real bundling: a synth
 * bundles every function, and the infra project runs its files in one module graph
 * (`isolate: false`).
 */
export function synthDefaultStack() {
  prodStack ??= synthStage(PROD_STAGE);
  return prodStack;
}

export type Resource = {
  Type: string;
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
};

export function resourcesOf(template: Template): Record<string, Resource> {
  return template.toJSON().Resources as Record<string, Resource>;
}

/** Every IAM statement of a role's inline policies. */
export function statementsOfRole(
  resources: Record<string, Resource>,
  roleLogicalId: string,
): { Action: string | string[]; Resource: unknown; Condition?: unknown; Effect: string }[] {
  return Object.values(resources)
    .filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleLogicalId }]),
    )
    .flatMap(
      (p) =>
        (
          p.Properties.PolicyDocument as {
            Statement: { Action: string | string[]; Resource: unknown; Effect: string }[];
          }
        ).Statement,
    );
}
