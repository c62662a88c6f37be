import { randomBytes } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { backfillDeviceSets, backfillRecord } from '../../lambda/adapters/secondary/device-set-backfill';
import { deviceItem } from '../../lambda/adapters/secondary/devices-keys';
import { type Device, deviceExpiry } from '../../lambda/domain/device';
import { MOST_DEVICES_PER_USER } from '../../lambda/domain/device-set';
import { MAX_FCM_TOKEN_LENGTH, MAX_KEYED_TOKEN_LENGTH } from '../../lambda/domain/fcm-token';
import { ENVIRONMENT } from '../../lambda/environment';
import { api, newUser } from '../support/api';
import { TEST_APP_ID } from '../support/embedded-services';
import { listedTokens, longFcmToken, registerAndroidToken } from '../support/fcm-tokens';
import { alertJob, db, deviceRecord, SenderHarness, senderMetrics } from '../support/sender-harness';

/**
 * FCM registration tokens of 4 096 characters — the most the contract allows, longer
 * than any table can key (docs/decisions/long-fcm-tokens.md): every route and the
 * sender handle them as they handle a short one, and store, list and send the token
 * exactly as the app registered it.
 */
const harness = new SenderHarness();

beforeAll(() => harness.start({ fcm: true }), 30_000);
afterAll(() => harness.stop());
beforeEach(() => harness.purge());

const longToken = longFcmToken;
const register = registerAndroidToken;
const listed = listedTokens;

/** Sends a tracked alert to `userIds` and waits until the sender is idle. */
async function push(id: string, to: { userIds: string[] } | { tokens: string[] }) {
  const sent = await api('POST', '/v1/notifications', {
    backend: true,
    body: alertJob(to, { notificationId: id, track: { receipts: true } }),
  });
  expect(sent.status).toBe(202);
  await harness.source.idle(60_000);
}

