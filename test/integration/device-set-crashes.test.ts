import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { backfillRecord } from '../../lambda/adapters/secondary/device-set-backfill';
import { readDeviceSets } from '../../lambda/adapters/secondary/device-sets';
import { userKey } from '../../lambda/adapters/secondary/devices-keys';
import { correctDeviceEnvironment, pruneDevice } from '../../lambda/adapters/secondary/devices-table';
import { dynamo } from '../../lambda/clients';
import { apiPorts } from '../../lambda/composition/api';
import { type Device, deviceExpiry } from '../../lambda/domain/device';
import { ENVIRONMENT } from '../../lambda/environment';
import { eraseUserDevices } from '../../lambda/use-cases/erase-user-devices';
import { registerDevice } from '../../lambda/use-cases/register-device';
import { unregisterDevice } from '../../lambda/use-cases/unregister-device';
import { newToken, newUser } from '../support/api';
import { TEST_APP_ID } from '../support/embedded-services';
import { alertJob, db, deviceRecord, SenderHarness } from '../support/sender-harness';

/*
 * Every writer of a device set and a token record, stopped after each of its writes
 * (the write lands, then the "process" dies), followed by a send to every user
 * involved: a device may miss pushes until it registers again, it never gets a push
 * meant for a user who does not hold it, and it is never in two users' sets.
 */

const harness = new SenderHarness();
beforeAll(() => harness.start({ visibilityTimeoutSeconds: 10 }), 30_000);
afterAll(() => harness.stop());
beforeEach(() => harness.purge());

const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand']);
/** Crashes the caller right after its `n`-th DynamoDB write has landed (0: never). */
let crashAfter = 0;
let writes = 0;
class Crash extends Error {}

/**
 * Runs once, just before the next write that adds a device to `userId`'s set; its own
 * writes are not counted.
 */
let beforeJoin: { userId: string; run: () => Promise<unknown> } | undefined;

beforeAll(() => {
  dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      const hook = beforeJoin;
      const input = args.input as { Key?: { token?: unknown }; UpdateExpression?: string };
      // The document client's commands reach this stack marshalled (`{ S: … }`) or not.
      const key = input.Key?.token;
      const keyText = typeof key === 'object' && key !== null ? (key as { S?: unknown }).S : key;
      if (
        hook !== undefined &&
        context.commandName === 'UpdateItemCommand' &&
        keyText === userKey(hook.userId).token &&
        input.UpdateExpression?.startsWith('SET #entry = :entry, #setVersion') === true
      ) {
        beforeJoin = undefined;
        const armed = crashAfter;
        crashAfter = 0;
        await hook.run().finally(() => {
          crashAfter = armed;
        });
      }
      const result = await next(args);
      if (crashAfter > 0 && WRITES.has(context.commandName ?? '') && ++writes === crashAfter)
        throw new Crash(`crashed after write ${writes} (${context.commandName})`);
      return result;
    },
    { step: 'initialize', name: 'crashAfterWrite' },
  );
});
afterAll(() => dynamo.middlewareStack.remove('crashAfterWrite'));
afterEach(() => {
  crashAfter = 0;
  beforeJoin = undefined;
  delete process.env[ENVIRONMENT.maxDevicesPerUser];
});

/** Runs `writer` with a crash after its `n`-th write; how many writes it made when not stopped. */
async function crashing(n: number, writer: () => Promise<unknown>): Promise<'crashed' | 'finished'> {
  writes = 0;
  crashAfter = n;
  try {
    await writer();
    return 'finished';
  } catch (error) {
    if (error instanceof Crash) return 'crashed';
    throw error;
  } finally {
    crashAfter = 0;
  }
}

const register = (userId: string, token: string, environment: 'production' | 'sandbox' = 'production') =>
  registerDevice(apiPorts, { token, userId, appId: TEST_APP_ID, environment });

/** Sends one notification to each user; which users' notifications reached each token. */
async function sendToEach(users: readonly string[], tag: string): Promise<Map<string, string[]>> {
  harness.simulator.reset();
  for (const userId of users)
    await harness.deliver(alertJob({ userIds: [userId] }, { notificationId: `${tag}-${userId}` }));
  const reached = new Map<string, string[]>();
  for (const entry of harness.simulator.inbox) {
    const id = (entry.payload as { pushgate?: { id?: string } }).pushgate?.id ?? '';
    const user = users.find((userId) => id === `${tag}-${userId}`);
    if (user !== undefined) reached.set(entry.token, [...(reached.get(entry.token) ?? []), user]);
  }
  return reached;
}

