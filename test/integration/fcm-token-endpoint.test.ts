import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { closeFcmConnections } from '../../lambda/adapters/secondary/fcm/fcm-gateway';
import { FCM_ACCESS_TOKEN_REFUSED } from '../../lambda/domain/fcm-answer';
import { JOBS_DEAD_LETTERED, REASON_DIMENSION } from '../../lambda/metric-names';
import { metrics } from '../../lambda/metrics';
import type { FcmSimulator, FcmTokenEndpointFault } from '../../local/fcm-simulator/simulator';
import { newUser } from '../support/api';
import { seedDevices } from '../support/seed';
import { alertJob, deviceRecord, SenderHarness, senderMetrics } from '../support/sender-harness';

/**
 * The sender against the FCM simulator while its OAuth token endpoint — the one
 * google-auth-library calls, unchanged — misbehaves as scripted: a failing endpoint
 * is a retry, a refused key a job on the DLQ with its reason; never a pruned token.
 * Each test starts without a cached access token (its connections closed first).
 */
const harness = new SenderHarness();
// Short: one test stalls the token endpoint on purpose.
beforeAll(() => harness.start({ fcm: true, requestTimeoutMs: 2_000 }), 30_000);
afterAll(() => harness.stop());
beforeEach(async () => {
  await closeFcmConnections();
  await harness.purge();
});

/** The reasons of the JobsDeadLettered metrics `action` published (single metrics, by their reason dimension). */
async function jobsDeadLettered(action: () => Promise<void>): Promise<string[]> {
  const reasons: string[] = [];
  const single = vi.spyOn(metrics, 'singleMetric').mockImplementation(() => {
    const dimensions: Record<string, string> = {};
    const fake = {
      addDimension: (name: string, value: string) => {
        dimensions[name] = value;
      },
      addMetric: (name: string) => {
        if (name === JOBS_DEAD_LETTERED) reasons.push(String(dimensions[REASON_DIMENSION]));
      },
    };
    return fake as unknown as ReturnType<typeof metrics.singleMetric>;
  });
  try {
    await action();
    return reasons;
  } finally {
    single.mockRestore();
  }
}

const fcm = (): FcmSimulator => {
  if (harness.fcm === undefined) throw new Error('the harness has no FCM simulator');
  return harness.fcm;
};

describe('the FCM OAuth token endpoint failing', () => {
  it.each<[string, FcmTokenEndpointFault]>([
    ['500 on every request for a while', { status: 500, times: 6 }],
    ['503 on every request for a while', { status: 503, error: 'temporarily_unavailable', times: 6 }],
    ['a request never answered (a timeout)', { stall: true, times: 1 }],
  ])(
    '%s: the pushes are retried and every device reached once, none pruned',
    async (_name, fault) => {
      const users = [newUser('oauth-down'), newUser('oauth-down')];
      const devices = await seedDevices(users, 2, 'android');
      fcm().setFaults({ tokenEndpoint: fault });
      const counted = await senderMetrics(() => harness.deliver(alertJob({ userIds: users }), 120_000));
      expect(fcm().faultReport().done.tokenEndpointFaults).toBe(fault.times);
      expect([...harness.fcmInboxTokens()].sort()).toEqual(devices.map((device) => device.token).sort());
      expect(fcm().stats.duplicates).toBe(0);
      expect(counted.NotificationsAccepted).toBe(devices.length);
      expect(counted.TokensPruned ?? 0).toBe(0);
      expect(await harness.deadLetters()).toEqual([]);
      for (const device of devices) expect(await deviceRecord(device.token)).toBeDefined();
    },
    180_000,
  );

  it('invalid_grant (the key refused): the job goes to the DLQ as AccessTokenRefused, counted; nothing sent, nothing pruned', async () => {
    const users = [newUser('oauth-refused')];
    const devices = await seedDevices(users, 2, 'android');
    fcm().setFaults({ tokenEndpoint: { status: 400, error: 'invalid_grant' } });
    let counted: Record<string, number> = {};
    const deadLettered = await jobsDeadLettered(async () => {
      counted = await senderMetrics(() => harness.deliver(alertJob({ userIds: users }), 120_000));
    });
    const dead = await harness.deadLetters();
    expect(dead).toHaveLength(1);
    expect(dead[0]?.reason).toBe(FCM_ACCESS_TOKEN_REFUSED);
    expect(dead[0]?.detail).toMatch(/service-account key/);
    // Counted under its reason, which the FcmCredentialFailures alarm watches (test/infra/fcm-stack.test.ts).
    expect(deadLettered).toEqual([FCM_ACCESS_TOKEN_REFUSED]);
    expect(counted.TokensPruned ?? 0).toBe(0);
    expect(counted.DeliveriesRetried ?? 0).toBe(0);
    expect(harness.fcmInboxTokens()).toEqual([]);
    // Asked once more after the first refusal, then the job stopped.
    expect(fcm().faultReport().done.tokenEndpointFaults).toBe(2);
    for (const device of devices) expect(await deviceRecord(device.token)).toBeDefined();
  }, 180_000);
});
