import { beforeEach, describe, expect, it } from 'vitest';
import type { DeliveryTally } from '../../lambda/domain/delivery-tally';
import type { JobPart } from '../../lambda/domain/job-part';
import { MAX_DELIVERY_ATTEMPTS } from '../../lambda/domain/retry-policy';
import type { SendJob } from '../../lambda/domain/send-job';
import { acceptSendRequest } from '../../lambda/use-cases/accept-send-request';
import { registerDevice } from '../../lambda/use-cases/register-device';
import { deliverNextPart } from '../support/fake-sender';
import { FAKE_APP, type InMemoryPorts, inMemoryPorts } from '../support/in-memory-ports';

/**
 * One notification through the sender's chunk path on in-memory ports: accepted by
 * the API use case, its queued part delivered, APNs answering from a script — then
 * each device's outcome checked where it lands: the registry, the queue, the tally.
 */

let ports: InMemoryPorts;
const token = (n: number) => n.toString(16).padStart(64, '0');
const ACCEPTED = token(1);
const DEAD = token(2);
const BUSY = token(3);

beforeEach(async () => {
  ports = inMemoryPorts();
  for (const n of [1, 2, 3]) {
    await registerDevice(ports, {
      token: token(n),
      userId: 'alice',
      appId: FAKE_APP.appId,
      environment: 'production',
    });
  }
  // Answered after the registrations: the 410 is newer than each token's last registration.
  const invalidAt = Date.now() + 60_000;
  ports.pushProviders.apnsAnswer = (sentTo) =>
    sentTo === DEAD
      ? { status: 410, reason: 'Unregistered', timestamp: invalidAt }
      : sentTo === BUSY
        ? { status: 503, reason: 'ServiceUnavailable' }
        : { status: 200 };
});

const job = {
  notificationId: 'n-1',
  appId: FAKE_APP.appId,
  to: { userIds: ['alice'] },
  aps: { alert: 'hi' },
  track: { receipts: true },
} as SendJob;

/** Delivers the next message on the send queue, as the sender's handler would; its tally. */
async function deliverNext(): Promise<DeliveryTally> {
  const tally = await deliverNextPart(ports);
  return tally;
}

describe('delivering a job part', () => {
  it('accepted is accepted; a dead token is pruned from the registry; a busy one is re-queued with a delay', async () => {
    await acceptSendRequest(ports, job);
    const tally = await deliverNext();
    expect(tally.counts).toMatchObject({ accepted: 1, pruned: 1, retried: 1, deadLettered: 0 });
    expect(ports.pushProviders.apnsSent.map((sent) => sent.token).sort()).toEqual([ACCEPTED, DEAD, BUSY]);
    expect(ports.deviceRegistry.records.has(DEAD)).toBe(false);
    expect([...(ports.deviceRegistry.sets.get('alice')?.devices.keys() ?? [])].sort()).toEqual([
      ACCEPTED,
      BUSY,
    ]);
    const [retry] = ports.sendQueue.sent;
    // The first retry waits half the configured base delay to all of it (jittered).
    const base = ports.settings.retryBaseDelaySeconds;
    expect(retry?.delaySeconds).toBeGreaterThanOrEqual(base / 2);
    expect(retry?.delaySeconds).toBeLessThanOrEqual(base);
    expect(JSON.parse(retry?.body ?? '{}')).toMatchObject({
      attempt: 1,
      devices: [{ token: BUSY, userId: 'alice' }],
    });
    expect(ports.notificationRecords.chunks.get('n-1|0|0|0')?.completed).toMatchObject({ chunks: 1 });
  });

  it('a device still busy after the last attempt is dead-lettered with its reason, and counted', async () => {
    await acceptSendRequest(ports, job);
    await deliverNext();
    const tallies: DeliveryTally[] = [];
    while (ports.sendQueue.sent.length > 0) tallies.push(await deliverNext());
    expect(tallies).toHaveLength(MAX_DELIVERY_ATTEMPTS - 1);
    expect(tallies.at(-1)?.counts).toMatchObject({ deadLettered: 1, retried: 0 });
    expect(ports.sendQueue.deadLettered).toEqual([
      expect.objectContaining({
        reason: 'RetriesExhausted',
        detail: '1 devices still failing: ServiceUnavailable',
      }),
    ]);
    const deadPart = JSON.parse(ports.sendQueue.deadLettered[0]?.body ?? '{}') as JobPart;
    expect(deadPart.devices?.map((device) => device.token)).toEqual([BUSY]);
    // Only the busy device was pushed to again: never one already reached.
    const retried = ports.pushProviders.apnsSent.slice(3).map((sent) => sent.token);
    expect(new Set(retried)).toEqual(new Set([BUSY]));
  });

  it('a retry part the sender never issued is refused as NotificationIdConflict, nothing pushed', async () => {
    await acceptSendRequest(ports, job);
    await deliverNext();
    const retry = JSON.parse(ports.sendQueue.sent[0]?.body ?? '{}') as JobPart;
    ports.sendQueue.sent[0] = {
      body: JSON.stringify({ ...retry, devices: [{ ...retry.devices?.[0], token: ACCEPTED }] }),
    };
    const pushed = ports.pushProviders.apnsSent.length;
    await expect(deliverNext()).rejects.toMatchObject({ reason: 'NotificationIdConflict' });
    expect(ports.pushProviders.apnsSent).toHaveLength(pushed);
  });
});