describe(`Android devices with ${MAX_FCM_TOKEN_LENGTH}-character tokens`, () => {
  it('registers (201), refreshes (200), is listed in full, pushed with the full token and acknowledged', async () => {
    const alice = newUser('long-alice');
    const token = longToken();
    expect(token).toHaveLength(MAX_FCM_TOKEN_LENGTH);
    const created = await register(token, alice);
    expect(created.status).toBe(201);
    expect(created.body.token).toBe(token);
    const refreshed = await register(token, alice);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.token).toBe(token);
    expect(await listed(alice)).toEqual([token]);
    const backend = await api('GET', `/v1/users/${alice}/devices`, { backend: true });
    expect(backend.body.devices.map((device: { token: string }) => device.token)).toEqual([token]);

    await push('long-token-push', { userIds: [alice] });
    const entries = harness.fcm?.received.entries ?? [];
    expect(entries).toHaveLength(1);
    expect(entries[0]?.token).toBe(token);
    const receipt = await api('POST', '/v1/notifications/long-token-push/receipts', {
      as: alice,
      body: { token, event: 'opened' },
    });
    expect(receipt.status).toBe(204);
    const report = await api('GET', '/v1/notifications/long-token-push', { backend: true });
    expect(report.body.devices).toEqual([
      expect.objectContaining({ token, userId: alice, status: 'opened' }),
    ]);
  }, 120_000);

  it('re-pushes exactly the long-token device that did not acknowledge; the status shows both tokens in full', async () => {
    const alice = newUser('long-repush');
    const [acked, silent] = [longToken(), longToken()] as [string, string];
    for (const token of [acked, silent]) expect((await register(token, alice)).status).toBe(201);
    const sent = await api('POST', '/v1/notifications', {
      backend: true,
      body: alertJob(
        { userIds: [alice] },
        {
          notificationId: 'long-token-repush',
          track: { receipts: true, repushAfterSeconds: 2, maxRepushes: 1 },
        },
      ),
    });
    expect(sent.status).toBe(202);
    await expect.poll(() => harness.fcmInboxTokens().length, { timeout: 60_000 }).toBe(2);
    const ack = await api('POST', '/v1/notifications/long-token-repush/receipts', {
      as: alice,
      body: { token: acked, event: 'received' },
    });
    expect(ack.status).toBe(204);
    await harness.source.idle(120_000);
    const received = harness.fcmInboxTokens();
    expect(received.filter((token) => token === acked)).toHaveLength(1);
    expect(received.filter((token) => token === silent)).toHaveLength(2);
    const report = await api('GET', '/v1/notifications/long-token-repush', { backend: true });
    const statuses = Object.fromEntries(
      (report.body.devices as { token: string; status: string }[]).map((device) => [
        device.token,
        device.status,
      ]),
    );
    expect(statuses).toEqual({ [acked]: 'received', [silent]: 'accepted' });
  }, 180_000);

  it('one more character is a clean 400 InvalidDeviceToken, wherever a token is named', async () => {
    const alice = newUser('long-too-long');
    const tooLong = `${longToken()}x`;
    for (const answer of [
      await register(tooLong, alice),
      await api('DELETE', `/v1/devices/${tooLong}`, { as: alice }),
      await api('POST', '/v1/notifications/any/receipts', {
        as: alice,
        body: { token: tooLong, event: 'received' },
      }),
    ]) {
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toMatch(/^Invalid(DeviceToken|Request)$/);
    }
    const registered = await register(tooLong, alice);
    expect(registered.body.error.code).toBe('InvalidDeviceToken');
    expect(registered.body.error.message).toMatch(new RegExp(`at most ${MAX_FCM_TOKEN_LENGTH}`));
    expect(await listed(alice)).toEqual([]);
  });

  it('moves to the user who registers it next: the first no longer gets pushes and sees 404 for it', async () => {
    const alice = newUser('long-move-a');
    const bob = newUser('long-move-b');
    const token = longToken();
    expect((await register(token, alice)).status).toBe(201);
    expect((await register(token, bob)).status).toBe(201);
    expect(await listed(alice)).toEqual([]);
    expect(await listed(bob)).toEqual([token]);
    const counted = await senderMetrics(() => push('long-token-moved', { userIds: [alice] }));
    expect(harness.fcmInboxTokens()).toEqual([]);
    expect(counted.TokensMovedToAnotherUser).toBe(1);
    await push('long-token-moved-to-bob', { userIds: [bob] });
    expect(harness.fcmInboxTokens()).toEqual([token]);
    // Alice naming it now gets what a token nobody registered gets.
    const theirs = await api('DELETE', `/v1/devices/${token}`, { as: alice });
    const unknown = await api('DELETE', `/v1/devices/${longToken()}`, { as: alice });
    expect(theirs.status).toBe(404);
    expect(theirs.body).toEqual(unknown.body);
    // So does a user who never held it.
    const stranger = await api('DELETE', `/v1/devices/${token}`, { as: newUser('long-move-c') });
    expect(stranger.status).toBe(404);
    expect(stranger.body).toEqual(unknown.body);
    const receipt = await api('POST', '/v1/notifications/long-token-moved-to-bob/receipts', {
      as: alice,
      body: { token, event: 'received' },
    });
    const unknownReceipt = await api('POST', '/v1/notifications/long-token-moved-to-bob/receipts', {
      as: alice,
      body: { token: longToken(), event: 'received' },
    });
    expect(receipt.status).toBe(404);
    expect(receipt.body).toEqual(unknownReceipt.body);
    // Bob signs it out: gone, and 404 after.
    expect((await api('DELETE', `/v1/devices/${token}`, { as: bob })).status).toBe(204);
    expect(await deviceRecord(token)).toBeUndefined();
    expect((await api('DELETE', `/v1/devices/${token}`, { as: bob })).status).toBe(404);
  }, 120_000);

  it('two tokens sharing their first 1 000 characters are two devices', async () => {
    const alice = newUser('long-twins');
    const head = longToken().slice(0, MAX_KEYED_TOKEN_LENGTH);
    const tail = () => randomBytes(MAX_FCM_TOKEN_LENGTH).toString('base64url');
    const first = `${head}${tail()}`.slice(0, MAX_FCM_TOKEN_LENGTH);
    const second = `${head}${tail()}`.slice(0, MAX_FCM_TOKEN_LENGTH);
    expect(first).not.toBe(second);
    expect((await register(first, alice)).status).toBe(201);
    expect((await register(second, alice)).status).toBe(201);
    expect((await listed(alice)).sort()).toEqual([first, second].sort());
    await push('long-token-twins', { userIds: [alice] });
    expect(harness.fcmInboxTokens().sort()).toEqual([first, second].sort());
    expect((await api('DELETE', `/v1/devices/${first}`, { as: alice })).status).toBe(204);
    expect(await listed(alice)).toEqual([second]);
  }, 120_000);

  it('is pruned on UNREGISTERED, then 404', async () => {
    const alice = newUser('long-pruned');
    const token = longToken();
    expect((await register(token, alice)).status).toBe(201);
    harness.fcm?.setFaults({ tokens: { [token]: { status: 404, errorCode: 'UNREGISTERED' } } });
    const counted = await senderMetrics(() => push('long-token-pruned', { tokens: [token] }));
    expect(counted.TokensPruned).toBe(1);
    expect(await deviceRecord(token)).toBeUndefined();
    expect(await listed(alice)).toEqual([]);
    expect((await api('DELETE', `/v1/devices/${token}`, { as: alice })).status).toBe(404);
  }, 120_000);

  it('is erased with its user', async () => {
    const alice = newUser('long-erased');
    const tokens = [longToken(), longToken()];
    for (const token of tokens) expect((await register(token, alice)).status).toBe(201);
    expect((await api('DELETE', `/v1/users/${alice}/devices`, { backend: true })).status).toBe(204);
    expect(await listed(alice)).toEqual([]);
    for (const token of tokens) expect(await deviceRecord(token)).toBeUndefined();
    await push('long-token-erased', { userIds: [alice] });
    expect(harness.fcmInboxTokens()).toEqual([]);
  }, 120_000);

  it('a record written before device sets joins its user set through the backfill, full token and all', async () => {
    const alice = newUser('long-backfill');
    const token = longToken();
    const now = new Date();
    const legacy: Device = {
      token,
      userId: alice,
      appId: TEST_APP_ID,
      environment: 'production',
      platform: 'android',
      registeredAt: now.toISOString(),
      lastSeenAt: now.toISOString(),
      expiresAt: deviceExpiry(now),
    };
    await db.send(
      new PutCommand({ TableName: process.env[ENVIRONMENT.devicesTable], Item: deviceItem(legacy) }),
    );
    expect(await listed(alice)).toEqual([]);
    // The migration's scan of the whole table (npm run migrate): every other record is in its set already.
    expect((await backfillDeviceSets()).added).toBe(1);
    expect(await backfillRecord(legacy, now)).toBe('present');
    expect(await listed(alice)).toEqual([token]);
    await push('long-token-backfilled', { userIds: [alice] });
    expect(harness.fcmInboxTokens()).toEqual([token]);
  }, 120_000);

  it("a user with more such devices than the set's item can hold keeps the most recently seen, and every registration succeeds", async () => {
    process.env[ENVIRONMENT.maxDevicesPerUser] = String(MOST_DEVICES_PER_USER);
    try {
      const alice = newUser('long-many');
      const tokens = Array.from({ length: 100 }, () => longToken());
      for (const token of tokens) expect((await register(token, alice)).status).toBe(201);
      const held = await listed(alice);
      // ~4.3 KB a device: about 80 fit MAX_SET_ENTRY_BYTES; the least recently seen left.
      expect(held.length).toBeGreaterThan(70);
      expect(held.length).toBeLessThan(90);
      expect(held.sort()).toEqual(tokens.slice(-held.length).sort());
      await push('long-token-many', { userIds: [alice] });
      expect(harness.fcmInboxTokens().sort()).toEqual(held);
    } finally {
      delete process.env[ENVIRONMENT.maxDevicesPerUser];
    }
  }, 180_000);
});
