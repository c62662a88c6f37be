import { describe, expect, it } from 'vitest';
import { mapConcurrent } from '../../lambda/domain/concurrency';
import { environmentToTryInstead, otherEnvironment } from '../../lambda/domain/device';
import { JobFailedError, PushgateError } from '../../lambda/domain/errors';
import { MAX_FCM_TOKEN_LENGTH } from '../../lambda/domain/fcm-token';
import {
  DEVICES_PER_PART,
  devicePartsOf,
  JOB_PART_FORMAT,
  MAX_PART_BYTES,
  MAX_PART_JOB_BYTES,
  partBytes,
  partsOf,
  repushPartName,
  retryPartName,
  splitPartName,
  USERS_PER_PART,
} from '../../lambda/domain/job-part';
import type { PushDevice } from '../../lambda/domain/push-device';
import type { SendJob } from '../../lambda/domain/send-job';

describe('part names', () => {
  it('name splits, retries of a chunk and re-push rounds under their part', () => {
    expect(splitPartName(undefined, 3)).toBe('3');
    expect(splitPartName('0', 3)).toBe('0.3');
    expect(retryPartName('0.3', 2)).toBe('0.3/2');
    expect(repushPartName('0.3', 2, 1)).toBe('0.3/2r1');
    expect(retryPartName(repushPartName('0', 1, 2), 4)).toBe('0/1r2/4');
  });

  it('a big job is split into parts named under the parent, the same way every time', () => {
    const job: SendJob = {
      notificationId: 'n',
      appId: 'a',
      to: { userIds: Array.from({ length: USERS_PER_PART * 2 + 1 }, (_, i) => `u${i}`) },
      aps: { alert: 'x' },
    };
    expect(partsOf(job, '0').map((part) => part.part)).toEqual(['0.0', '0.1', '0.2']);
    expect(partsOf(job).map((part) => part.part)).toEqual(['0', '1', '2']);
  });
});

describe('parts fit one SQS message whatever the tokens', () => {
  const longToken = (i: number) => `${String(i).padStart(8, '0')}:${'T'.repeat(MAX_FCM_TOKEN_LENGTH - 9)}`;
  const job = (tokens: string[]): SendJob => ({
    notificationId: 'n',
    appId: 'a'.repeat(200),
    to: { tokens },
    aps: { alert: 'x' },
  });

  it('a job to long tokens is cut by size as well as by count, each token in one part, in order', () => {
    const tokens = Array.from({ length: 2_000 }, (_, i) => longToken(i));
    const parts = partsOf(job(tokens));
    expect(parts.length).toBeGreaterThan(2_000 / 250);
    for (const part of parts) expect(partBytes(part)).toBeLessThanOrEqual(MAX_PART_JOB_BYTES);
    expect(parts.flatMap((part) => (part.job.to as { tokens: string[] }).tokens)).toEqual(tokens);
    // Short tokens still go 2 000 to a part.
    expect(partsOf(job(tokens.map((_, i) => i.toString(16).padStart(64, '0'))))).toHaveLength(1);
  });

  it('a retry of 500 long-token devices beside its job is cut into parts under MAX_PART_BYTES, named the same every time', () => {
    const [part] = partsOf(job(Array.from({ length: 200 }, (_, i) => longToken(i))));
    if (part === undefined) throw new Error('no part');
    const devices: PushDevice[] = Array.from({ length: DEVICES_PER_PART }, (_, i) => ({
      token: longToken(i),
      userId: 'u'.repeat(256),
      appId: 'a'.repeat(200),
      environment: 'production',
      platform: 'android',
    }));
    const cut = () =>
      devicePartsOf(
        { pushgate: JOB_PART_FORMAT, job: part.job, attempt: 1 },
        '0/0',
        devices,
        () => 'Unavailable',
      );
    const retries = cut();
    expect(retries.length).toBeGreaterThan(1);
    for (const retry of retries) expect(partBytes(retry)).toBeLessThanOrEqual(MAX_PART_BYTES);
    expect(retries.flatMap((retry) => retry.devices)).toEqual(devices);
    expect(retries.map((retry) => retry.part)).toEqual(retries.map((_, i) => `0/0.${i}`));
    expect(cut()).toEqual(retries);
    // Short tokens: one part of all 500, under the chunk's own name.
    const short = devicePartsOf({ pushgate: JOB_PART_FORMAT, job: part.job, attempt: 1 }, '0/0', [
      ...devices.map((device, i) => ({
        ...device,
        token: i.toString(16).padStart(64, '0'),
        platform: undefined,
      })),
    ]);
    expect(short.map((retry) => retry.part)).toEqual(['0/0']);
  });
});

describe('the other environment', () => {
  it('a BadDeviceToken is tried once in the other environment; nothing else is', () => {
    expect(otherEnvironment('production')).toBe('sandbox');
    expect(otherEnvironment('sandbox')).toBe('production');
    const bad = { kind: 'invalid-token', reason: 'BadDeviceToken' };
    expect(environmentToTryInstead('production', bad)).toBe('sandbox');
    expect(environmentToTryInstead('sandbox', bad)).toBe('production');
    expect(environmentToTryInstead('production', { kind: 'invalid-token', reason: 'Unregistered' })).toBe(
      undefined,
    );
    expect(
      environmentToTryInstead('production', { kind: 'invalid-token', reason: 'DeviceTokenNotForTopic' }),
    ).toBe(undefined);
    expect(environmentToTryInstead('production', { kind: 'retryable', reason: 'BadDeviceToken' })).toBe(
      undefined,
    );
  });
});

describe('JobFailedError', () => {
  it('is part of the one error hierarchy, with its reason as the code', () => {
    const error = new JobFailedError('BadTopic', 'APNs answered 400 BadTopic');
    expect(error).toBeInstanceOf(PushgateError);
    expect(error.reason).toBe('BadTopic');
    expect(error.code).toBe('BadTopic');
    expect(error.message).toBe('APNs answered 400 BadTopic');
  });
});

describe('mapConcurrent', () => {
  it('keeps item order and at most `concurrency` tasks running', async () => {
    let running = 0;
    let most = 0;
    const results = await mapConcurrent([5, 1, 4, 2, 3], 2, async (n) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, n));
      running--;
      return n * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30]);
    expect(most).toBe(2);
  });

  it('after a failure starts nothing more, and rejects only once every running task has stopped', async () => {
    const started: number[] = [];
    let running = 0;
    const failing = mapConcurrent([0, 1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      started.push(n);
      running++;
      try {
        await new Promise((resolve) => setTimeout(resolve, n === 1 ? 1 : 30));
        if (n === 1) throw new JobFailedError('BadTopic', 'stop');
      } finally {
        running--;
      }
    });
    await expect(failing).rejects.toThrow('stop');
    // The two tasks running beside the failing one finished before the rejection; nothing new began.
    expect(running).toBe(0);
    expect(started.sort()).toEqual([0, 1, 2]);
  });
});
