import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { api, newUser } from '../support/api';
import { TEST_APP_ID } from '../support/embedded-services';
import { registerDevices, SenderHarness } from '../support/sender-harness';

const harness = new SenderHarness();
beforeAll(() => harness.start(), 30_000);
afterAll(() => harness.stop());
beforeEach(() => harness.purge());

/** Sends a job (a raw JSON body) through the API and waits until the sender is done. */
async function sendRaw(rawBody: string) {
  const answer = await api('POST', '/v1/notifications', { backend: true, rawBody });
  await harness.source.idle();
  return answer;
}

describe('payloads reach the device exactly as sent', () => {
  it('emoji and any other Unicode text in alert and data travel through the queue (fauxqs) unchanged', async () => {
    const user = newUser();
    const [token] = await registerDevices(user, 1);
    const notificationId = `unicode-${Date.now()}`;
    const aps = { alert: { title: '🎉 Bestellung verschickt', body: 'Grüße aus Köln ✓ 👍🏽 — 東京' } };
    const data = {
      note: '😀 family: 👨‍👩‍👧',
      ключ: 'значение',
      noncharacters: 'a\ufffeb\uffffc',
      pairs: '\ud83d\ude00 \ud800\udc00',
      controls: 'line\nbreak\ttab\u0000nul',
    };
    const answer = await sendRaw(
      JSON.stringify({ notificationId, appId: TEST_APP_ID, to: { userIds: [user] }, aps, data }),
    );
    expect(answer.status).toBe(202);
    expect(harness.simulator.inbox.map((entry) => [entry.token, entry.payload])).toEqual([
      [token, { ...data, aps, pushgate: { id: notificationId } }],
    ]);
    expect(await harness.deadLetters()).toEqual([]);
  });

  it('a job sent as UTF-8 bytes with a vendor JSON type reaches the handler base64-encoded, and the device as sent', async () => {
    const user = newUser();
    const [token] = await registerDevices(user, 1);
    const aps = { alert: { title: 'Grüße 🎉', body: '東京 \ufffe ✓' } };
    const job = { appId: TEST_APP_ID, to: { userIds: [user] }, aps };
    const answer = await api('POST', '/v1/notifications', {
      backend: true,
      rawBody: Buffer.from(JSON.stringify(job), 'utf8'),
      headers: { 'content-type': 'application/vnd.pushgate+json' },
    });
    await harness.source.idle();
    expect(answer.status).toBe(202);
    expect(harness.simulator.inbox.map((entry) => [entry.token, entry.payload])).toEqual([
      [token, { aps, pushgate: { id: answer.body.notificationId } }],
    ]);
  });

  it('a "__proto__" key in data, at any depth, is delivered like any other key', async () => {
    const user = newUser();
    await registerDevices(user, 1);
    const answer = await sendRaw(
      `{"appId":"${TEST_APP_ID}","to":{"userIds":["${user}"]},"aps":{"alert":"Hi"},` +
        '"data":{"__proto__":{"admin":true},"nested":{"__proto__":[1,2]},"plain":1}}',
    );
    expect(answer.status).toBe(202);
    const payload = harness.simulator.inbox[0]?.payload as Record<string, unknown>;
    expect(Object.hasOwn(payload, '__proto__')).toBe(true);
    expect(JSON.stringify(payload)).toBe(
      `{"__proto__":{"admin":true},"nested":{"__proto__":[1,2]},"plain":1,"aps":{"alert":"Hi"},"pushgate":{"id":"${answer.body.notificationId}"}}`,
    );
  });

  it('an aps holding only content-available goes out as a background push at priority 5', async () => {
    const user = newUser();
    await registerDevices(user, 1);
    const answer = await sendRaw(
      JSON.stringify({ appId: TEST_APP_ID, to: { userIds: [user] }, aps: { 'content-available': 1 } }),
    );
    expect(answer.status).toBe(202);
    const headers = harness.simulator.inbox[0]?.headers;
    expect([headers?.['apns-push-type'], headers?.['apns-priority']]).toEqual(['background', '5']);
  });

  it('the job can still say otherwise: content-available alone at priority 10 goes out as an alert', async () => {
    const user = newUser();
    await registerDevices(user, 1);
    await sendRaw(
      JSON.stringify({
        appId: TEST_APP_ID,
        to: { userIds: [user] },
        aps: { 'content-available': 1 },
        apns: { priority: 10 },
      }),
    );
    const headers = harness.simulator.inbox[0]?.headers;
    expect([headers?.['apns-push-type'], headers?.['apns-priority']]).toEqual(['alert', '10']);
  });

  it('a collapse id at the 64-byte limit is sent as the apns-collapse-id header, byte for byte', async () => {
    const user = newUser();
    await registerDevices(user, 1);
    const collapseId = `order 1-${'~!'.repeat(28)}`;
    await sendRaw(
      JSON.stringify({
        appId: TEST_APP_ID,
        to: { userIds: [user] },
        aps: { alert: 'Hi' },
        apns: { collapseId },
      }),
    );
    expect(collapseId).toHaveLength(64);
    expect(harness.simulator.inbox[0]?.headers['apns-collapse-id']).toBe(collapseId);
  });
});