/** Which of these users' sets hold the token. */
async function holdersInSets(users: readonly string[], token: string): Promise<string[]> {
  const sets = await readDeviceSets(users);
  return users.filter((userId) => sets.get(userId)?.devices.has(token) === true);
}

/**
 * The checks after a writer stopped: the token is in at most one set, only the user
 * whose set holds it gets it (and only once), and after `heal` (the app registering
 * again) exactly `finalHolder` gets it.
 */
async function expectFailClosed(
  users: readonly string[],
  token: string,
  tag: string,
  allowed: readonly string[],
  heal: () => Promise<unknown>,
  finalHolder: string | undefined,
) {
  const holders = await holdersInSets(users, token);
  expect(holders.length).toBeLessThanOrEqual(1);
  for (const holder of holders) expect(allowed).toContain(holder);
  const reached = (await sendToEach(users, `${tag}-after-crash`)).get(token) ?? [];
  expect(reached).toEqual(holders);
  await heal();
  expect(await holdersInSets(users, token)).toEqual(finalHolder === undefined ? [] : [finalHolder]);
  const healed = (await sendToEach(users, `${tag}-healed`)).get(token) ?? [];
  expect(healed).toEqual(finalHolder === undefined ? [] : [finalHolder]);
}

/** Runs `scenario(n)` for n = 1, 2, … until the writer finishes without being stopped. */
async function everyWrite(scenario: (n: number) => Promise<'crashed' | 'finished'>, expectedWrites: number) {
  let n = 1;
  for (; n <= 10; n++) if ((await scenario(n)) === 'finished') break;
  // The writer made `expectedWrites` writes: it was stopped after each, then finished.
  expect(n).toBe(expectedWrites + 1);
}

