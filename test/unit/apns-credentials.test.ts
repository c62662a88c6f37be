import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { loadCredentials } from '../../lambda/adapters/secondary/apns/apns-credentials';
import {
  CREDENTIALS_PLACEHOLDER,
  FCM_CREDENTIALS_PLACEHOLDER,
} from '../../lambda/adapters/secondary/apns/credentials-placeholder';
import { loadFcmCredentials } from '../../lambda/adapters/secondary/fcm/fcm-credentials';
import { CredentialsUnavailableError, JobFailedError } from '../../lambda/domain/errors';

vi.mock('@aws-lambda-powertools/parameters/secrets', () => ({ getSecret: vi.fn() }));
const secretValue = vi.mocked(getSecret);

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod-pushgate/apns/com.acme.chat-AbCdEf';
const app = (n: number) => ({
  appId: 'com.acme.chat',
  bundleId: 'com.acme.chat',
  credentials: `secretsmanager:${ARN}#${n}`,
});
const TOKEN_KEY = {
  keyId: 'ABC123DEFG',
  teamId: 'DEF123GHIJ',
  key: '-----BEGIN PRIVATE KEY-----\nMIGTAgEA\n-----END PRIVATE KEY-----',
};

beforeEach(() => secretValue.mockReset());

describe('APNs credentials from Secrets Manager', () => {
  it('name the secret to fill while it holds the stack’s placeholder, and load once it is filled', async () => {
    secretValue.mockResolvedValueOnce(CREDENTIALS_PLACEHOLDER);
    await expect(loadCredentials(app(1))).rejects.toThrow(
      `APNs credentials of com.acme.chat could not be loaded from the secret ${ARN}#1: it still holds the placeholder the stack created. Put the app’s APNs key in it`,
    );
    secretValue.mockResolvedValueOnce(JSON.stringify(TOKEN_KEY));
    await expect(loadCredentials(app(1))).resolves.toEqual({ kind: 'token', ...TOKEN_KEY });
  });

  it('fail as a job failure of the domain: dead-lettered as CredentialsUnavailable, for the app named', async () => {
    secretValue.mockResolvedValueOnce('not json');
    const failure = await loadCredentials(app(5)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CredentialsUnavailableError);
    expect(failure).toBeInstanceOf(JobFailedError);
    expect(failure).toMatchObject({ reason: 'CredentialsUnavailable', appId: 'com.acme.chat' });
    expect((failure as Error).message).not.toContain('not json');
  });

  it('are read again after at most a minute, so a fix is picked up within one', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: 1_000_000 });
    try {
      secretValue.mockResolvedValue(JSON.stringify(TOKEN_KEY));
      await loadCredentials(app(2));
      vi.setSystemTime(1_000_000 + 30_000);
      await loadCredentials(app(2));
      expect(secretValue).toHaveBeenCalledTimes(1);
      vi.setSystemTime(1_000_000 + 61_000);
      await loadCredentials(app(2));
      expect(secretValue).toHaveBeenCalledTimes(2);
      // Powertools keeps its own copy of the value: no longer than that either.
      for (const [, options] of secretValue.mock.calls) expect(options?.maxAge).toBeLessThanOrEqual(60);
    } finally {
      vi.useRealTimers();
    }
  });

  it('never quote the secret’s value when it is not the expected JSON', async () => {
    secretValue.mockResolvedValueOnce(TOKEN_KEY.key);
    const error = await loadCredentials(app(3)).catch((e: Error) => e);
    expect((error as Error).message).toContain('the value is not JSON');
    expect((error as Error).message).not.toContain('MIGT');
    secretValue.mockResolvedValueOnce(
      JSON.stringify({ keyId: 'short', teamId: 'DEF123GHIJ', key: 'MIGTsecret' }),
    );
    const wrongShape = await loadCredentials(app(4)).catch((e: Error) => e);
    expect((wrongShape as Error).message).toContain('neither {"keyId","teamId","key"}');
    expect((wrongShape as Error).message).not.toContain('MIGT');
  });
});

