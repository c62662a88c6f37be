import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { api, newUser } from '../support/api';
import { TEST_APP_ID } from '../support/embedded-services';
import { newFcmToken } from '../support/fcm-tokens';
import { alertJob, registerDevices, SenderHarness } from '../support/sender-harness';

// A user with an iPhone and an Android phone (or a production and a sandbox iPhone): one
// platform or environment refusing the whole job must not make the other's devices get
// it twice once the job is redriven.
const harness = new SenderHarness();
beforeAll(() => harness.start({ fcm: true }), 30_000);
afterAll(() => harness.stop());
beforeEach(() => harness.purge());

const fcm = () => {
  if (harness.fcm === undefined) throw new Error('the harness has no FCM simulator');
  return harness.fcm;
};

async function registerAndroid(userId: string): Promise<string> {
  const token = newFcmToken();
  const answer = await api('PUT', `/v1/devices/${token}`, {
    as: userId,
    body: { appId: TEST_APP_ID, platform: 'android' },
  });
  expect(answer.status).toBe(201);
  return token;
}

/** How many pushes each token got, iOS and Android together, sorted by token. */
function pushCounts(): [string, number][] {
  const counts = new Map<string, number>();
  for (const token of [...harness.inboxTokens(), ...harness.fcmInboxTokens()])
    counts.set(token, (counts.get(token) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => a.localeCompare(b));
}

describe.each([
  ['one user (a lean job)', 0],
  ['eleven users (the chunk path)', 10],
])('FCM refusing the job’s credentials while APNs accepts: %s', (_, others) => {
  it('the iPhone’s push is kept; only the Android device is dead-lettered, and the redrive reaches it alone', async () => {
    const user = newUser('mixed');
    const [iphone] = (await registerDevices(user, 1)) as [string];
    const android = await registerAndroid(user);
    const id = `mixed-${others}-${Date.now()}`;
    const userIds = [user, ...Array.from({ length: others }, (_, i) => `${user}-nobody-${i}`)];
    // Refused on the first try and on the fresh access token's: a credential error, fatal.
    fcm().setFaults({ tokens: { [android]: { status: 403, errorCode: 'PERMISSION_DENIED', times: 2 } } });
    const answer = await api('POST', '/v1/notifications', {
      backend: true,
      body: alertJob({ userIds }, { notificationId: id }),
    });
    expect(answer.status).toBe(202);
    await harness.source.idle();
    expect(pushCounts()).toEqual([[iphone, 1]]);
    const dead = await harness.deadLetters();
    expect(dead.map((letter) => letter.reason)).toEqual(['PERMISSION_DENIED']);

    // The operator fixes the credentials and redrives what the DLQ holds, as it is.
    fcm().setFaults({});
    for (const letter of dead) await harness.publish(letter.body);
    await harness.source.idle();
    expect(pushCounts()).toEqual(
      [
        [iphone, 1],
        [android, 1],
      ].sort(([a], [b]) => String(a).localeCompare(String(b))),
    );
    expect(await harness.deadLetters()).toEqual([]);
    const status = await api('GET', `/v1/notifications/${id}`, { backend: true });
    expect(status.body).toMatchObject({ counts: { accepted: 2 }, progress: { complete: true } });
  });
});

describe('APNs refusing the key in one environment while the other accepts (a key made for production only)', () => {
  it('the production device keeps its one push; the sandbox device is dead-lettered alone and the redrive reaches it once', async () => {
    harness.simulator.clearFaults();
    const user = newUser('environments');
    const [production] = (await registerDevices(user, 1, 'production')) as [string];
    const [sandbox] = (await registerDevices(user, 1, 'sandbox')) as [string];
    const id = `environments-${Date.now()}`;
    harness.simulator.failToken(sandbox, { status: 403, reason: 'InvalidProviderToken' }, 10);
    const answer = await api('POST', '/v1/notifications', {
      backend: true,
      body: alertJob({ userIds: [user] }, { notificationId: id }),
    });
    expect(answer.status).toBe(202);
    await harness.source.idle();
    expect(pushCounts()).toEqual([[production, 1]]);
    const dead = await harness.deadLetters();
    expect(dead.map((letter) => letter.reason)).toEqual(['InvalidProviderToken']);

    // The key fixed (the simulator forgets its faults, and what it received so far).
    harness.simulator.reset();
    for (const letter of dead) await harness.publish(letter.body);
    await harness.source.idle();
    expect(pushCounts()).toEqual([[sandbox, 1]]);
    expect(await harness.deadLetters()).toEqual([]);
  });
});
