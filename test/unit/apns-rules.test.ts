import { describe, expect, it } from 'vitest';
import {
  classifyApnsAnswer,
  endsSession,
  fatalAnswer,
  readApnsAnswer,
  retryAtOnce,
} from '../../lambda/domain/apns-answer';
import { apnsTopic, collapseId, compileApnsRequest } from '../../lambda/domain/apns-request';
import { PayloadTooLargeError } from '../../lambda/domain/errors';
import { MAX_SQS_DELAY_SECONDS, retryDelaySeconds } from '../../lambda/domain/retry-policy';
import type { SendJob } from '../../lambda/domain/send-job';

const job: SendJob = {
  notificationId: 'n-1',
  appId: 'com.example.app',
  to: { userIds: ['a'] },
  aps: { alert: 'Hi' },
};

describe('compileApnsRequest', () => {
  it('puts aps, custom data and the pushgate id at the top level', () => {
    const request = compileApnsRequest({ ...job, data: { orderId: '7' } }, 'com.example.app');
    expect(JSON.parse(request.body)).toEqual({ orderId: '7', aps: { alert: 'Hi' }, pushgate: { id: 'n-1' } });
    expect(request.headers).toEqual({
      'apns-push-type': 'alert',
      'apns-topic': 'com.example.app',
      'apns-priority': '10',
      'apns-collapse-id': 'n-1',
    });
  });

  it('defaults background pushes to priority 5 and suffixes topics per push type', () => {
    const request = compileApnsRequest(
      { ...job, aps: { 'content-available': 1 }, apns: { pushType: 'background' } },
      'com.example.app',
    );
    expect(request.headers['apns-priority']).toBe('5');
    expect(apnsTopic('com.example.app', 'voip')).toBe('com.example.app.voip');
    expect(apnsTopic('com.example.app', 'liveactivity')).toBe('com.example.app.push-type.liveactivity');
  });

  it('refuses a payload over 4096 bytes', () => {
    const big = { ...job, data: { blob: 'x'.repeat(4500) } };
    expect(() => compileApnsRequest(big, 'com.example.app')).toThrow(PayloadTooLargeError);
  });

  it('uses a hash as collapse id when the notification id is longer than 64 bytes', () => {
    expect(collapseId({ ...job, notificationId: 'n'.repeat(100) })).toHaveLength(64);
    expect(collapseId({ ...job, apns: { collapseId: 'mine' } })).toBe('mine');
  });
});

describe('classifyApnsAnswer', () => {
  it.each([
    [{ status: 200, apnsId: 'x' }, 'accepted'],
    [{ status: 410, reason: 'Unregistered', timestamp: 1 }, 'invalid-token'],
    [{ status: 410, reason: 'ExpiredToken', timestamp: 1 }, 'invalid-token'],
    [{ status: 400, reason: 'BadDeviceToken' }, 'invalid-token'],
    [{ status: 400, reason: 'DeviceTokenNotForTopic' }, 'invalid-token'],
    [{ status: 400, reason: 'IdleTimeout' }, 'retryable'],
    [{ status: 429, reason: 'TooManyRequests' }, 'retryable'],
    [{ status: 500, reason: 'InternalServerError' }, 'retryable'],
    [{ status: 503, reason: 'Shutdown' }, 'retryable'],
    [{ transportError: 'Timeout' }, 'retryable'],
    [{ status: 403, reason: 'ExpiredProviderToken' }, 'retryable'],
    [{ status: 403, reason: 'InvalidProviderToken' }, 'credential-error'],
    [{ status: 403, reason: 'BadCertificateEnvironment' }, 'credential-error'],
    [{ status: 400, reason: 'BadTopic' }, 'job-error'],
    [{ status: 400, reason: 'BadCollapseId' }, 'job-error'],
    [{ status: 413, reason: 'PayloadTooLarge' }, 'job-error'],
    [{ status: 404, reason: 'BadPath' }, 'job-error'],
  ])('%o → %s', (answer, kind) => {
    expect(classifyApnsAnswer(answer).kind).toBe(kind);
  });

  it('keeps the 410 timestamp and the retry-after', () => {
    expect(classifyApnsAnswer({ status: 410, reason: 'Unregistered', timestamp: 42 })).toMatchObject({
      timestamp: 42,
    });
    expect(classifyApnsAnswer({ status: 429, reason: 'TooManyRequests', retryAfter: '30' })).toMatchObject({
      retryAfterSeconds: 30,
    });
  });
});

