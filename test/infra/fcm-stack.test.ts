import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { FCM_CREDENTIAL_FAILURE_REASONS } from '../../infra/constructs/operations';
import { FCM_CREDENTIALS_PLACEHOLDER } from '../../lambda/adapters/secondary/apns/credentials-placeholder';
import { FCM_CREDENTIAL_CODES } from '../../lambda/domain/fcm-answer';
import { ENVIRONMENT } from '../../lambda/environment';
import {
  ACCOUNT,
  PROD_STAGE,
  REGION,
  type Resource,
  resourcesOf,
  statementsOfRole,
  synthStage,
} from './stack-fixture';

/** The production stage with FCM for one app: a created secret, and one imported. */
const IMPORTED_FCM_SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:pushgate/fcm/com.acme.chat-AbCdEf`;
const FCM_STAGE = {
  ...PROD_STAGE,
  apps: [
    { appId: 'com.acme.app', bundleId: 'com.acme.app', fcm: { projectId: 'acme-app-prod' } },
    {
      appId: 'com.acme.chat',
      bundleId: 'com.acme.chat',
      fcm: { projectId: 'acme-chat-prod', credentialsSecretArn: IMPORTED_FCM_SECRET },
    },
  ],
};

let synthesized: ReturnType<typeof synthStage>;
let resources: Record<string, Resource>;
beforeAll(() => {
  synthesized = synthStage(FCM_STAGE, { bundle: false });
  resources = resourcesOf(synthesized.template);
});

const functions = () => Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
const roleOf = (fn: Resource) => (fn.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
const isSender = (fn: Resource) => String(fn.Properties.Description).includes('sender');
const fcmSecretId = () =>
  Object.entries(resources).find(
    ([, r]) =>
      r.Type === 'AWS::SecretsManager::Secret' && JSON.stringify(r.Properties.Name).includes('/fcm/'),
  )?.[0] as string;

describe('FCM credentials in the stack', () => {
  it('creates a stage-named, retained (but removed with a failed first create), undeletable secret holding the documented placeholder', () => {
    const secret = resources[fcmSecretId()] as Resource;
    // Named like the APNs secret: the stage, the service, the app, then the stack's own id.
    expect(JSON.stringify(secret.Properties.Name)).toContain('"prod-pushgate/fcm/com.acme.app/"');
    expect(JSON.stringify(secret.Properties.Name)).toContain('"Ref":"AWS::StackId"');
    expect(secret.DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(secret.UpdateReplacePolicy).toBe('Retain');
    expect(secret.Properties.SecretString).toBe(FCM_CREDENTIALS_PLACEHOLDER);
    const policy = Object.values(resources).find(
      (r) =>
        r.Type === 'AWS::SecretsManager::ResourcePolicy' &&
        JSON.stringify(r.Properties.SecretId) === JSON.stringify({ Ref: fcmSecretId() }),
    );
    expect(JSON.stringify(policy?.Properties.ResourcePolicy)).toContain(
      '"Action":"secretsmanager:DeleteSecret"',
    );
  });

  it('lets only the sender read the FCM secrets, and tells only the sender where they are', () => {
    const fcmSecrets = [JSON.stringify({ Ref: fcmSecretId() }), JSON.stringify(IMPORTED_FCM_SECRET)];
    for (const [id, fn] of functions()) {
      const reads = statementsOfRole(resources, roleOf(fn))
        .filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'))
        .map((s) => JSON.stringify(s.Resource))
        .filter((resource) => fcmSecrets.includes(resource));
      const apps = JSON.stringify(
        (fn.Properties.Environment as { Variables: Record<string, unknown> })?.Variables?.[
          ENVIRONMENT.apps
        ] ?? '',
      );
      if (isSender(fn)) {
        expect(reads.sort(), id).toEqual([...fcmSecrets].sort());
        expect(apps).toContain(`secretsmanager:${IMPORTED_FCM_SECRET}`);
      } else {
        expect(reads, id).toEqual([]);
        expect(apps, id).not.toContain('/fcm/');
      }
    }
  });

  it('tells the route functions which apps have FCM, by project id', () => {
    const route = functions().find(
      ([, fn]) => !isSender(fn) && JSON.stringify(fn.Properties.Environment).includes(ENVIRONMENT.apps),
    );
    expect(JSON.stringify(route?.[1].Properties.Environment)).toContain('acme-chat-prod');
  });

  it('alarms when FCM refuses a service-account key', () => {
    expect(FCM_CREDENTIAL_FAILURE_REASONS).toEqual(FCM_CREDENTIAL_CODES);
    const alarm = Object.values(resources).find(
      (r) =>
        r.Type === 'AWS::CloudWatch::Alarm' &&
        r.Properties.AlarmName === 'prod-pushgate-FcmCredentialFailures',
    );
    const reasons = JSON.stringify(alarm?.Properties.Metrics);
    for (const reason of FCM_CREDENTIAL_CODES) expect(reasons).toContain(`"Value":"${reason}"`);
    expect(alarm?.Properties.Threshold).toBe(1);
  });

  it('is cdk-nag clean', () => {
    const report = new AwsSolutionsChecks().validateScope(synthesized.stack);
    expect(
      report.violations.map(
        (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.resourceLogicalId).join(', ')}`,
      ),
    ).toEqual([]);
  });
});