describe('FCM credentials from Secrets Manager', () => {
  const androidApp = (n: number, projectId = 'acme-chat') => ({
    appId: 'com.acme.chat',
    bundleId: 'com.acme.chat',
    fcm: { projectId, credentials: `secretsmanager:${ARN}#fcm${n}` },
  });
  const SERVICE_ACCOUNT = {
    type: 'service_account',
    project_id: 'ignored-in-favour-of-the-config',
    client_email: 'pushgate@acme-chat.iam.gserviceaccount.com',
    private_key: '-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----',
    client_id: '1',
  };
  const loaded = {
    projectId: 'acme-chat',
    serviceAccount: {
      project_id: 'acme-chat',
      client_email: SERVICE_ACCOUNT.client_email,
      private_key: SERVICE_ACCOUNT.private_key,
    },
  };

  it('name the secret to fill while it holds the placeholder, load the key for the configured project once filled', async () => {
    secretValue.mockResolvedValueOnce(FCM_CREDENTIALS_PLACEHOLDER);
    await expect(loadFcmCredentials(androidApp(1))).rejects.toThrow(
      `FCM credentials of com.acme.chat could not be loaded from the secret ${ARN}#fcm1: it still holds the placeholder the stack created.`,
    );
    secretValue.mockResolvedValueOnce(JSON.stringify(SERVICE_ACCOUNT));
    await expect(loadFcmCredentials(androidApp(1))).resolves.toEqual(loaded);
  });

  it('never quote the value when it is not a service-account key, and fail as CredentialsUnavailable', async () => {
    secretValue.mockResolvedValueOnce(SERVICE_ACCOUNT.private_key);
    const notJson = await loadFcmCredentials(androidApp(2)).catch((e: Error) => e);
    expect(notJson).toBeInstanceOf(CredentialsUnavailableError);
    expect((notJson as Error).message).toContain('the value is not JSON');
    expect((notJson as Error).message).not.toContain('MIIEvQ');
    secretValue.mockResolvedValueOnce(JSON.stringify({ ...SERVICE_ACCOUNT, type: 'authorized_user' }));
    const wrongShape = await loadFcmCredentials(androidApp(3)).catch((e: Error) => e);
    expect((wrongShape as Error).message).toContain('the value is not a service-account key');
    expect((wrongShape as Error).message).not.toContain('MIIEvQ');
  });

  it('say so when the app has no FCM or no credentials, without reading anything', async () => {
    const { fcm: _, ...iosOnly } = androidApp(4);
    await expect(loadFcmCredentials(iosOnly)).rejects.toThrow('from nowhere: the app has no FCM configured');
    await expect(loadFcmCredentials({ ...iosOnly, fcm: { projectId: 'acme-chat' } })).rejects.toThrow(
      'from nowhere: no credentials configured',
    );
    expect(secretValue).not.toHaveBeenCalled();
  });

  it('are kept a minute per project and source, then read again', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: 1_000_000 });
    try {
      secretValue.mockResolvedValue(JSON.stringify(SERVICE_ACCOUNT));
      await loadFcmCredentials(androidApp(5));
      vi.setSystemTime(1_000_000 + 30_000);
      await loadFcmCredentials(androidApp(5));
      expect(secretValue).toHaveBeenCalledTimes(1);
      // Another project on the same secret is its own entry: its credentials name it.
      await expect(loadFcmCredentials(androidApp(5, 'acme-other'))).resolves.toMatchObject({
        projectId: 'acme-other',
      });
      expect(secretValue).toHaveBeenCalledTimes(2);
      vi.setSystemTime(1_000_000 + 61_000);
      await loadFcmCredentials(androidApp(5));
      expect(secretValue).toHaveBeenCalledTimes(3);
    } finally {
      vi.useRealTimers();
    }
  });
});
