import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Device } from '../../lambda/domain/device';
import { seedDevices } from '../support/seed';
import { alertJob, SenderHarness, senderMetrics } from '../support/sender-harness';

/**
 * The real sender and the FCM simulator over HTTP/2 + TLS, 3 000 Android devices per
 * job (seeded straight into the table and their users' sets), while the simulator's
 * connections misbehave as scripted: every device reached, none twice.
 */
const STREAM_LIMIT = 500;
const USERS = 1_000;
const DEVICES_PER_USER = 3;
const harness = new SenderHarness();
let devices: Device[];
let users: string[];

beforeAll(async () => {
  await harness.start({ maxConcurrentStreams: STREAM_LIMIT, fcm: true });
  users = Array.from({ length: USERS }, (_, i) => `android-faulty-${i}`);
  devices = await seedDevices(users, DEVICES_PER_USER, 'android');
}, 120_000);
afterAll(() => harness.stop());
beforeEach(() => harness.purge());

const sorted = (tokens: Iterable<string>) => [...tokens].sort();

describe('3 000 Android devices under FCM connection faults', () => {
  it.each<[string, { goawayEvery?: number; resetEvery?: number }]>([
    ['GOAWAY every 333 streams', { goawayEvery: 333 }],
    ['a reset every 97th stream', { resetEvery: 97 }],
    ['GOAWAY and resets together', { goawayEvery: 500, resetEvery: 211 }],
  ])(
    '%s: every device reached exactly once, none missing',
    async (_name, connection) => {
      const fcm = harness.fcm;
      if (fcm === undefined) throw new Error('the harness has no FCM simulator');
      fcm.setFaults({ connection });
      const counted = await senderMetrics(() => harness.deliver(alertJob({ userIds: users }), 300_000));
      const received = harness.fcmInboxTokens();
      expect(received).toHaveLength(devices.length);
      expect(sorted(new Set(received))).toEqual(sorted(devices.map((device) => device.token)));
      expect(fcm.stats.duplicates).toBe(0);
      const { done } = fcm.faultReport();
      if (connection.goawayEvery !== undefined) expect(done.goaways).toBeGreaterThan(0);
      if (connection.resetEvery !== undefined) expect(done.resets).toBeGreaterThan(0);
      expect(counted.NotificationsAccepted).toBe(devices.length);
      expect(await harness.deadLetters()).toEqual([]);
    },
    300_000,
  );
});
