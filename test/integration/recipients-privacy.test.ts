import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { claimChunk } from '../../lambda/adapters/secondary/chunk-progress';
import { DEVICE_SET, DEVICES_TABLE, userKey } from '../../lambda/adapters/secondary/devices-keys';
import { indexedDevicesOf } from '../../lambda/adapters/secondary/devices-table';
import { dynamo } from '../../lambda/clients';
import { LEAN_MAX_USERS } from '../../lambda/domain/lean-job';
import { ENVIRONMENT } from '../../lambda/environment';
import { api, newUser } from '../support/api';
import { TEST_APP_ID } from '../support/embedded-services';
import {
  alertJob,
  db,
  deviceRecord,
  registerDevices,
  SenderHarness,
  senderMetrics,
} from '../support/sender-harness';

const harness = new SenderHarness();
beforeAll(() => harness.start({ visibilityTimeoutSeconds: 20 }), 30_000);
afterAll(() => harness.stop());
beforeEach(async () => {
  await harness.purge();
  harness.simulator.clearFaults();
});

/** How many pushes of notification `id` reached each token. */
function pushesOf(id: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const entry of harness.simulator.inbox) {
    if ((entry.payload as { pushgate?: { id?: string } }).pushgate?.id !== id) continue;
    counts.set(entry.token, (counts.get(entry.token) ?? 0) + 1);
  }
  return counts;
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const signOut = (userId: string, token: string) => api('DELETE', `/v1/devices/${token}`, { as: userId });
const takeOver = (userId: string, token: string) =>
  api('PUT', `/v1/devices/${token}`, { as: userId, body: { appId: TEST_APP_ID, environment: 'production' } });
const reportOf = async (id: string) =>
  new Map(
    (
      (await api('GET', `/v1/notifications/${id}`, { backend: true })).body.devices as {
        token: string;
        status: string;
        reason?: string;
      }[]
    ).map((device) => [device.token, device]),
  );

describe('a notification reaches only the devices its user holds when each push leaves', () => {
  it('re-push rounds skip a device the user signed out of and one that moved to another user', async () => {
    const alice = newUser('alice');
    const bob = newUser('bob');
    const [signedOut, moved, kept] = (await registerDevices(alice, 3)) as [string, string, string];
    const id = 'privacy-repush';
    const answer = await api('POST', '/v1/notifications', {
      backend: true,
      body: alertJob(
        { userIds: [alice] },
        { notificationId: id, track: { receipts: true, repushAfterSeconds: 4, maxRepushes: 2 } },
      ),
    });
    expect(answer.status).toBe(202);
    // The first push has reached all three; the first re-push round is due 4 s after APNs accepted them.
    await until(() => pushesOf(id).size === 3, 'the first push');
    expect((await signOut(alice, signedOut)).status).toBe(204);
    expect((await takeOver(bob, moved)).status).toBe(201);

    const metrics = await senderMetrics(() => harness.source.idle(180_000));
    const pushes = pushesOf(id);
    expect(pushes.get(kept)).toBe(3); // both re-push rounds happened
    expect(pushes.get(signedOut)).toBe(1);
    expect(pushes.get(moved)).toBe(1);
    expect(metrics.TokensMovedToAnotherUser).toBe(1);
    expect(metrics.TokensNotRegistered).toBe(1);
    const report = await reportOf(id);
    expect(report.get(moved)).toMatchObject({ status: 'failed', reason: 'DeviceMoved' });
    expect(report.get(signedOut)).toMatchObject({ status: 'failed', reason: 'NotRegistered' });
    expect(report.get(kept)).toMatchObject({ status: 'accepted' });
  }, 240_000);

  it('a retry does not follow a device that moved to another user after the first attempt', async () => {
    const alice = newUser('alice');
    const bob = newUser('bob');
    const [moved, stays] = (await registerDevices(alice, 2)) as [string, string];
    const busy = { status: 429, reason: 'TooManyRequests', retryAfter: 5, times: 1 };
    harness.simulator.setFaults({ tokens: { [moved]: busy, [stays]: busy } });
    const id = 'privacy-retry';
    await harness.publish(alertJob({ userIds: [alice] }, { notificationId: id, track: { receipts: true } }));
    // Both were answered 429 once: the retry goes back on the queue for at least 5 s.
    await until(() => harness.simulator.faultReport().done.tokenFaults === 2, 'the 429 answers');
    expect((await takeOver(bob, moved)).status).toBe(201);

    const metrics = await senderMetrics(() => harness.source.idle(180_000));
    const pushes = pushesOf(id);
    expect(pushes.get(stays)).toBe(1);
    expect(pushes.has(moved)).toBe(false);
    expect(metrics.TokensMovedToAnotherUser).toBe(1);
    expect((await reportOf(id)).get(moved)).toMatchObject({ status: 'failed', reason: 'DeviceMoved' });
    expect(await harness.deadLetters()).toEqual([]);
  }, 240_000);

  it('a retry of a job addressed to tokens does not follow a token that changed hands', async () => {
    const alice = newUser('alice');
    const bob = newUser('bob');
    const [moved] = (await registerDevices(alice, 1)) as [string];
    harness.simulator.setFaults({
      tokens: { [moved]: { status: 503, reason: 'ServiceUnavailable', retryAfter: 5, times: 1 } },
    });
    const id = 'privacy-retry-tokens';
    await harness.publish(alertJob({ tokens: [moved] }, { notificationId: id }));
    await until(() => harness.simulator.faultReport().done.tokenFaults === 1, 'the 503 answer');
    expect((await takeOver(bob, moved)).status).toBe(201);
    const metrics = await senderMetrics(() => harness.source.idle(180_000));
    expect(pushesOf(id).has(moved)).toBe(false);
    expect(metrics.TokensMovedToAnotherUser).toBe(1);
  }, 240_000);
});

