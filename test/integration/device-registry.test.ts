import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DEVICE_TTL_DAYS } from '../../lambda/domain/device';
import { ENVIRONMENT } from '../../lambda/environment';
import { api, newToken, newUser } from '../support/api';
import { TEST_APP_ID } from '../support/embedded-services';

const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const tableName = () => process.env[ENVIRONMENT.devicesTable] ?? '';
const stored = async (token: string) =>
  (await db.send(new GetCommand({ TableName: tableName(), Key: { token } }))).Item;

const registration = { appId: TEST_APP_ID, environment: 'sandbox' };

describe('PUT /v1/devices/{token}', () => {
  it('creates a new device with 201 and stores it for the caller', async () => {
    const alice = newUser('alice');
    const token = newToken();
    const answer = await api('PUT', `/v1/devices/${token}`, {
      as: alice,
      body: { ...registration, locale: 'en-US', appVersion: '4.2.1 (381)' },
    });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({
      token,
      userId: alice,
      appId: TEST_APP_ID,
      environment: 'sandbox',
      locale: 'en-US',
      appVersion: '4.2.1 (381)',
    });
    expect(await stored(token)).toMatchObject({ token, userId: alice, environment: 'sandbox' });
  });

  it('refreshes the same token with 200: lastSeenAt moves, registeredAt stays', async () => {
    const alice = newUser('alice');
    const token = newToken();
    const first = await api('PUT', `/v1/devices/${token}`, { as: alice, body: registration });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await api('PUT', `/v1/devices/${token}`, { as: alice, body: registration });
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.body.registeredAt).toBe(first.body.registeredAt);
    expect(second.body.lastSeenAt > first.body.lastSeenAt).toBe(true);
    const item = await stored(token);
    expect(item?.lastSeenAt).toBe(second.body.lastSeenAt);
  });

  it('is idempotent: repeating a registration leaves exactly one device', async () => {
    const alice = newUser('alice');
    const token = newToken();
    for (let i = 0; i < 3; i++) await api('PUT', `/v1/devices/${token}`, { as: alice, body: registration });
    const list = await api('GET', '/v1/devices', { as: alice });
    expect(list.body.devices.map((d: { token: string }) => d.token)).toEqual([token]);
  });

  it('moves a token held by another user to the caller with 201', async () => {
    const alice = newUser('alice');
    const bob = newUser('bob');
    const token = newToken();
    await api('PUT', `/v1/devices/${token}`, { as: alice, body: registration });
    const moved = await api('PUT', `/v1/devices/${token}`, { as: bob, body: registration });
    expect(moved.status).toBe(201);
    expect(moved.body.userId).toBe(bob);
    expect((await stored(token))?.userId).toBe(bob);
    expect((await api('GET', '/v1/devices', { as: alice })).body.devices).toEqual([]);
    expect((await api('GET', '/v1/devices', { as: bob })).body.devices).toHaveLength(1);
  });

  it('drops optional fields a refresh no longer sends', async () => {
    const alice = newUser('alice');
    const token = newToken();
    await api('PUT', `/v1/devices/${token}`, { as: alice, body: { ...registration, locale: 'fr-FR' } });
    const refreshed = await api('PUT', `/v1/devices/${token}`, { as: alice, body: registration });
    expect(refreshed.body.locale).toBeUndefined();
    expect((await stored(token))?.locale).toBeUndefined();
  });

  it('stores upper-case and <NSData description> tokens in canonical lowercase hex', async () => {
    const alice = newUser('alice');
    const token = newToken();
    const described = `<${token.toUpperCase().match(/.{8}/g)?.join(' ')}>`;
    const answer = await api('PUT', `/v1/devices/${encodeURIComponent(described)}`, {
      as: alice,
      body: registration,
    });
    expect(answer.status).toBe(201);
    expect(answer.body.token).toBe(token);
    expect(await stored(token)).toBeDefined();
  });

  it('sets the TTL attribute to lastSeenAt plus the documented period', async () => {
    const alice = newUser('alice');
    const token = newToken();
    const answer = await api('PUT', `/v1/devices/${token}`, { as: alice, body: registration });
    const item = await stored(token);
    const lastSeen = Date.parse(answer.body.lastSeenAt) / 1000;
    expect(item?.expiresAt).toBe(Math.floor(lastSeen) + DEVICE_TTL_DAYS * 86_400);
    expect(typeof item?.expiresAt).toBe('number');
  });

  it('refuses an app id the deployment does not serve and writes nothing', async () => {
    const token = newToken();
    const answer = await api('PUT', `/v1/devices/${token}`, {
      as: newUser(),
      body: { appId: 'com.other.app', environment: 'sandbox' },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('UnknownApp');
    expect(await stored(token)).toBeUndefined();
  });
});

describe('DELETE /v1/devices/{token}', () => {
  it('removes the caller own device with 204', async () => {
    const alice = newUser('alice');
    const token = newToken();
    await api('PUT', `/v1/devices/${token}`, { as: alice, body: registration });
    const answer = await api('DELETE', `/v1/devices/${token}`, { as: alice });
    expect(answer.status).toBe(204);
    expect(await stored(token)).toBeUndefined();
  });

  it("answers 404 for another user's token and leaves it untouched", async () => {
    const alice = newUser('alice');
    const token = newToken();
    await api('PUT', `/v1/devices/${token}`, { as: alice, body: registration });
    const answer = await api('DELETE', `/v1/devices/${token}`, { as: newUser('mallory') });
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('DeviceNotFound');
    expect((await stored(token))?.userId).toBe(alice);
  });

  it('answers the same 404 for a token that does not exist', async () => {
    const answer = await api('DELETE', `/v1/devices/${newToken()}`, { as: newUser() });
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('DeviceNotFound');
  });
});

describe('GET /v1/devices', () => {
  it("lists only the caller's devices", async () => {
    const alice = newUser('alice');
    const bob = newUser('bob');
    const aliceTokens = [newToken(), newToken()];
    for (const token of aliceTokens)
      await api('PUT', `/v1/devices/${token}`, { as: alice, body: registration });
    await api('PUT', `/v1/devices/${newToken()}`, { as: bob, body: registration });
    const answer = await api('GET', '/v1/devices', { as: alice });
    expect(answer.status).toBe(200);
    expect(answer.body.devices.map((d: { token: string }) => d.token).sort()).toEqual(
      [...aliceTokens].sort(),
    );
    expect(answer.body.devices.every((d: { userId: string }) => d.userId === alice)).toBe(true);
  });
});

describe('backend device routes', () => {
  it("GET /v1/users/{userId}/devices lists that user's devices", async () => {
    const carol = newUser('carol');
    const token = newToken();
    await api('PUT', `/v1/devices/${token}`, { as: carol, body: registration });
    const answer = await api('GET', `/v1/users/${carol}/devices`, { backend: true });
    expect(answer.status).toBe(200);
    expect(answer.body.devices.map((d: { token: string }) => d.token)).toEqual([token]);
  });

  it('DELETE /v1/users/{userId}/devices erases every device of the user and no one else', async () => {
    const carol = newUser('carol');
    const dave = newUser('dave');
    const carolTokens = [newToken(), newToken(), newToken()];
    const daveToken = newToken();
    for (const token of carolTokens)
      await api('PUT', `/v1/devices/${token}`, { as: carol, body: registration });
    await api('PUT', `/v1/devices/${daveToken}`, { as: dave, body: registration });
    const answer = await api('DELETE', `/v1/users/${carol}/devices`, { backend: true });
    expect(answer.status).toBe(204);
    for (const token of carolTokens) expect(await stored(token)).toBeUndefined();
    expect((await stored(daveToken))?.userId).toBe(dave);
    expect((await api('DELETE', `/v1/users/${carol}/devices`, { backend: true })).status).toBe(204);
  });
});

describe('registration races', () => {
  it('50 parallel registrations of one token by two users: every answer 2xx, one owner at the end', async () => {
    const alice = newUser('alice');
    const bob = newUser('bob');
    const token = newToken();
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        api('PUT', `/v1/devices/${token}`, { as: i % 2 === 0 ? alice : bob, body: registration }),
      ),
    );
    expect(answers.filter((answer) => answer.status >= 500)).toEqual([]);
    expect(answers.map((answer) => answer.status).every((status) => status === 200 || status === 201)).toBe(
      true,
    );
    const owner = (await stored(token))?.userId;
    expect([alice, bob]).toContain(owner);
    const listed = await Promise.all(
      [alice, bob].map(async (user) => (await api('GET', '/v1/devices', { as: user })).body.devices),
    );
    expect(
      listed.flat().map((device: { token: string; userId: string }) => [device.token, device.userId]),
    ).toEqual([[token, owner]]);
  });

  it('the same user registering one token 20 times at once: one device, created once', async () => {
    const alice = newUser('alice');
    const token = newToken();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => api('PUT', `/v1/devices/${token}`, { as: alice, body: registration })),
    );
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(statuses.filter((status) => status === 200)).toHaveLength(19);
    expect((await api('GET', '/v1/devices', { as: alice })).body.devices).toHaveLength(1);
  });
});

