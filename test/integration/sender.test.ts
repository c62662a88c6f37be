import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { newToken, newUser } from '../support/api';
import { TEST_APP_ID } from '../support/embedded-services';
import { alertJob, deviceRecord, registerDevices, SenderHarness } from '../support/sender-harness';

const harness = new SenderHarness();
// Every job here is a few devices: a copy that finds its chunk held comes back after 10 s.
beforeAll(() => harness.start({ visibilityTimeoutSeconds: 10 }), 30_000);
afterAll(() => harness.stop());
beforeEach(() => harness.purge());

describe('sender: happy path', () => {
  it('delivers to every device of every named user and to no one else', async () => {
    const alice = newUser('alice');
    const bob = newUser('bob');
    const carol = newUser('carol');
    const aliceTokens = await registerDevices(alice, 2);
    const bobTokens = await registerDevices(bob, 1, 'sandbox');
    const carolTokens = await registerDevices(carol, 1);

    await harness.deliver(alertJob({ userIds: [alice, bob] }, { notificationId: 'order-123-shipped' }));

    expect(harness.inboxTokens().sort()).toEqual([...aliceTokens, ...bobTokens].sort());
    expect(harness.inboxTokens()).not.toContain(carolTokens[0]);
    const bobEntry = harness.simulator.inbox.find((entry) => entry.token === bobTokens[0]);
    expect(bobEntry?.environment).toBe('sandbox');
    const entry = harness.simulator.inbox[0];
    expect(entry?.topic).toBe(TEST_APP_ID);
    expect(entry?.headers).toMatchObject({
      'apns-push-type': 'alert',
      'apns-priority': '10',
      'apns-collapse-id': 'order-123-shipped',
    });
    expect(entry?.payload).toEqual({
      aps: { alert: { title: 'Hi', body: 'Your order shipped' } },
      pushgate: { id: 'order-123-shipped' },
    });
    expect(await harness.deadLetters()).toEqual([]);
  });

  it('puts custom data at the top level and honours apns options', async () => {
    const dave = newUser('dave');
    const [token] = await registerDevices(dave, 1);
    await harness.deliver(
      alertJob(
        { userIds: [dave] },
        {
          data: { orderId: '123' },
          apns: { pushType: 'alert', priority: 5, expiration: 1_900_000_000, collapseId: 'order-123' },
        },
      ),
    );
    const [entry] = harness.simulator.inbox;
    expect(entry?.token).toBe(token);
    expect(entry?.payload).toMatchObject({ orderId: '123', pushgate: { id: expect.any(String) } });
    expect(entry?.headers).toMatchObject({
      'apns-priority': '5',
      'apns-expiration': '1900000000',
      'apns-collapse-id': 'order-123',
    });
  });

  it('sends to explicit tokens that are registered for the app', async () => {
    const erin = newUser('erin');
    const tokens = await registerDevices(erin, 2);
    await harness.deliver(alertJob({ tokens: [(tokens[0] as string).toUpperCase(), newToken()] }));
    expect(harness.inboxTokens()).toEqual([tokens[0]]);
  });

  it('a redelivered job sends nothing to devices that already got it', async () => {
    const frank = newUser('frank');
    await registerDevices(frank, 3);
    const job = alertJob({ userIds: [frank] }, { notificationId: 'redelivered-once' });
    await harness.deliver(job);
    expect(harness.simulator.inbox).toHaveLength(3);
    await harness.deliver(job);
    expect(harness.simulator.inbox).toHaveLength(3);
  });

  // The copy that finds the chunk held fails and comes back after the visibility timeout (10 s here).
  it('two deliveries of the same job at the same time still reach each device once', async () => {
    const hank = newUser('hank');
    const tokens = await registerDevices(hank, 3);
    const job = alertJob({ userIds: [hank] }, { notificationId: 'delivered-twice-concurrently' });
    await Promise.all([harness.publish(job), harness.publish(job)]);
    await harness.source.idle(240_000);
    expect(harness.inboxTokens().sort()).toEqual([...tokens].sort());
    expect(await harness.deadLetters()).toEqual([]);
  }, 300_000);

  it('reuses one warm HTTP/2 session per environment across jobs', async () => {
    const gina = newUser('gina');
    await registerDevices(gina, 2);
    const sessionsBefore = harness.simulator.stats.sessions;
    for (let i = 0; i < 3; i++) await harness.deliver(alertJob({ userIds: [gina] }));
    expect(harness.simulator.inbox).toHaveLength(6);
    expect(harness.simulator.stats.sessions - sessionsBefore).toBeLessThanOrEqual(1);
    expect(await deviceRecord((harness.simulator.inbox[0]?.token as string) ?? '')).toBeDefined();
  });
});