describe('a writer that stops between its writes leaves a device in no set rather than in two', () => {
  it('registering a new device (record, then set)', async () => {
    await everyWrite(async (n) => {
      const alice = newUser('alice');
      const token = newToken();
      const run = await crashing(n, () => register(alice, token));
      await expectFailClosed([alice], token, `new-${n}`, [alice], () => register(alice, token), alice);
      return run;
    }, 2);
  }, 240_000);

  it('moving a device to another user (old set, record, new set)', async () => {
    await everyWrite(async (n) => {
      const alice = newUser('alice');
      const bob = newUser('bob');
      const token = newToken();
      await register(alice, token);
      const run = await crashing(n, () => register(bob, token));
      await expectFailClosed([alice, bob], token, `move-${n}`, [bob], () => register(bob, token), bob);
      return run;
    }, 3);
  }, 240_000);

  it('a move stopped half-way, then the old owner registering again: the token goes back to one set', async () => {
    for (const n of [1, 2]) {
      const alice = newUser('alice');
      const bob = newUser('bob');
      const token = newToken();
      await register(alice, token);
      expect(await crashing(n, () => register(bob, token))).toBe('crashed');
      await expectFailClosed(
        [alice, bob],
        token,
        `move-back-${n}`,
        [bob],
        () => register(alice, token),
        alice,
      );
    }
  }, 240_000);

  it('refreshing a known device whose environment changed (record, then set entry)', async () => {
    await everyWrite(async (n) => {
      const alice = newUser('alice');
      const token = newToken();
      await register(alice, token, 'production');
      const run = await crashing(n, () => register(alice, token, 'sandbox'));
      await expectFailClosed([alice], token, `refresh-${n}`, [alice], () => register(alice, token), alice);
      return run;
    }, 2);
  }, 240_000);

  it('signing a device out (set, then record)', async () => {
    await everyWrite(async (n) => {
      const alice = newUser('alice');
      const bob = newUser('bob');
      const token = newToken();
      await register(alice, token);
      const run = await crashing(n, () => unregisterDevice(apiPorts, alice, token));
      // Bob registers the token next (the phone changed hands): only bob is reached.
      await expectFailClosed([alice, bob], token, `signout-${n}`, [], () => register(bob, token), bob);
      return run;
    }, 2);
  }, 240_000);

  it('pruning a token APNs called invalid (set, then record)', async () => {
    await everyWrite(async (n) => {
      const alice = newUser('alice');
      const bob = newUser('bob');
      const token = newToken();
      await register(alice, token);
      const run = await crashing(n, () =>
        pruneDevice({ token, userId: alice, appId: TEST_APP_ID }, new Date(Date.now() + 60_000)),
      );
      // Stopped after its first write, the prune leaves alice's record outside any set;
      // bob registering the token next is the only one reached.
      await expectFailClosed([alice, bob], token, `prune-${n}`, [], () => register(bob, token), bob);
      return run;
    }, 2);
  }, 240_000);

  it('erasing a user (set, then each record)', async () => {
    await everyWrite(async (n) => {
      const alice = newUser('alice');
      const bob = newUser('bob');
      const token = newToken();
      await register(alice, token);
      await register(alice, newToken());
      const run = await crashing(n, () => eraseUserDevices(apiPorts, alice, new Date()));
      await expectFailClosed([alice, bob], token, `erase-${n}`, [], () => register(bob, token), bob);
      return run;
    }, 3);
  }, 240_000);

  it('correcting a device’s environment (record, then set entry)', async () => {
    await everyWrite(async (n) => {
      const alice = newUser('alice');
      const bob = newUser('bob');
      const token = newToken();
      await register(alice, token);
      const run = await crashing(n, () => correctDeviceEnvironment({ token, userId: alice }, 'sandbox'));
      await expectFailClosed(
        [alice, bob],
        token,
        `environment-${n}`,
        [alice],
        () => register(bob, token),
        bob,
      );
      return run;
    }, 2);
  }, 240_000);

  it('the migration backfilling a record signed out while it holds it (record stamped, then set)', async () => {
    await everyWrite(async (n) => {
      const alice = newUser('alice');
      const bob = newUser('bob');
      const token = newToken();
      // A record from before device sets: no version, in no set.
      const seenAt = new Date(Date.now() - 60_000);
      const record: Device = {
        token,
        userId: alice,
        appId: TEST_APP_ID,
        environment: 'production',
        platform: 'ios',
        registeredAt: seenAt.toISOString(),
        lastSeenAt: seenAt.toISOString(),
        expiresAt: deviceExpiry(seenAt),
      };
      await db.send(
        new PutCommand({ TableName: process.env[ENVIRONMENT.devicesTable] as string, Item: record }),
      );
      // Alice signs the device out after the backfill read her set, just before its set write.
      beforeJoin = { userId: alice, run: () => unregisterDevice(apiPorts, alice, token) };
      const run = await crashing(n, () => backfillRecord(record, new Date()));
      // Bob registers the token next (the phone changed hands): only bob is reached.
      await expectFailClosed([alice, bob], token, `backfill-${n}`, [], () => register(bob, token), bob);
      return run;
    }, 1);
  }, 240_000);

  it('a new device joining a full set (record, then set with the least recently seen evicted)', async () => {
    await everyWrite(async (n) => {
      process.env[ENVIRONMENT.maxDevicesPerUser] = '2';
      const alice = newUser('alice');
      const [oldest, newer, joining] = [newToken(), newToken(), newToken()];
      await register(alice, oldest);
      await register(alice, newer);
      const run = await crashing(n, () => register(alice, joining));
      const sets = await readDeviceSets([alice]);
      const held = [...(sets.get(alice)?.devices.keys() ?? [])];
      expect(held.length).toBeLessThanOrEqual(2);
      expect(held).toContain(newer);
      // Stopped after the record only: the set is as it was; after the set write the oldest left for the new one.
      expect(held.sort()).toEqual(n === 1 ? [oldest, newer].sort() : [newer, joining].sort());
      const reached = await sendToEach([alice], `evict-${n}`);
      expect([...reached.keys()].sort()).toEqual(held.sort());
      return run;
    }, 2);
  }, 240_000);
});

describe('registrations racing for one token', () => {
  it('two users registering the same token 10 times each at once leave it in exactly one set, the record’s owner’s', async () => {
    const alice = newUser('alice');
    const bob = newUser('bob');
    const token = newToken();
    await register(alice, token);
    await Promise.all(Array.from({ length: 20 }, (_, i) => register(i % 2 === 0 ? bob : alice, token)));
    const holders = await holdersInSets([alice, bob], token);
    expect(holders).toHaveLength(1);
    expect((await deviceRecord(token))?.userId).toBe(holders[0]);
    const reached = (await sendToEach([alice, bob], 'race')).get(token) ?? [];
    expect(reached).toEqual(holders);
  }, 120_000);
});
