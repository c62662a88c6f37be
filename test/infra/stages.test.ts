import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { App, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { type PushgateConfig, resolveStage, type StageConfig } from '../../infra/config';
import { Pushgate } from '../../infra/pushgate';
import { type PushgateProps, resolvePushgateProps } from '../../infra/pushgate-props';
import committed from '../../pushgate.config';
import {
  ACCOUNT,
  CERTIFICATE_ARN,
  IMPORTED_SECRET_ARN,
  KMS_KEY_ARN,
  PROD_STAGE,
  REGION,
} from './stack-fixture';

const run = promisify(execFile);
const withStage = (name: string, stage: StageConfig): PushgateConfig => ({ stages: { [name]: stage } });
const app = (appId: string, extra: Partial<PushgateProps['apps'][number]> = {}) => ({
  appId,
  bundleId: appId,
  ...extra,
});
const props = (changes: Partial<PushgateProps>): PushgateProps => ({
  apps: [app('com.acme.app')],
  auth: { jwt: { issuer: 'https://auth.acme.test/', audience: ['ios'] } },
  ...changes,
});

describe('pushgate.config.ts, the committed configuration', () => {
  it('has a dev stage that resolves to valid props, deployed as the stack dev-pushgate', () => {
    const dev = resolveStage(committed, 'dev');
    expect(dev.stackName).toBe('dev-pushgate');
    expect(dev.props.name).toBe('dev-pushgate');
    expect(() => resolvePushgateProps(dev.props)).not.toThrow();
  });
});

describe('stages', () => {
  it('prefix the stack and every name with the stage', () => {
    const prod = resolveStage(withStage('prod', PROD_STAGE), 'prod');
    expect(prod.stackName).toBe('prod-pushgate');
    expect(prod.props.name).toBe('prod-pushgate');
    expect(prod.env).toEqual({ account: ACCOUNT, region: REGION });
  });

  it('refuse a stage the file does not define, naming the ones it does', () => {
    expect(() => resolveStage(committed, 'prdo')).toThrow(/no stage "prdo" \(it has: dev\)/);
    expect(() => resolveStage(committed, 'Prod!')).toThrow(/lower-case letters and digits/);
  });

  it('refuse a real stage that still serves the example app', () => {
    const example = { ...PROD_STAGE, apps: [app('com.example.app')] };
    expect(() => resolveStage(withStage('prod', example), 'prod')).toThrow(/example app com\.example\.app/);
    // dev may.
    expect(() => resolveStage(withStage('dev', example), 'dev')).not.toThrow();
  });

  it('refuse a real stage without a fixed account and region, or with nobody to alarm', () => {
    const { env: _env, ...unpinned } = PROD_STAGE;
    expect(() => resolveStage(withStage('prod', unpinned), 'prod')).toThrow(
      /needs env: \{ account, region \}/,
    );
    const elsewhere = { ...PROD_STAGE, env: { account: '1234', region: 'Europe' } };
    expect(() => resolveStage(withStage('prod', elsewhere), 'prod')).toThrow(/12-digit account id/);
    const silent = { ...PROD_STAGE, alarms: { emails: [] } };
    expect(() => resolveStage(withStage('prod', silent), 'prod')).toThrow(/no alarm recipients/);
  });
});

describe('props are checked at synth, with a message that says what to fix', () => {
  const refusal = (changes: Partial<PushgateProps>) => {
    try {
      resolvePushgateProps(props(changes));
    } catch (error) {
      return (error as Error).message;
    }
    return 'accepted';
  };

  it('app ids that differ only in punctuation (their CloudFormation ids would collide), or repeat', () => {
    expect(refusal({ apps: [app('com.acme.chat'), app('com.acme-chat')] })).toMatch(
      /com\.acme\.chat and com\.acme-chat differ only in punctuation/,
    );
    expect(refusal({ apps: [app('com.acme.chat'), app('com.acme.chat')] })).toMatch(/configured twice/);
    expect(refusal({ apps: [app('com.acme.chat'), app('com.acme.chat2')] })).toBe('accepted');
    expect(refusal({ apps: [app('not a bundle id')] })).toMatch(/bundle id/);
  });

  it('a KMS key without its secret, in another region than the secret, or given as an alias', () => {
    expect(refusal({ apps: [app('com.acme.chat', { credentialsKmsKeyArn: KMS_KEY_ARN })] })).toMatch(
      /set credentialsSecretArn too/,
    );
    const otherRegionKey = KMS_KEY_ARN.replace(REGION, 'us-east-1');
    expect(
      refusal({
        apps: [
          app('com.acme.chat', {
            credentialsSecretArn: IMPORTED_SECRET_ARN,
            credentialsKmsKeyArn: otherRegionKey,
          }),
        ],
      }),
    ).toMatch(/share it/);
    expect(
      refusal({
        apps: [
          app('com.acme.chat', {
            credentialsSecretArn: IMPORTED_SECRET_ARN,
            credentialsKmsKeyArn: `arn:aws:kms:${REGION}:${ACCOUNT}:alias/apns`,
          }),
        ],
      }),
    ).toMatch(/alias ARN cannot be granted/);
    expect(refusal({ apps: [app('com.acme.chat', { credentialsSecretArn: 'pushgate/apns/chat' })] })).toMatch(
      /complete ARN/,
    );
  });

  it('both or neither of auth.jwt and auth.cognito, a typo’d key, reserved concurrency below the maximum', () => {
    expect(
      refusal({
        auth: {
          jwt: { issuer: 'https://auth.acme.test/', audience: ['ios'] },
          cognito: { callbackUrls: ['com.acme.app://signed-in'] },
        },
      }),
    ).toMatch(/exactly one of auth\.jwt/);
    expect(refusal({ auth: {} })).toMatch(/exactly one of auth\.jwt/);
    expect(refusal({ alarms: { email: ['a@acme.test'] } } as unknown as Partial<PushgateProps>)).toMatch(
      /Unrecognized key: "email"/,
    );
    expect(refusal({ sender: { maxConcurrency: 10, reservedConcurrency: 5 } })).toMatch(
      /reservedConcurrency/,
    );
    expect(refusal({ alarms: { emails: ['a@acme.test', 'a@acme.test'] } })).toMatch(/listed twice/);
    expect(refusal({ auth: { cognito: { callbackUrls: ['http://acme.test/cb'] } } })).toMatch(/localhost/);
    expect(refusal({ name: 'aws-pushgate', auth: { cognito: { callbackUrls: ['acme://cb'] } } })).toMatch(
      /set auth\.cognito\.domainPrefix/,
    );
  });

  it('a secret, an alarm topic or a certificate in another region than the stack', () => {
    const build = (changes: Partial<PushgateProps>) => () =>
      new Pushgate(
        new Stack(new App(), 'S', { env: { account: ACCOUNT, region: 'us-east-1' } }),
        'Push',
        props(changes),
      );
    expect(build({ apps: [app('com.acme.chat', { credentialsSecretArn: IMPORTED_SECRET_ARN })] })).toThrow(
      /secret of com\.acme\.chat is in eu-west-1, the stack in us-east-1/,
    );
    expect(build({ alarms: { topicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:oncall` } })).toThrow(
      /alarms\.topicArn is in eu-west-1, the stack in us-east-1/,
    );
    expect(build({ domain: { name: 'push.acme.test', certificateArn: CERTIFICATE_ARN } })).toThrow(
      /certificate must be in the stack's region \(us-east-1\), not eu-west-1/,
    );
  });
});

describe('npx cdk synth (infra/app.ts)', () => {
  it('refuses a stage typo and a configuration given with -c, before building anything', async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'pushgate-synth-'));
    const synth = (context: Record<string, unknown>) =>
      run(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'infra/app.ts'], {
        env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: outdir },
      }).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
      );
    try {
      const [typo, retired] = await Promise.all([
        synth({ stage: 'prdo' }),
        synth({ apps: '[{"appId":"com.acme.chat","bundleId":"com.acme.chat"}]' }),
      ]);
      expect(typo.code).toBe(1);
      expect(typo.stderr).toContain('pushgate.config.ts has no stage "prdo" (it has: dev)');
      expect(retired.code).toBe(1);
      expect(retired.stderr).toContain('-c apps: configuration lives in pushgate.config.ts');
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
