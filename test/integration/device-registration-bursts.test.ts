import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { moveSetVersionOn, readDeviceSet, readDeviceSets } from '../../lambda/adapters/secondary/device-sets';
import { userKey } from '../../lambda/adapters/secondary/devices-keys';
import { dynamo } from '../../lambda/clients';
import { api, newToken, newUser } from '../support/api';
import { TEST_APP_ID } from '../support/embedded-services';
import { deviceRecord } from '../support/sender-harness';

/*
 * A burst of registrations of ONE token through the deployed handler — an app that
 * re-registers on every wake-up, a device passed around test accounts. Each call is
 * an idempotent PUT: it succeeds (200/201), or, while others keep winning the same
 * token past the registration's bound, it answers 409 with Retry-After — never a
 * 5xx. Afterwards the token is in exactly one user's set, and its record names that
 * user at the version of the set entry.
 */

const BURST = 60;
const registration = { appId: TEST_APP_ID, environment: 'production' };

async function burst(token: string, callers: readonly string[]) {
  const answers = await Promise.all(
    Array.from({ length: BURST }, (_, i) =>
      api('PUT', `/v1/devices/${token}`, { as: callers[i % callers.length] ?? '', body: registration }),
    ),
  );
  for (const answer of answers) {
    if (answer.status === 409) {
      expect(answer.body.error.code).toBe('RegistrationConflict');
      expect(answer.body.error.message).toMatch(/try again/i);
      expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    } else {
      expect([200, 201], JSON.stringify(answer.body)).toContain(answer.status);
      expect(answer.body.token).toBe(token);
    }
  }
  const sets = await readDeviceSets(callers);
  const holders = callers.filter((userId) => sets.get(userId)?.devices.has(token) === true);
  expect(holders).toHaveLength(1);
  const holder = holders[0] ?? '';
  const record = await deviceRecord(token);
  expect(record?.userId).toBe(holder);
  expect(sets.get(holder)?.devices.get(token)?.version).toBe(record?.version);
  return answers;
}

describe(`${BURST} concurrent PUT /v1/devices/{token} of one token`, () => {
  it('by one user: every call succeeds, one of them as the 201', async () => {
    const alice = newUser('alice');
    const token = newToken();
    const answers = await burst(token, [alice]);
    expect(answers.filter((answer) => answer.status >= 500)).toEqual([]);
    expect(answers.filter((answer) => answer.status === 201).length).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('by four users, the token already held by one of them: no 5xx, and it ends in one set', async () => {
    const users = ['alice', 'bob', 'carol', 'dave'].map(newUser);
    const token = newToken();
    const first = await api('PUT', `/v1/devices/${token}`, { as: users[0] ?? '', body: registration });
    expect(first.status).toBe(201);
    const answers = await burst(token, users);
    expect(answers.filter((answer) => answer.status >= 500)).toEqual([]);
  }, 120_000);

  it(`by ${BURST} different users: no 5xx, and it ends in one set`, async () => {
    const users = Array.from({ length: BURST }, () => newUser('holder'));
    const token = newToken();
    const answers = await burst(token, users);
    expect(answers.filter((answer) => answer.status >= 500)).toEqual([]);
  }, 120_000);
});

/** While set, every write that adds a device to this user's set, or erases it, is refused: the set changes just before it. */
let churnedUser: string | undefined;

beforeAll(() => {
  dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Key?: { token?: unknown }; UpdateExpression?: string };
      const key = input.Key?.token;
      const keyText = typeof key === 'object' && key !== null ? (key as { S?: unknown }).S : key;
      const setWrite =
        input.UpdateExpression?.startsWith('SET #entry = :entry, #setVersion') === true ||
        input.UpdateExpression?.startsWith('ADD generation :one SET erasedAt') === true;
      if (
        churnedUser !== undefined &&
        (context.commandName === 'UpdateItemCommand' || context.commandName === 'UpdateCommand') &&
        keyText === userKey(churnedUser).token &&
        setWrite
      )
        await moveSetVersionOn(churnedUser, (await readDeviceSet(churnedUser)).setVersion ?? 0);
      return next(args);
    },
    { step: 'initialize', name: 'churnSet' },
  );
});
afterAll(() => dynamo.middlewareStack.remove('churnSet'));

describe('a registration that cannot get its write in', () => {
  it('answers 409 RegistrationConflict with Retry-After, and the same call made again succeeds', async () => {
    const alice = newUser('alice');
    const token = newToken();
    churnedUser = alice;
    const refused = await api('PUT', `/v1/devices/${token}`, { as: alice, body: registration }).finally(
      () => {
        churnedUser = undefined;
      },
    );
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('RegistrationConflict');
    expect(refused.body.error.message).toMatch(/try again/i);
    expect(refused.headers['retry-after']).toBe('1');
    const again = await api('PUT', `/v1/devices/${token}`, { as: alice, body: registration });
    expect([200, 201]).toContain(again.status);
    const sets = await readDeviceSets([alice]);
    expect(sets.get(alice)?.devices.get(token)?.version).toBe((await deviceRecord(token))?.version);
  }, 60_000);
});

describe('an erase that cannot get its write in', () => {
  it('answers 409 RegistrationConflict with Retry-After and erases nothing; the same call made again erases', async () => {
    const alice = newUser('alice');
    const token = newToken();
    expect((await api('PUT', `/v1/devices/${token}`, { as: alice, body: registration })).status).toBe(201);
    churnedUser = alice;
    const refused = await api('DELETE', `/v1/users/${alice}/devices`, { backend: true }).finally(() => {
      churnedUser = undefined;
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('RegistrationConflict');
    expect(refused.body.error.message).toMatch(/nothing was erased.*try again/i);
    expect(refused.headers['retry-after']).toBe('1');
    expect((await readDeviceSets([alice])).get(alice)?.devices.has(token)).toBe(true);
    expect((await deviceRecord(token))?.userId).toBe(alice);

    expect((await api('DELETE', `/v1/users/${alice}/devices`, { backend: true })).status).toBe(204);
    expect((await readDeviceSets([alice])).get(alice)?.devices.has(token)).toBe(false);
    expect(await deviceRecord(token)).toBeUndefined();
  }, 120_000);
});
