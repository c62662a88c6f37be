import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { App, CfnOutput, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pushgate } from '../../infra';
import type { Resource } from './stack-fixture';

const ALARM_TOPIC = 'arn:aws:sns:us-east-2:123456789012:pagerduty';

/** Someone else's CDK app: their own backend function, pushgate inside their stack. */
class ChatBackendStack extends Stack {
  readonly push: Pushgate;

  constructor(scope: Construct, id: string) {
    super(scope, id, { env: { account: '123456789012', region: 'us-east-2' } });
    this.push = new Pushgate(this, 'Push', {
      apps: [{ appId: 'com.acme.chat', bundleId: 'com.acme.chat' }],
      auth: { jwt: { issuer: 'https://auth.acme.test/', audience: ['chat-ios'] } },
      alarms: { topicArn: ALARM_TOPIC },
    });
    const orders = new lambda.Function(this, 'OrderService', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {};'),
      environment: { PUSH_QUEUE_URL: this.push.sendQueue.queueUrl },
    });
    this.push.grantSendJobs(orders);
    new CfnOutput(this, 'PushApiUrl', { value: this.push.apiUrl });
  }
}

/**
 * The app lives in a folder of its own outside this repository and runs from there, with
 * bundling on: every handler is found and bundled from the pushgate folder wherever `cdk`
 * runs (relative entry paths failed here with CannotFindEntryFile).
 */
let appDir: string;
let outdir: string;
let resources: Record<string, Resource>;
const repository = process.cwd();
beforeAll(() => {
  appDir = mkdtempSync(join(tmpdir(), 'pushgate-own-app-'));
  outdir = join(appDir, 'cdk.out');
  process.chdir(appDir);
  try {
    const app = new App({ outdir });
    new ChatBackendStack(app, 'ChatBackend');
    const assembly = app.synth();
    resources = assembly.getStackByName('ChatBackend').template.Resources;
  } finally {
    process.chdir(repository);
  }
});
afterAll(() => rmSync(appDir, { recursive: true, force: true }));

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

describe('the Pushgate construct in an app of its own', () => {
  it('synthesizes from a folder outside the repository, with every handler bundled', () => {
    expect(relative(repository, appDir).startsWith('..')).toBe(true);
    const pushFunctions = ofType('AWS::Lambda::Function').filter(([id]) => id.startsWith('Push'));
    // One per route and the sender.
    expect(pushFunctions.length).toBeGreaterThanOrEqual(13);
    for (const [id, fn] of pushFunctions) {
      const key = String((fn.Properties.Code as { S3Key?: unknown }).S3Key);
      expect(key, id).toMatch(/^[0-9a-f]{64}\.zip$/);
      const asset = join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
      expect(existsSync(asset), id).toBe(true);
      expect(readdirSync(asset), id).toContain('index.mjs');
    }
  });

  it('synthesizes next to the app’s own resources, which can send jobs to it', () => {
    const orders = ofType('AWS::Lambda::Function').find(([id]) => id.startsWith('OrderService'));
    expect(orders).toBeDefined();
    const queueId = ofType('AWS::SQS::Queue').find(([, r]) => r.Properties.RedrivePolicy)?.[0];
    const ordersPolicy = ofType('AWS::IAM::Policy').find(([id]) => id.startsWith('OrderService'))?.[1];
    expect(JSON.stringify(ordersPolicy?.Properties.PolicyDocument)).toContain('sqs:SendMessage');
    expect(JSON.stringify(ordersPolicy?.Properties.PolicyDocument)).toContain(`"${queueId}"`);
  });

  it('uses the given issuer instead of creating a user pool, and the given alarm topic', () => {
    expect(ofType('AWS::Cognito::UserPool')).toHaveLength(0);
    const authorizer = ofType('AWS::ApiGatewayV2::Authorizer')[0]?.[1];
    expect(authorizer?.Properties.JwtConfiguration).toEqual({
      Issuer: 'https://auth.acme.test/',
      Audience: ['chat-ios'],
    });
    expect(ofType('AWS::SNS::Topic')).toHaveLength(0);
    const alarms = [...ofType('AWS::CloudWatch::Alarm'), ...ofType('AWS::CloudWatch::CompositeAlarm')].filter(
      ([, alarm]) => !/-RouteErrors-\d+$/.test(String(alarm.Properties.AlarmName)),
    );
    expect(alarms.length).toBe(12); // FcmCredentialFailures joined the eleven
    for (const [, alarm] of alarms) expect(alarm.Properties.AlarmActions).toEqual([ALARM_TOPIC]);
  });

  it('falls back to the default name and a sender concurrency that fits a quota of 10', () => {
    const secret = ofType('AWS::SecretsManager::Secret')[0]?.[1];
    expect(JSON.stringify(secret?.Properties.Name)).toContain('"pushgate/apns/com.acme.chat/"');
    expect(ofType('AWS::CloudWatch::Dashboard')[0]?.[1].Properties.DashboardName).toBe('pushgate');
    const mapping = ofType('AWS::Lambda::EventSourceMapping')[0]?.[1];
    expect(mapping?.Properties.ScalingConfig).toEqual({ MaximumConcurrency: 5 });
  });
});