describe('an answer that is not a complete APNs answer', () => {
  it.each([
    ['400 with an empty body', { status: 400, body: '' }],
    ['400 with unparseable JSON', { status: 400, body: '{"reason":' }],
    ['400 with a body but no reason', { status: 400, body: '{"error":"x"}' }],
    ['410 without its timestamp', { status: 410, body: '{"reason":"Unregistered"}' }],
    [
      '410 with a timestamp that is not a number',
      { status: 410, body: '{"reason":"Unregistered","timestamp":"x"}' },
    ],
    ['403 with an empty body', { status: 403, body: '' }],
    ['500 with an empty body', { status: 500, body: '' }],
  ])('%s is retryable (IncompleteAnswer): never a prune, never a job failure', (_name, response) => {
    const outcome = classifyApnsAnswer(readApnsAnswer(response));
    expect(outcome).toMatchObject({ kind: 'retryable', reason: 'IncompleteAnswer', status: response.status });
  });

  it('transport failures say nothing about the token', () => {
    for (const transportError of ['ConnectionError', 'Timeout', 'ConnectionFailed']) {
      expect(classifyApnsAnswer({ transportError })).toEqual({ kind: 'retryable', reason: transportError });
    }
    expect(classifyApnsAnswer({})).toEqual({ kind: 'retryable', reason: 'ConnectionError' });
  });

  it('a complete answer keeps its reason, timestamp, apns-id and retry-after', () => {
    expect(
      readApnsAnswer({
        status: 410,
        body: '{"reason":"Unregistered","timestamp":1767225600000}',
        apnsId: 'a',
      }),
    ).toEqual({ status: 410, reason: 'Unregistered', timestamp: 1767225600000, apnsId: 'a' });
    expect(readApnsAnswer({ status: 429, body: '{"reason":"TooManyRequests"}', retryAfter: '30' })).toEqual({
      status: 429,
      reason: 'TooManyRequests',
      retryAfter: '30',
    });
    expect(readApnsAnswer({ status: 200, body: '', apnsId: 'b' })).toEqual({ status: 200, apnsId: 'b' });
  });
});

describe('what the sender does with an answer', () => {
  it('sends again at once only after ExpiredProviderToken (the gateway has a fresh token by then)', () => {
    expect(retryAtOnce({ status: 403, reason: 'ExpiredProviderToken' })).toBe(true);
    expect(retryAtOnce({ status: 403, reason: 'InvalidProviderToken' })).toBe(false);
    expect(retryAtOnce({ transportError: 'ConnectionError' })).toBe(false);
    expect(retryAtOnce({ status: 429, reason: 'TooManyProviderTokenUpdates' })).toBe(false);
  });

  it('only credential and request errors stop the job', () => {
    const outcomes = [
      classifyApnsAnswer({ status: 200 }),
      classifyApnsAnswer(readApnsAnswer({ status: 400, body: '' })),
      classifyApnsAnswer({ status: 410, reason: 'Unregistered', timestamp: 1 }),
      classifyApnsAnswer({ status: 403, reason: 'ExpiredProviderToken' }),
    ];
    expect(fatalAnswer(outcomes)).toBeUndefined();
    expect(fatalAnswer([...outcomes, classifyApnsAnswer({ status: 403, reason: 'BadCertificate' })])).toEqual(
      {
        kind: 'credential-error',
        reason: 'BadCertificate',
        status: 403,
      },
    );
    expect(fatalAnswer([classifyApnsAnswer({ status: 400, reason: 'BadTopic' })])?.kind).toBe('job-error');
  });

  it('retires the session when APNs asks for a new connection', () => {
    expect(endsSession({ status: 400, reason: 'IdleTimeout' })).toBe(true);
    expect(endsSession({ status: 503, reason: 'Shutdown' })).toBe(true);
    expect(endsSession({ status: 503, reason: 'ServiceUnavailable' })).toBe(false);
  });
});

describe('retryDelaySeconds', () => {
  it('grows with each attempt, with jitter within half the backoff', () => {
    expect(retryDelaySeconds(1, 0, 15, () => 0)).toBe(8);
    expect(retryDelaySeconds(1, 0, 15, () => 1)).toBe(15);
    expect(retryDelaySeconds(3, 0, 15, () => 1)).toBe(60);
  });

  it('honours retry-after and never exceeds the SQS maximum', () => {
    expect(retryDelaySeconds(1, 120, 15, () => 0)).toBe(120);
    expect(retryDelaySeconds(10, 0, 15, () => 1)).toBe(MAX_SQS_DELAY_SECONDS);
    expect(retryDelaySeconds(1, 5000, 15, () => 1)).toBe(MAX_SQS_DELAY_SECONDS);
  });
});