describe('path parameters are decoded exactly once', () => {
  it('DELETE /v1/users/p%2541/devices erases user "p%41", never user "pA"', async () => {
    const suffix = Math.random().toString(36).slice(2);
    const percentUser = `p%41-${suffix}`;
    const letterUser = `pA-${suffix}`;
    const percentToken = newToken();
    const letterToken = newToken();
    await api('PUT', `/v1/devices/${percentToken}`, { as: percentUser, body: registration });
    await api('PUT', `/v1/devices/${letterToken}`, { as: letterUser, body: registration });
    const answer = await api('DELETE', `/v1/users/${encodeURIComponent(percentUser)}/devices`, {
      backend: true,
    });
    expect(answer.status).toBe(204);
    expect(await stored(percentToken)).toBeUndefined();
    expect((await stored(letterToken))?.userId).toBe(letterUser);
  });

  it('GET /v1/users/100%25/devices lists the devices of user "100%"', async () => {
    const user = `100%-${Math.random().toString(36).slice(2)}`;
    const token = newToken();
    await api('PUT', `/v1/devices/${token}`, { as: user, body: registration });
    const answer = await api('GET', `/v1/users/${encodeURIComponent(user)}/devices`, { backend: true });
    expect(answer.status).toBe(200);
    expect(answer.body.devices.map((d: { token: string; userId: string }) => [d.token, d.userId])).toEqual([
      [token, user],
    ]);
  });

  it('a token spelled %2561… is refused as it is and never registers as aa…', async () => {
    const token = `aa${newToken(31)}`;
    const answer = await api('PUT', `/v1/devices/%2561${token.slice(2)}`, {
      as: newUser(),
      body: registration,
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('InvalidDeviceToken');
    expect(await stored(token)).toBeUndefined();
  });

  it('an encoded slash splits the path as API Gateway does: no route, nothing erased', async () => {
    const user = newUser('erin');
    const token = newToken();
    await api('PUT', `/v1/devices/${token}`, { as: user, body: registration });
    const answer = await api('DELETE', `/v1/users/${user}%2Fx/devices`, { backend: true });
    expect(answer.status).toBe(404);
    expect((await stored(token))?.userId).toBe(user);
  });
});