describe('a device past its expiry', () => {
  it('is neither pushed to nor listed, although DynamoDB has not deleted it yet (TTL deletes late)', async () => {
    const alice = newUser('alice');
    const [expired, fresh] = (await registerDevices(alice, 2)) as [string, string];
    // Time passes for this device: its record and its entry in alice's set carry one expiry.
    const past = Math.floor(Date.now() / 1000) - 60;
    await db.send(
      new UpdateCommand({
        TableName: process.env[ENVIRONMENT.devicesTable],
        Key: { token: expired },
        UpdateExpression: 'SET expiresAt = :past',
        ExpressionAttributeValues: { ':past': past },
      }),
    );
    await db.send(
      new UpdateCommand({
        TableName: process.env[ENVIRONMENT.devicesTable],
        Key: userKey(alice),
        UpdateExpression: 'SET #entry.expiresAt = :past',
        ExpressionAttributeNames: { '#entry': `${DEVICE_SET.entryPrefix}${expired}` },
        ExpressionAttributeValues: { ':past': past },
      }),
    );
    expect(await deviceRecord(expired)).toBeDefined();
    const listed = (await api('GET', '/v1/devices', { as: alice })).body.devices as { token: string }[];
    expect(listed.map((d) => d.token)).toEqual([fresh]);
    const id = 'privacy-expired';
    await harness.deliver(alertJob({ userIds: [alice] }, { notificationId: id }));
    await harness.deliver(alertJob({ tokens: [expired] }, { notificationId: `${id}-token` }));
    expect([...pushesOf(id).keys()]).toEqual([fresh]);
    expect(pushesOf(`${id}-token`).size).toBe(0);
  });
});

