import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Device } from '../../lambda/domain/device';
import type { TokenAnswer } from '../../local/apns-simulator/faults';
import { seedDevices } from '../support/seed';
import { alertJob, deviceRecord, SenderHarness, senderMetrics } from '../support/sender-harness';

/**
 * The real sender and the simulator over HTTP/2 + TLS, 3 000 devices per job, while
 * the simulator's connections misbehave as scripted. Every device must end accepted,
 * pruned, kept or dead-lettered exactly as the delivery rules say, counted once —
 * by what APNs received and by the sender's own metrics.
 */
const STREAM_LIMIT = 500;
const USERS = 1_000;
const DEVICES_PER_USER = 3;
const harness = new SenderHarness();
let devices: Device[];
let users: string[];

beforeAll(async () => {
  await harness.start({ maxConcurrentStreams: STREAM_LIMIT });
  users = Array.from({ length: USERS }, (_, i) => `faulty-${i}`);
  devices = await seedDevices(users, DEVICES_PER_USER);
}, 120_000);
afterAll(() => harness.stop());
beforeEach(() => harness.purge());

/** How many times APNs accepted each token. */
function receipts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const token of harness.inboxTokens()) counts.set(token, (counts.get(token) ?? 0) + 1);
  return counts;
}

const sorted = (tokens: Iterable<string>) => [...tokens].sort();

