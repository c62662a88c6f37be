import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { api, newUser } from '../support/api';
import { TEST_APP_ID } from '../support/embedded-services';
import { seedDevices } from '../support/seed';
import { alertJob, registerDevices, SenderHarness } from '../support/sender-harness';

const harness = new SenderHarness();
beforeAll(() => harness.start(), 30_000);
afterAll(() => harness.stop());
beforeEach(() => harness.purge());

describe('POST /v1/notifications', () => {
  it('5 000 users × 2 devices from one request: exactly one notification per device', async () => {
    const users = Array.from({ length: 5_000 }, (_, i) => `api-${i}-${Date.now()}`);
    const devices = await seedDevices(users, 2);
    const answer = await api('POST', '/v1/notifications', {
      backend: true,
      body: alertJob({ userIds: users }, { notificationId: 'five-thousand' }),
    });
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({ notificationId: 'five-thousand', recipients: { users: 5_000 }, jobs: 5 });
    await harness.source.idle(240_000);
    expect(harness.simulator.inbox).toHaveLength(10_000);
    expect(new Set(harness.inboxTokens())).toEqual(new Set(devices.map((d) => d.token)));

    const again = await api('POST', '/v1/notifications', {
      backend: true,
      body: alertJob({ userIds: users }, { notificationId: 'five-thousand' }),
    });
    expect(again.status).toBe(202);
    expect(again.body).toEqual(answer.body);
    await harness.source.idle();
    expect(harness.simulator.inbox).toHaveLength(10_000);
  }, 300_000);

  it('assigns a notification id when none is given and puts it in every payload', async () => {
    const user = newUser();
    await registerDevices(user, 1);
    const answer = await api('POST', '/v1/notifications', {
      backend: true,
      body: alertJob({ userIds: [user] }),
    });
    expect(answer.status).toBe(202);
    expect(answer.body.notificationId).toMatch(/^[0-9a-f-]{36}$/);
    await harness.source.idle();
    expect(harness.simulator.inbox[0]?.payload).toMatchObject({
      pushgate: { id: answer.body.notificationId },
    });
  });

  it('a repeat with a taken id answers as the first time even if its body differs, and sends nothing', async () => {
    const user = newUser();
    await registerDevices(user, 1);
    const first = await api('POST', '/v1/notifications', {
      backend: true,
      body: alertJob({ userIds: [user] }, { notificationId: 'taken-id' }),
    });
    await harness.source.idle();
    const second = await api('POST', '/v1/notifications', {
      backend: true,
      body: alertJob({ userIds: [user, newUser()] }, { notificationId: 'taken-id' }),
    });
    await harness.source.idle();
    expect(second.status).toBe(202);
    expect(second.body).toEqual(first.body);
    expect(harness.simulator.inbox).toHaveLength(1);
  });
});

describe('jobs published straight to SQS', () => {
  it('a 5 000-user job is split by the sender and every device reached once', async () => {
    const users = Array.from({ length: 5_000 }, (_, i) => `sqs-${i}-${Date.now()}`);
    const devices = await seedDevices(users, 1);
    await harness.deliver({ appId: TEST_APP_ID, to: { userIds: users }, aps: { alert: 'Hi' } }, 240_000);
    expect(harness.simulator.inbox).toHaveLength(devices.length);
    expect(new Set(harness.inboxTokens()).size).toBe(devices.length);
  }, 300_000);
});
