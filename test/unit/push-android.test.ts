import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DeliveryTally } from '../../lambda/domain/delivery-tally';
import { JobFailedError } from '../../lambda/domain/errors';
import { FCM_ACCESS_TOKEN_REFUSED } from '../../lambda/domain/fcm-answer';
import type { SendJob } from '../../lambda/domain/send-job';
import { acceptSendRequest } from '../../lambda/use-cases/accept-send-request';
import { registerDevice } from '../../lambda/use-cases/register-device';
import { deliverNextPart } from '../support/fake-sender';
import { FAKE_APP, type InMemoryPorts, inMemoryPorts } from '../support/in-memory-ports';

/**
 * Pushing to Android devices (delivery/push-fcm.ts) through the sender on in-memory
 * ports, FCM answering from a script: each answer settled as APNs's are, a credential
 * refusal asked again at once, a message FCM refuses stopping the job.
 */

let ports: InMemoryPorts;
const ANDROID = 'fcm-instance:APA91b-android-token';
const IOS = 'd'.repeat(64);

const job = {
  notificationId: 'n-android',
  appId: FAKE_APP.appId,
  to: { userIds: ['alice'] },
  aps: { alert: 'hi' },
  track: { receipts: true },
} as SendJob;

beforeEach(async () => {
  ports = inMemoryPorts();
  await registerDevice(ports, {
    token: ANDROID,
    userId: 'alice',
    appId: FAKE_APP.appId,
    environment: 'production',
    platform: 'android',
  });
});

afterEach(() => {
  vi.useRealTimers();
});

async function deliverJob(): Promise<DeliveryTally> {
  await acceptSendRequest(ports, job);
  const tally = await deliverNextPart(ports);
  return tally;
}

describe('pushing to Android devices', () => {
  it('goes to FCM, not APNs, and FCM’s 200 is accepted', async () => {
    const tally = await deliverJob();
    expect(ports.pushProviders.fcmSent).toEqual([ANDROID]);
    expect(ports.pushProviders.apnsSent).toEqual([]);
    expect(tally.counts).toMatchObject({ accepted: 1, retried: 0, pruned: 0 });
  });

  it('a user with an iPhone and an Android phone: each pushed once, on its own platform', async () => {
    await registerDevice(ports, {
      token: IOS,
      userId: 'alice',
      appId: FAKE_APP.appId,
      environment: 'production',
    });
    const tally = await deliverJob();
    expect(ports.pushProviders.fcmSent).toEqual([ANDROID]);
    expect(ports.pushProviders.apnsSent.map((sent) => sent.token)).toEqual([IOS]);
    expect(tally.counts).toMatchObject({ accepted: 2 });
  });

  it('UNREGISTERED: the token is pruned from the registry', async () => {
    ports.pushProviders.fcmAnswer = () => ({ status: 404, errorCode: 'UNREGISTERED' });
    // Pushed after the registration: FCM's word is newer than the token's last registration.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 60_000);
    const tally = await deliverJob();
    expect(tally.counts).toMatchObject({ pruned: 1, accepted: 0 });
    expect(ports.deviceRegistry.records.has(ANDROID)).toBe(false);
  });

  it('UNAVAILABLE: re-queued with a delay, carrying the device', async () => {
    ports.pushProviders.fcmAnswer = () => ({ status: 503, errorCode: 'UNAVAILABLE' });
    const tally = await deliverJob();
    expect(tally.counts).toMatchObject({ retried: 1 });
    const [retry] = ports.sendQueue.sent;
    expect(retry?.delaySeconds).toBeGreaterThan(0);
    expect(JSON.parse(retry?.body ?? '{}')).toMatchObject({ attempt: 1, devices: [{ token: ANDROID }] });
  });

  it('a credential refusal is asked again at once: accepted the second time, sent twice, nothing retried later', async () => {
    let asked = 0;
    ports.pushProviders.fcmAnswer = () =>
      asked++ === 0 ? { status: 401, errorCode: 'UNAUTHENTICATED' } : { status: 200 };
    const tally = await deliverJob();
    expect(ports.pushProviders.fcmSent).toEqual([ANDROID, ANDROID]);
    expect(tally.counts).toMatchObject({ accepted: 1, retried: 0 });
    expect(ports.sendQueue.sent).toEqual([]);
  });

  it('refused twice, or the OAuth endpoint refusing the key twice: the job stops with the reason, no token pruned', async () => {
    for (const [answer, reason] of [
      [{ status: 401, errorCode: 'UNAUTHENTICATED' }, 'UNAUTHENTICATED'],
      [{ transportError: FCM_ACCESS_TOKEN_REFUSED }, FCM_ACCESS_TOKEN_REFUSED],
    ] as const) {
      ports = inMemoryPorts();
      await registerDevice(ports, {
        token: ANDROID,
        userId: 'alice',
        appId: FAKE_APP.appId,
        environment: 'production',
        platform: 'android',
      });
      ports.pushProviders.fcmAnswer = () => answer;
      const failed = deliverJob();
      await expect(failed).rejects.toBeInstanceOf(JobFailedError);
      await expect(failed).rejects.toMatchObject({ reason });
      expect(ports.pushProviders.fcmSent).toEqual([ANDROID, ANDROID]);
      expect(ports.deviceRegistry.records.has(ANDROID)).toBe(true);
    }
  });

  it('a message FCM refuses stops the job with FCM’s reason and sentence, asked once', async () => {
    ports.pushProviders.fcmAnswer = () => ({
      status: 400,
      errorCode: 'INVALID_ARGUMENT',
      message: 'bad data key',
    });
    const failed = deliverJob();
    await expect(failed).rejects.toMatchObject({
      reason: 'INVALID_ARGUMENT',
      message: expect.stringContaining('bad data key'),
    });
    expect(ports.pushProviders.fcmSent).toEqual([ANDROID]);
  });
});
