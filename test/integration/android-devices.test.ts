import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { MAX_FCM_TOKEN_LENGTH } from '../../lambda/domain/fcm-token';
import { ENVIRONMENT } from '../../lambda/environment';
import { api, newToken, newUser } from '../support/api';
import { TEST_APP_ID, TEST_APP_WITHOUT_FCM } from '../support/embedded-services';
import { newFcmToken } from '../support/fcm-tokens';

const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const tableName = () => process.env[ENVIRONMENT.devicesTable] ?? '';
const stored = async (token: string) =>
  (await db.send(new GetCommand({ TableName: tableName(), Key: { token } }))).Item;
const userSet = async (userId: string) =>
  (await db.send(new GetCommand({ TableName: tableName(), Key: { token: `user:${userId}` } }))).Item;

const android = { appId: TEST_APP_ID, platform: 'android' };
const path = (token: string) => `/v1/devices/${encodeURIComponent(token)}`;

describe('Android devices (FCM registration tokens)', () => {
  it('registers an FCM token exactly as sent (case, ":" and all) with platform android', async () => {
    const alice = newUser('alice');
    const token = newFcmToken();
    const created = await api('PUT', path(token), { as: alice, body: { ...android, locale: 'de-DE' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ token, userId: alice, appId: TEST_APP_ID, platform: 'android' });
    expect(created.body.environment).toBeUndefined();
    expect(await stored(token)).toMatchObject({ token, userId: alice, platform: 'android' });
    expect((await userSet(alice))?.[`device:${token}`]).toMatchObject({ platform: 'android' });
    const refreshed = await api('PUT', path(token), { as: alice, body: android });
    expect(refreshed.status).toBe(200);
  });

  it('lists iOS and Android devices side by side, each with its platform', async () => {
    const alice = newUser('alice');
    const phone = newToken();
    const pixel = newFcmToken();
    await api('PUT', `/v1/devices/${phone}`, {
      as: alice,
      body: { appId: TEST_APP_ID, environment: 'sandbox' },
    });
    await api('PUT', path(pixel), { as: alice, body: android });
    const list = await api('GET', '/v1/devices', { as: alice });
    const platforms = Object.fromEntries(
      list.body.devices.map((device: { token: string; platform: string }) => [device.token, device.platform]),
    );
    expect(platforms).toEqual({ [phone]: 'ios', [pixel]: 'android' });
    const backend = await api('GET', `/v1/users/${alice}/devices`, { backend: true });
    expect(backend.body.devices.map((device: { platform: string }) => device.platform).sort()).toEqual([
      'android',
      'ios',
    ]);
  });

  it('moves an Android token to the user who registers it next; only its holder can delete it', async () => {
    const alice = newUser('alice');
    const bob = newUser('bob');
    const token = newFcmToken();
    await api('PUT', path(token), { as: alice, body: android });
    expect((await api('PUT', path(token), { as: bob, body: android })).status).toBe(201);
    expect((await api('GET', '/v1/devices', { as: alice })).body.devices).toEqual([]);
    const theirs = await api('DELETE', path(token), { as: alice });
    expect(theirs.status).toBe(404);
    expect(theirs.body.error.code).toBe('DeviceNotFound');
    expect((await api('DELETE', path(token), { as: bob })).status).toBe(204);
    expect(await stored(token)).toBeUndefined();
  });

  it('keeps a token sent percent-encoded as the characters it decodes to, once', async () => {
    const alice = newUser('alice');
    const token = newFcmToken();
    const answer = await api('PUT', `/v1/devices/${token.replace(':', '%3A')}`, { as: alice, body: android });
    expect(answer.status).toBe(201);
    expect(answer.body.token).toBe(token);
    const twice = await api('PUT', `/v1/devices/${token.replace(':', '%253A')}`, {
      as: alice,
      body: android,
    });
    expect(twice.status).toBe(400);
    expect(twice.body.error.code).toBe('InvalidDeviceToken');
  });
});

describe('Android registrations that are refused', () => {
  it.each([
    ['a space', 'abc def:APA91b'],
    ['a slash-free but quoted token', 'abc"def'],
    ['non-ASCII', 'abcé:APA91b'],
    ['too long', `a:${'x'.repeat(MAX_FCM_TOKEN_LENGTH)}`],
    // Named where no platform is said (DELETE, a receipt, to.tokens) it would read as an APNs token.
    ['no ":"', 'AbCdEf0123456789AbCdEf0123456789'],
    ["the key of another user's device set", 'user:bob'],
    ['the key of a Live Activity token', `la-update:${'ab'.repeat(32)}`],
  ])('an FCM token with %s is InvalidDeviceToken', async (_name, token) => {
    const answer = await api('PUT', path(token), { as: newUser(), body: android });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('InvalidDeviceToken');
  });

  it('an Android registration naming an APNs environment is EnvironmentNotForAndroid, and stores nothing', async () => {
    const token = newFcmToken();
    const answer = await api('PUT', path(token), {
      as: newUser(),
      body: { ...android, environment: 'production' },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('EnvironmentNotForAndroid');
    expect(answer.body.error.message).toMatch(/environment/);
    expect(await stored(token)).toBeUndefined();
  });

  it('an unknown platform is InvalidRequest; an iOS registration still needs its environment', async () => {
    const unknown = await api('PUT', path(newFcmToken()), {
      as: newUser(),
      body: { appId: TEST_APP_ID, platform: 'windows' },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('InvalidRequest');
    const ios = await api('PUT', `/v1/devices/${newToken()}`, {
      as: newUser(),
      body: { appId: TEST_APP_ID, platform: 'ios' },
    });
    expect(ios.status).toBe(400);
    expect(ios.body.error.message).toMatch(/"environment"/);
  });

  it('an FCM token registered as an iOS device is InvalidDeviceToken', async () => {
    const answer = await api('PUT', path(newFcmToken()), {
      as: newUser(),
      body: { appId: TEST_APP_ID, environment: 'sandbox' },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('InvalidDeviceToken');
  });

  it('an Android device of an app without FCM is FcmNotConfigured, and stores nothing', async () => {
    const token = newFcmToken();
    const answer = await api('PUT', path(token), {
      as: newUser(),
      body: { appId: TEST_APP_WITHOUT_FCM, platform: 'android' },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('FcmNotConfigured');
    expect(await stored(token)).toBeUndefined();
  });
});
