import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_FCM_TOKEN_LENGTH } from '../../lambda/domain/fcm-token';
import { api, newUser } from '../support/api';
import { TEST_APP_ID } from '../support/embedded-services';
import { newFcmToken } from '../support/fcm-tokens';
import { seedDevices } from '../support/seed';
import { alertJob, SenderHarness, senderMetrics } from '../support/sender-harness';

/**
 * FCM registration tokens at the longest pushgate accepts (MAX_FCM_TOKEN_LENGTH).
 * A job naming 220 of them by token is ~900 KB: one SQS message, but a retry of a
 * chunk of it carries the job and its devices besides — over SQS's 1 MiB, unless the
 * sender cuts its parts by size. Every retry must reach the queue and its devices
 * FCM on the next attempt.
 */
const USERS = 44;
const DEVICES_PER_USER = 5;
const harness = new SenderHarness();

beforeAll(() => harness.start({ fcm: true }), 30_000);
afterAll(() => harness.stop());
beforeEach(() => harness.purge());

const sorted = (tokens: Iterable<string>) => [...tokens].sort();

describe(`Android devices with ${MAX_FCM_TOKEN_LENGTH}-character tokens`, () => {
  it('the longest token registration accepts is registered, pushed, reported and acknowledged; one more character is InvalidDeviceToken', async () => {
    const user = newUser('longest');
    const token = newFcmToken(MAX_FCM_TOKEN_LENGTH);
    const android = { appId: TEST_APP_ID, platform: 'android' };
    const tooLong = await api('PUT', `/v1/devices/${token}x`, { as: user, body: android });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.code).toBe('InvalidDeviceToken');
    expect((await api('PUT', `/v1/devices/${token}`, { as: user, body: android })).status).toBe(201);
    const id = 'longest-token';
    const sent = await api('POST', '/v1/notifications', {
      backend: true,
      body: alertJob({ userIds: [user] }, { notificationId: id, track: { receipts: true } }),
    });
    expect(sent.status).toBe(202);
    await harness.source.idle();
    expect(harness.fcmInboxTokens()).toEqual([token]);
    const receipt = await api('POST', `/v1/notifications/${id}/receipts`, {
      as: user,
      body: { token, event: 'received' },
    });
    expect(receipt.status).toBe(204);
    const report = await api('GET', `/v1/notifications/${id}`, { backend: true });
    expect(report.body.devices).toEqual([expect.objectContaining({ token, status: 'received' })]);
    expect((await api('DELETE', `/v1/devices/${token}`, { as: user })).status).toBe(204);
  }, 120_000);

  it(`a job to ${USERS * DEVICES_PER_USER} such tokens, every FCM answer retryable: each device reaches FCM on the next attempt exactly once, none on the DLQ`, async () => {
    const fcm = harness.fcm;
    if (fcm === undefined) throw new Error('the harness has no FCM simulator');
    const users = Array.from({ length: USERS }, (_, i) => `android-long-${i}`);
    const devices = await seedDevices(users, DEVICES_PER_USER, 'android', MAX_FCM_TOKEN_LENGTH);
    expect(devices.every((device) => device.token.length === MAX_FCM_TOKEN_LENGTH)).toBe(true);
    fcm.setFaults({
      tokens: Object.fromEntries(
        devices.map((device) => [device.token, { status: 503, errorCode: 'UNAVAILABLE', times: 1 }]),
      ),
    });
    const job = alertJob({ tokens: devices.map((device) => device.token) });
    expect(JSON.stringify(job).length).toBeGreaterThan(900_000);
    const counted = await senderMetrics(() => harness.deliver(job, 240_000));
    const received = harness.fcmInboxTokens();
    expect(received).toHaveLength(devices.length);
    expect(sorted(received)).toEqual(sorted(devices.map((device) => device.token)));
    expect(fcm.stats.duplicates).toBe(0);
    expect(counted.DeliveriesRetried).toBe(devices.length);
    expect(counted.NotificationsAccepted).toBe(devices.length);
    expect(await harness.deadLetters()).toEqual([]);
  }, 300_000);

  it('a tracked chunk of 500 such devices (over one DynamoDB item) reports every device, and a receipt on any of them', async () => {
    const users = Array.from({ length: 20 }, (_, i) => `android-tracked-long-${i}`);
    const devices = await seedDevices(users, 25, 'android', MAX_FCM_TOKEN_LENGTH);
    const id = 'long-tokens-tracked';
    const sent = await api('POST', '/v1/notifications', {
      backend: true,
      body: alertJob({ userIds: users }, { notificationId: id, track: { receipts: true } }),
    });
    expect(sent.status).toBe(202);
    await harness.source.idle(120_000);
    expect(await harness.deadLetters()).toEqual([]);
    expect(sorted(harness.fcmInboxTokens())).toEqual(sorted(devices.map((device) => device.token)));
    const last = devices[devices.length - 1];
    if (last === undefined) throw new Error('no devices');
    const receipt = await api('POST', `/v1/notifications/${id}/receipts`, {
      as: last.userId,
      body: { token: last.token, event: 'received' },
    });
    expect(receipt.status).toBe(204);
    const report = await api('GET', `/v1/notifications/${id}`, { backend: true });
    expect(report.status).toBe(200);
    const reported = report.body.devices as { token: string; userId: string; status: string }[];
    expect(sorted(reported.map((device) => device.token))).toEqual(
      sorted(devices.map((device) => device.token)),
    );
    expect(reported.filter((device) => device.status === 'accepted')).toHaveLength(devices.length - 1);
    expect(reported.find((device) => device.token === last.token)?.status).toBe('received');
  }, 180_000);
});