describe('with a lagging byUser index', () => {
  /**
   * A stand-in for DynamoDB's eventually consistent index: while `stale` is on,
   * Query on `byUser` answers what it answered before (recorded per user), as a
   * global secondary index that has not caught up with the table yet would.
   */
  const recorded = new Map<string, object>();
  let stale = false;
  const userOf = (input: Record<string, unknown>) => {
    const value = (input.ExpressionAttributeValues as Record<string, unknown> | undefined)?.[':pk'];
    return typeof value === 'string' ? value : (value as { S?: string } | undefined)?.S;
  };
  beforeAll(() => {
    dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as Record<string, unknown>;
        const user = userOf(input);
        if (
          context.commandName !== 'QueryCommand' ||
          input.IndexName !== DEVICES_TABLE.userIndex.name ||
          !user
        )
          return next(args);
        const before = recorded.get(user);
        if (stale && before !== undefined)
          return { output: structuredClone(before), response: {} } as Awaited<ReturnType<typeof next>>;
        const result = await next(args);
        recorded.set(user, structuredClone(result.output as object));
        return result;
      },
      { step: 'serialize', name: 'staleByUserIndex' },
    );
  });
  afterEach(() => {
    stale = false;
    recorded.clear();
  });
  afterAll(() => dynamo.middlewareStack.remove('staleByUserIndex'));

  it('no notification follows a token that moved, while the index still lists it under the old owner', async () => {
    const alice = newUser('alice');
    const bob = newUser('bob');
    const [moved, kept] = (await registerDevices(alice, 2)) as [string, string];
    expect((await indexedDevicesOf(alice, TEST_APP_ID)).map((d) => d.token).sort()).toEqual(
      [moved, kept].sort(),
    );
    expect((await takeOver(bob, moved)).status).toBe(201);
    stale = true;
    // The index really is stale: it still says the moved token is alice's.
    expect((await indexedDevicesOf(alice, TEST_APP_ID)).map((d) => d.token)).toContain(moved);

    const id = 'privacy-stale-index';
    const metrics = await senderMetrics(() =>
      harness.deliver(alertJob({ userIds: [alice] }, { notificationId: id, track: { receipts: true } })),
    );
    const pushes = pushesOf(id);
    expect(pushes.get(kept)).toBe(1);
    expect(pushes.has(moved)).toBe(false);
    expect(metrics.TokensMovedToAnotherUser).toBe(1);
    // Never a recipient: the dropped device gets no tracking record for alice's notification.
    expect([...(await reportOf(id)).keys()]).toEqual([kept]);
  });
  it('an erase takes a device the index did not list yet: no re-push, send, receipt or list reaches it until the app registers it again', async () => {
    const alice = newUser('alice');
    const bob = newUser('bob');
    const [listed] = (await registerDevices(alice, 1)) as [string];
    expect((await indexedDevicesOf(alice, TEST_APP_ID)).map((d) => d.token)).toEqual([listed]);
    stale = true;
    // Registered a moment before the erase: the index has not caught up with it yet.
    const [unlisted] = (await registerDevices(alice, 1)) as [string];
    const [control] = (await registerDevices(bob, 1)) as [string];
    const id = 'privacy-erase-lag';
    const answer = await api('POST', '/v1/notifications', {
      backend: true,
      body: alertJob(
        { tokens: [listed, unlisted, control] },
        { notificationId: id, track: { receipts: true, repushAfterSeconds: 4, maxRepushes: 1 } },
      ),
    });
    expect(answer.status).toBe(202);
    await until(() => pushesOf(id).size === 3, 'the first push');

    expect((await api('DELETE', `/v1/users/${alice}/devices`, { backend: true })).status).toBe(204);
    // The erase found only what the index listed: the other record is still in the table, under alice.
    expect(await deviceRecord(listed)).toBeUndefined();
    expect(await deviceRecord(unlisted)).toMatchObject({ userId: alice });
    stale = false;
    // The index catches up and lists the left-behind record as alice's — nothing may believe it.
    expect((await indexedDevicesOf(alice, TEST_APP_ID)).map((d) => d.token)).toEqual([unlisted]);
    expect((await api('GET', '/v1/devices', { as: alice })).body.devices).toEqual([]);
    expect((await api('GET', `/v1/users/${alice}/devices`, { backend: true })).body.devices).toEqual([]);
    const receipt = await api('POST', `/v1/notifications/${id}/receipts`, {
      as: alice,
      body: { token: unlisted, event: 'received' },
    });
    expect(receipt.status).toBe(404);

    // The re-push round reaches bob's device again and neither of alice's.
    await harness.source.idle(180_000);
    const pushes = pushesOf(id);
    expect(pushes.get(control)).toBe(2);
    expect(pushes.get(listed)).toBe(1);
    expect(pushes.get(unlisted)).toBe(1);
    const report = await reportOf(id);
    expect(report.get(unlisted)).toMatchObject({ status: 'failed', reason: 'NotRegistered' });

    // A new notification for alice, by user or by token, reaches nothing.
    await harness.deliver(alertJob({ userIds: [alice] }, { notificationId: 'privacy-erase-lag-2' }));
    await harness.deliver(alertJob({ tokens: [unlisted] }, { notificationId: 'privacy-erase-lag-3' }));
    expect(pushesOf('privacy-erase-lag-2').size).toBe(0);
    expect(pushesOf('privacy-erase-lag-3').size).toBe(0);

    // The app signs in again and registers its token: a new device of alice's, reached again.
    expect((await takeOver(alice, unlisted)).status).toBe(201);
    expect((await api('GET', '/v1/devices', { as: alice })).body.devices).toMatchObject([
      { token: unlisted },
    ]);
    await harness.deliver(alertJob({ userIds: [alice] }, { notificationId: 'privacy-erase-lag-4' }));
    expect([...pushesOf('privacy-erase-lag-4').keys()]).toEqual([unlisted]);
  }, 240_000);
});

describe('a chunk held by an invocation that crashed', () => {
  it('is not lost: the message fails, comes back after the visibility timeout and is sent once the lease ends', async () => {
    const carol = newUser('carol');
    const tokens = await registerDevices(carol, 2);
    const id = 'held-by-a-crashed-sender';
    // More users than a lean job names (LEAN_MAX_USERS), so the job takes the chunk path,
    // whose claim this is; a lean job's crashed claim: lean-delivery.test.ts.
    const userIds = [carol, ...Array.from({ length: LEAN_MAX_USERS }, (_, i) => `${carol}-nobody-${i}`)];
    // A sender claimed the only chunk of part 0 (lease 15 s) and died before finishing it.
    expect(await claimChunk(id, '0', 0, 0, 15_000)).toBe('claimed');
    await harness.publish(alertJob({ userIds }, { notificationId: id }));
    // Redelivered after this file's 20 s visibility timeout, by when the lease has run out.
    await harness.source.idle(240_000);
    expect([...pushesOf(id).entries()].sort()).toEqual(tokens.map((token) => [token, 1]).sort());
    expect(await claimChunk(id, '0', 0, 0, 15_000)).toBe('completed');

    // Delivering the finished job again sends nothing and leaves nothing behind.
    await harness.deliver(alertJob({ userIds }, { notificationId: id }));
    expect([...pushesOf(id).values()]).toEqual([1, 1]);
    expect(await harness.deadLetters()).toEqual([]);
  }, 300_000);
});
