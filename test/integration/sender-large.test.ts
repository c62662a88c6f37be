import { afterAll, beforeAll, expect, it } from 'vitest';
import { seedDevices } from '../support/seed';
import { alertJob, SenderHarness } from '../support/sender-harness';

const STREAM_LIMIT = 100;
const harness = new SenderHarness();
beforeAll(() => harness.start({ maxConcurrentStreams: STREAM_LIMIT }), 30_000);
afterAll(() => harness.stop());

it('one job to 20 000 users reaches all 20 000 devices, never exceeding the server stream limit', async () => {
  const users = Array.from({ length: 20_000 }, (_, i) => `big-${i}`);
  const devices = await seedDevices(users, 1);
  await harness.deliver(alertJob({ userIds: users }, { notificationId: 'twenty-thousand' }), 600_000);

  const { stats } = harness.simulator;
  expect(new Set(harness.inboxTokens()).size).toBe(devices.length);
  expect(harness.simulator.inbox).toHaveLength(devices.length);
  expect(stats.requests).toBe(devices.length);
  expect(stats.rejected).toBe(0);
  expect(stats.maxInFlight).toBeLessThanOrEqual(STREAM_LIMIT);
  expect(stats.maxInFlight).toBeGreaterThan(STREAM_LIMIT / 2);
  expect(await harness.deadLetters()).toEqual([]);
}, 900_000);
