import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDeviceSets } from '../../lambda/adapters/secondary/device-sets';
import { dynamo } from '../../lambda/clients';
import { MOST_DEVICES_PER_USER } from '../../lambda/domain/device-set';
import { ENVIRONMENT } from '../../lambda/environment';
import { api, newToken, newUser } from '../support/api';
import { TEST_APP_ID } from '../support/embedded-services';
import { seedDevices } from '../support/seed';

/**
 * DynamoDB refuses an expression string over 4 KB; the embedded databases accept any.
 * The writes that name one attribute per device — an erase empties the set in one, a
 * registration evicts the surplus in one after the cap was lowered — must fit for a
 * set at the highest cap a deployment may set. Every expression the code sends here is
 * measured.
 */
const DYNAMODB_EXPRESSION_LIMIT = 4096;
let longest = { length: 0, command: '' };

beforeAll(() => {
  dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      for (const name of ['UpdateExpression', 'ConditionExpression', 'ProjectionExpression']) {
        const expression = input[name];
        if (typeof expression === 'string' && Buffer.byteLength(expression) > longest.length)
          longest = { length: Buffer.byteLength(expression), command: `${context.commandName} ${name}` };
      }
      return next(args);
    },
    { step: 'initialize', name: 'measureExpressions' },
  );
});
afterAll(() => dynamo.middlewareStack.remove('measureExpressions'));

describe(`a set at the highest cap (${MOST_DEVICES_PER_USER} devices)`, () => {
  it('is erased in writes DynamoDB accepts', async () => {
    const user = newUser('full-erase');
    await seedDevices([user], MOST_DEVICES_PER_USER);
    longest = { length: 0, command: '' };
    expect((await api('DELETE', `/v1/users/${user}/devices`, { backend: true })).status).toBe(204);
    expect((await readDeviceSets([user])).get(user)?.devices.size).toBe(0);
    expect(longest.length).toBeGreaterThan(1_000);
    expect(longest.length, longest.command).toBeLessThan(DYNAMODB_EXPRESSION_LIMIT);
  }, 120_000);

  it('after the cap is lowered to 1, the next registration evicts the rest in a write DynamoDB accepts', async () => {
    const user = newUser('full-evict');
    await seedDevices([user], MOST_DEVICES_PER_USER);
    process.env[ENVIRONMENT.maxDevicesPerUser] = '1';
    try {
      longest = { length: 0, command: '' };
      const token = newToken();
      const answer = await api('PUT', `/v1/devices/${token}`, {
        as: user,
        body: { appId: TEST_APP_ID, environment: 'sandbox' },
      });
      expect(answer.status).toBe(201);
      expect([...((await readDeviceSets([user])).get(user)?.devices.keys() ?? [])]).toEqual([token]);
      expect(longest.length).toBeGreaterThan(1_000);
      expect(longest.length, longest.command).toBeLessThan(DYNAMODB_EXPRESSION_LIMIT);
    } finally {
      delete process.env[ENVIRONMENT.maxDevicesPerUser];
    }
  }, 120_000);
});
