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

  it('throws its failure message after the last attempt that got nothing done, with the count still undone', async () => {
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
    // The first call got 'a' done; then four in a row got nothing.
    expect(calls).toBe(1 + retry.attempts);
  });

  it('a call that got some done is no failed attempt: a service doing one entry a call gets through them all', async () => {
    // A BatchGetItem answer holds at most 16 MB (~1 MB offline): large items take many calls.
    const calls: number[] = [];
    const entries = Array.from({ length: 3 * retry.attempts }, (_, i) => i);
    await retryUnprocessed(
      entries,
      async (pending) => {
        calls.push(pending.length);
        return pending.slice(1);
      },
      { ...retry, firstPauseMs: 1 },
    );
    expect(calls).toEqual(entries.map((_, i) => entries.length - i));
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
