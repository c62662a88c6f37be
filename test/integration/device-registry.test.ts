import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DEVICE_TTL_DAYS } from '../../lambda/domain/device';
import { api, newToken, newUser } from '../support/api';
import { TEST_APP_ID } from '../support/embedded-services';

const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const tableName = () => process.env.DEVICES_TABLE_NAME ?? '';
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
