import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readDeviceSets } from '../../lambda/adapters/secondary/device-sets';
import { userKey } from '../../lambda/adapters/secondary/devices-keys';
import { dynamo } from '../../lambda/clients';
import { apiPorts } from '../../lambda/composition/api';
import { eraseUserDevices } from '../../lambda/use-cases/erase-user-devices';
import { registerDevice } from '../../lambda/use-cases/register-device';
import { unregisterDevice } from '../../lambda/use-cases/unregister-device';
import { api, newToken, newUser } from '../support/api';
import { TEST_APP_ID } from '../support/embedded-services';
import { alertJob, deviceRecord, SenderHarness } from '../support/sender-harness';

/*
 * A hostile pass over the device sets: a registration paused just before its last
 * write (the token joining the user's set) while another writer of the same user —
 * a sign-out, an erase — deletes the token's record. The set must not end up holding
 * a token whose record is gone: the next user to register the token would find no
 * owner to take it from, and the token would sit in two users' sets.
 */

const harness = new SenderHarness();
beforeAll(() => harness.start({ visibilityTimeoutSeconds: 10 }), 30_000);
afterAll(() => harness.stop());
beforeEach(() => harness.purge());

/** Runs once, just before the next write that adds a device to `userId`'s set. */
let beforeJoin: { userId: string; run: () => Promise<unknown> } | undefined;
/** Runs once, just before the next query of the `byUser` index (the erase's second step). */
let beforeIndexQuery: (() => Promise<unknown>) | undefined;

beforeAll(() => {
  dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Key?: { token?: unknown }; UpdateExpression?: string };
      const query = beforeIndexQuery;
      if (
        query !== undefined &&
        (context.commandName === 'QueryCommand' || context.commandName === 'QueryItemCommand')
      ) {
        beforeIndexQuery = undefined;
        await query();
      }
      const hook = beforeJoin;
      // The document client's commands reach this stack marshalled (`{ S: … }`) or not.
      const key = input.Key?.token;
      const keyText = typeof key === 'object' && key !== null ? (key as { S?: unknown }).S : key;
      if (
        hook !== undefined &&
        (context.commandName === 'UpdateItemCommand' || context.commandName === 'UpdateCommand') &&
        keyText === userKey(hook.userId).token &&
        input.UpdateExpression?.startsWith('SET #entry = :entry, #setVersion') === true
      ) {
        beforeJoin = undefined;
        await hook.run();
      }
      return next(args);
    },
    { step: 'initialize', name: 'beforeJoin' },
  );
});
afterAll(() => dynamo.middlewareStack.remove('beforeJoin'));

const register = (userId: string, token: string) =>
  registerDevice(apiPorts, { token, userId, appId: TEST_APP_ID, environment: 'production' });

/** Sends one notification to each user; which users' notifications reached `token`. */
async function reachedBy(users: readonly string[], token: string, tag: string): Promise<string[]> {
  harness.simulator.reset();
  for (const userId of users)
    await harness.deliver(alertJob({ userIds: [userId] }, { notificationId: `${tag}-${userId}` }));
  return harness.simulator.inbox
    .filter((entry) => entry.token === token)
    .map((entry) => (entry.payload as { pushgate?: { id?: string } }).pushgate?.id ?? '')
    .map((id) => users.find((userId) => id === `${tag}-${userId}`) ?? id);
}

async function holdersInSets(users: readonly string[], token: string): Promise<string[]> {
  const sets = await readDeviceSets(users);
  return users.filter((userId) => sets.get(userId)?.devices.has(token) === true);
}

describe('a record deleted under a registration on its way never leaves the token in two sets', () => {
  it('a sign-out between the record write and the set write of a new device', async () => {
    const alice = newUser('alice');
    const bob = newUser('bob');
    const token = newToken();
    let signOut: unknown;
    beforeJoin = {
      userId: alice,
      run: async () => {
        signOut = await unregisterDevice(apiPorts, alice, token).then(
          () => 'signed out',
          (error: unknown) => (error as Error).name,
        );
      },
    };
    await register(alice, token);
    expect(signOut).toBe('signed out');
    // Bob's phone now: Alice's notifications must not reach it.
    await register(bob, token);
    expect(await holdersInSets([alice, bob], token)).toEqual([bob]);
    expect(await reachedBy([alice, bob], token, 'sign-out')).toEqual([bob]);
  }, 60_000);

  it('an erase whose record deletes follow a registration made after its set write', async () => {
    const alice = newUser('alice');
    const bob = newUser('bob');
    const token = newToken();
    await register(alice, newToken());
    // The erase emptied Alice's set; before it lists her records, she registers a new
    // phone (201 after the erase began: hers). The erase then deletes its record.
    beforeIndexQuery = () => register(alice, token);
    await eraseUserDevices(apiPorts, alice);
    await register(bob, token);
    expect(await holdersInSets([alice, bob], token)).toEqual([bob]);
    expect(await reachedBy([alice, bob], token, 'erase')).toEqual([bob]);
  }, 60_000);
});

describe('bursts on one token', () => {
  it('PUT and DELETE of one token by three users, with erases, at once: one holder at most, the record’s', async () => {
    const users = [newUser('alice'), newUser('bob'), newUser('carol')];
    const token = newToken();
    const body = { appId: TEST_APP_ID, environment: 'production' };
    const calls = Array.from({ length: 30 }, (_, i) => {
      const user = users[i % 3] ?? '';
      if (i % 10 === 9)
        return api('DELETE', `/v1/users/${encodeURIComponent(user)}/devices`, { backend: true });
      if (i % 4 === 3) return api('DELETE', `/v1/devices/${token}`, { as: user });
      return api('PUT', `/v1/devices/${token}`, { as: user, body });
    });
    const answers = await Promise.all(calls);
    const holders = await holdersInSets(users, token);
    expect(holders.length).toBeLessThanOrEqual(1);
    const record = await deviceRecord(token);
    for (const holder of holders) expect(record?.userId).toBe(holder);
    expect(await reachedBy(users, token, 'burst')).toEqual(holders);
    // Dave's phone now: none of the three may reach it.
    const dave = newUser('dave');
    expect((await api('PUT', `/v1/devices/${token}`, { as: dave, body })).status).toBe(201);
    expect(await holdersInSets([...users, dave], token)).toEqual([dave]);
    expect(await reachedBy([...users, dave], token, 'burst-after')).toEqual([dave]);
    // Every call answered (a registration that keeps losing its conditions answers 500).
    const kind = (i: number) => (i % 10 === 9 ? 'erase' : i % 4 === 3 ? 'sign-out' : 'register');
    expect(answers.flatMap((answer, i) => (answer.status >= 500 ? [kind(i)] : []))).toEqual([]);
  }, 60_000);
});
