import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TOKENS_PER_PART } from '../../lambda/domain/job-part';
import { scanJson } from '../../lambda/strict-json';
import { MAX_JSON_NESTING } from '../../lambda/validation';
import { api, newToken, newUser } from '../support/api';
import { alertJob, registerDevices, SenderHarness } from '../support/sender-harness';

/*
 * The queue must carry every job the API or the queue accepts: a job part wraps its
 * job in one more level, and a split or a retry puts a published job in a part. Each
 * depth is either refused up front (400, or the DLQ at intake with its reason) or
 * delivered — never accepted and then dead-lettered by the sender's own envelope.
 */

const harness = new SenderHarness();
beforeAll(() => harness.start({ visibilityTimeoutSeconds: 10 }), 30_000);
afterAll(() => harness.stop());
beforeEach(() => harness.purge());

/** `data` nested so that the whole job nests exactly `levels` objects and arrays (the job itself is 1). */
function nestedData(levels: number): unknown {
  let value: unknown = 'bottom';
  for (let level = 2; level < levels; level++) value = [value];
  return { deep: value };
}

function jobAt(levels: number, to: { userIds: string[] } | { tokens: string[] }) {
  const job = alertJob(to, { data: nestedData(levels) });
  const text = JSON.stringify(job);
  // The helper builds what it says: exactly `levels`, no more, no fewer.
  expect(scanJson(text, levels).tooDeep).toBe(false);
  expect(scanJson(text, levels - 1).tooDeep).toBe(true);
  return job;
}

/** A device whose first push fails with a 503, so the sender puts it in a retry part. */
async function deviceFailingOnce(): Promise<{ user: string; token: string }> {
  const user = newUser('deep');
  const [token] = (await registerDevices(user, 1)) as [string];
  harness.simulator.failToken(token, { status: 503, reason: 'ServiceUnavailable' });
  return { user, token };
}

describe(`a job nested ${MAX_JSON_NESTING - 1}, ${MAX_JSON_NESTING} or ${MAX_JSON_NESTING + 1} levels`, () => {
  it.each([MAX_JSON_NESTING - 1, MAX_JSON_NESTING])(
    'through the API at %i levels: accepted, split into parts and retried, and delivered',
    async (levels) => {
      const first = await deviceFailingOnce();
      const second = await deviceFailingOnce();
      // More tokens than one part carries: the API enqueues two parts, each retried once.
      const filler = Array.from({ length: TOKENS_PER_PART - 1 }, () => newToken());
      const answer = await api('POST', '/v1/notifications', {
        backend: true,
        body: jobAt(levels, { tokens: [first.token, ...filler, second.token] }),
      });
      expect([answer.status, answer.body.parts]).toEqual([202, 2]);
      await harness.source.idle(120_000);
      expect(await harness.deadLetters()).toEqual([]);
      expect(harness.inboxTokens().sort()).toEqual([first.token, second.token].sort());
    },
  );

  it.each([MAX_JSON_NESTING - 1, MAX_JSON_NESTING])(
    'published to the queue at %i levels: split by the sender, retried, and delivered',
    async (levels) => {
      const first = await deviceFailingOnce();
      const second = await deviceFailingOnce();
      const filler = Array.from({ length: TOKENS_PER_PART - 1 }, () => newToken());
      await harness.deliver(jobAt(levels, { tokens: [first.token, ...filler, second.token] }));
      expect(await harness.deadLetters()).toEqual([]);
      expect(harness.inboxTokens().sort()).toEqual([first.token, second.token].sort());
    },
  );

  it(`through the API at ${MAX_JSON_NESTING + 1} levels: 400 NestingTooDeep, nothing queued or sent`, async () => {
    const { user } = await deviceFailingOnce();
    const answer = await api('POST', '/v1/notifications', {
      backend: true,
      body: jobAt(MAX_JSON_NESTING + 1, { userIds: [user] }),
    });
    expect([answer.status, answer.body.error.code]).toEqual([400, 'NestingTooDeep']);
    await harness.source.idle(120_000);
    expect(harness.inboxTokens()).toEqual([]);
    expect(await harness.deadLetters()).toEqual([]);
  });

  it(`published to the queue at ${MAX_JSON_NESTING + 1} levels: the DLQ at intake as InvalidJob with its reason`, async () => {
    const { token } = await deviceFailingOnce();
    const job = jobAt(MAX_JSON_NESTING + 1, { tokens: [token] });
    await harness.deliver(job);
    expect(harness.inboxTokens()).toEqual([]);
    expect(await harness.deadLetters()).toEqual([
      {
        body: job,
        reason: 'InvalidJob',
        detail: `The message body nests objects and arrays more than ${MAX_JSON_NESTING} levels deep.`,
      },
    ]);
  });
});
