import { afterEach, describe, expect, it, vi } from 'vitest';
import { retryUnprocessed } from '../../lambda/adapters/secondary/retry-unprocessed';

const retry = { attempts: 4, firstPauseMs: 50, failure: (undone: number) => `${undone} left undone` };

describe('retrying what a batch call left unprocessed', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('repeats only the entries left undone, until none are', async () => {
    const calls: (readonly string[])[] = [];
    const answers = [['b', 'c'], ['c'], []];
    await retryUnprocessed(
      ['a', 'b', 'c'],
      async (entries) => {
        calls.push(entries);
        return answers[calls.length - 1];
      },
      { ...retry, firstPauseMs: 1 },
    );
    expect(calls).toEqual([['a', 'b', 'c'], ['b', 'c'], ['c']]);
  });

  it('calls once when the service does everything (undefined or empty means nothing is left)', async () => {
    let calls = 0;
    await retryUnprocessed(
      ['a'],
      async () => {
        calls++;
        return undefined;
      },
      retry,
    );
    expect(calls).toBe(1);
  });

  it('pauses twice as long before each repeat', async () => {
    vi.useFakeTimers();
    const calledAt: number[] = [];
    const done = retryUnprocessed(
      ['a'],
      async (entries) => {
        calledAt.push(Date.now());
        return calledAt.length < 3 ? entries : [];
      },
      retry,
    );
    await vi.runAllTimersAsync();
    await done;
    const [first = 0, second = 0, third = 0] = calledAt;
    expect([second - first, third - second]).toEqual([100, 200]);
  });

  it('throws its failure message after the last attempt, with the count still undone', async () => {
    let calls = 0;
    const attempt = retryUnprocessed(
      ['a', 'b'],
      async () => {
        calls++;
        return ['b'];
      },
      { ...retry, firstPauseMs: 1 },
    );
    await expect(attempt).rejects.toThrow('1 left undone');
    expect(calls).toBe(4);
  });

  it('does not call at all for no entries', async () => {
    let calls = 0;
    await retryUnprocessed(
      [],
      async () => {
        calls++;
        return [];
      },
      retry,
    );
    expect(calls).toBe(0);
  });
});
