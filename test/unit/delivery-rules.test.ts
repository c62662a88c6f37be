import { describe, expect, it } from 'vitest';
import { environmentToTryInstead, otherEnvironment } from '../../lambda/domain/device';
import { JobFailedError, PushgateError } from '../../lambda/domain/errors';
import {
  partsOf,
  repushPartName,
  retryPartName,
  splitPartName,
  USERS_PER_PART,
} from '../../lambda/domain/job-part';
import type { SendJob } from '../../lambda/domain/send-job';
import { mapConcurrent } from '../../lambda/use-cases/delivery/concurrency';

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