describe('connection faults', () => {
  it.each([50, 333, 1_000])(
    'GOAWAY every %i streams: every device reached exactly once, nothing re-sent as a retry',
    async (every) => {
      harness.simulator.setFaults({ connection: { goawayEvery: every } });
      const counted = await senderMetrics(() => harness.deliver(alertJob({ userIds: users })));

      const received = receipts();
      expect([...received.values()].filter((times) => times > 1)).toEqual([]);
      expect(sorted(received.keys())).toEqual(sorted(devices.map((d) => d.token)));
      // Streams above each GOAWAY's last-stream-id were never processed: APNs processed each device once.
      const { done } = harness.simulator.faultReport();
      expect(done.goaways).toBe(Math.floor(devices.length / every));
      expect(harness.simulator.stats.accepted).toBe(devices.length);
      expect(harness.simulator.stats.sessions).toBeGreaterThanOrEqual(done.goaways);
      expect(harness.simulator.stats.maxInFlightPerSession).toBeLessThanOrEqual(STREAM_LIMIT);
      // Each new session carried one stream until it had answered (APNs's rule before a valid token).
      expect(harness.simulator.stats.maxInFlightBeforeFirstAnswer).toBe(1);
      // Re-sending a refused stream is not an attempt: no retries, nothing dead-lettered.
      expect(counted).toEqual({ NotificationsAccepted: devices.length });
      expect(await harness.deadLetters()).toEqual([]);
    },
    180_000,
  );

  it('streams reset before processing are retried: every device reached exactly once', async () => {
    harness.simulator.setFaults({ connection: { resetEvery: 97 } });
    const counted = await senderMetrics(() => harness.deliver(alertJob({ userIds: users })));

    const received = receipts();
    expect([...received.values()].filter((times) => times > 1)).toEqual([]);
    expect(sorted(received.keys())).toEqual(sorted(devices.map((d) => d.token)));
    const { done } = harness.simulator.faultReport();
    expect(done.resets).toBeGreaterThanOrEqual(Math.floor(devices.length / 97));
    // A reset says nothing about the token: one retry per reset, each device accepted once.
    expect(counted).toEqual({ NotificationsAccepted: devices.length, DeliveriesRetried: done.resets });
    expect(await harness.deadLetters()).toEqual([]);
  }, 180_000);

  it('stalled streams (delivered, never answered) are the only duplicates', async () => {
    harness.simulator.setFaults({ connection: { stallEvery: 300 } });
    const counted = await harness.withRequestTimeout(5_000, () =>
      senderMetrics(() => harness.deliver(alertJob({ userIds: users }))),
    );

    const received = receipts();
    const stalled = harness.simulator.stalledTokens;
    const { done } = harness.simulator.faultReport();
    expect(done.stalls).toBe(stalled.length);
    expect(stalled.length).toBeGreaterThanOrEqual(Math.floor(devices.length / 300));
    expect(sorted(received.keys())).toEqual(sorted(devices.map((d) => d.token)));
    const twice = [...received].filter(([, times]) => times > 1);
    expect(twice.every(([, times]) => times === 2)).toBe(true);
    expect(sorted(twice.map(([token]) => token))).toEqual(sorted(stalled));
    expect(counted).toEqual({ NotificationsAccepted: devices.length, DeliveriesRetried: stalled.length });
    expect(await harness.deadLetters()).toEqual([]);
  }, 180_000);

  it('a failing job stops every chunk worker before the handler returns', async () => {
    harness.simulator.failNext({ status: 403, reason: 'InvalidProviderToken' }, 1);
    await harness.deliver(alertJob({ userIds: users }));
    const sentWhenDone = harness.simulator.stats.requests;
    const dead = await harness.deadLetters();
    expect(dead.map((d) => d.reason)).toEqual(['InvalidProviderToken']);
    // The chunks already sending when the job failed finished; no chunk started after it.
    expect(sentWhenDone).toBeLessThan(devices.length);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(harness.simulator.stats.requests).toBe(sentWhenDone);
  }, 180_000);

  it('mixed faults: every device ends accepted, pruned, kept or dead-lettered as the rules say, counted once', async () => {
    const lastSeen = Date.parse(devices[0]?.lastSeenAt ?? '');
    const group = (index: number) => devices.slice(index * 20, index * 20 + 20).map((d) => d.token);
    const gone = group(0); // 410 after the last registration → pruned
    const reRegistered = group(1); // 410 before the last registration → kept
    const bad = group(2); // BadDeviceToken in both environments → pruned
    const down = group(3); // 503 on every attempt → dead-lettered after the last
    const incomplete410 = group(4); // 410 without its timestamp once → retried, accepted
    const emptyBody = group(5); // 400 with no body once → retried, accepted (never a job failure)
    const throttled = group(6); // 429 + retry-after once → retried, accepted
    const flaky = group(7); // 500 once → retried, accepted
    const answer = (tokens: string[], scripted: TokenAnswer) =>
      Object.fromEntries(tokens.map((token) => [token, scripted]));
    harness.simulator.setFaults({
      connection: { goawayEvery: 333, resetEvery: 211, stallEvery: 401 },
      tokens: {
        ...answer(gone, { status: 410, reason: 'Unregistered', timestamp: lastSeen + 60_000 }),
        ...answer(reRegistered, { status: 410, reason: 'ExpiredToken', timestamp: lastSeen - 60_000 }),
        ...answer(bad, { status: 400, reason: 'BadDeviceToken' }),
        ...answer(down, { status: 503, reason: 'ServiceUnavailable' }),
        ...answer(incomplete410, { status: 410, reason: 'Unregistered', times: 1 }),
        ...answer(emptyBody, { status: 400, times: 1 }),
        ...answer(throttled, { status: 429, reason: 'TooManyRequests', retryAfter: 1, times: 1 }),
        ...answer(flaky, { status: 500, reason: 'InternalServerError', times: 1 }),
      },
    });
    const counted = await harness.withRequestTimeout(5_000, () =>
      senderMetrics(() => harness.deliver(alertJob({ userIds: users }))),
    );

    const notAccepted = new Set([...gone, ...reRegistered, ...bad, ...down]);
    const acceptable = devices.map((d) => d.token).filter((token) => !notAccepted.has(token));
    const received = receipts();
    expect(sorted(received.keys())).toEqual(sorted(acceptable));
    // Only a stalled stream (delivered, never answered) can reach a device twice.
    const stalled = new Set(harness.simulator.stalledTokens);
    const twice = [...received].filter(([, times]) => times > 1);
    expect(twice.every(([token, times]) => times === 2 && stalled.has(token))).toBe(true);

    const { done } = harness.simulator.faultReport();
    expect(done.goaways).toBeGreaterThan(0);
    expect(done.resets).toBeGreaterThan(0);
    expect(done.stalls).toBeGreaterThan(0);

    const deadLettered = (await harness.deadLetters()).flatMap((message) => {
      expect(message.reason).toBe('RetriesExhausted');
      return (message.body.devices as { token: string }[]).map((device) => device.token);
    });
    expect(sorted(deadLettered)).toEqual(sorted(down));
    for (const token of [...gone, ...bad]) expect(await deviceRecord(token)).toBeUndefined();
    for (const token of [...reRegistered, ...down, ...incomplete410, ...emptyBody])
      expect(await deviceRecord(token)).toBeDefined();

    // The sender's own counts: each device in exactly one final outcome.
    expect(counted.NotificationsAccepted).toBe(acceptable.length);
    expect(counted.TokensPruned).toBe(gone.length + bad.length);
    expect(counted.TokensKeptAfterReRegistration).toBe(reRegistered.length);
    expect(counted.DeliveriesDeadLettered).toBe(down.length);
    expect(
      (counted.NotificationsAccepted ?? 0) +
        (counted.TokensPruned ?? 0) +
        (counted.TokensKeptAfterReRegistration ?? 0) +
        (counted.DeliveriesDeadLettered ?? 0),
    ).toBe(devices.length);
    expect(harness.simulator.stats.maxInFlightPerSession).toBeLessThanOrEqual(STREAM_LIMIT);
  }, 240_000);
});
