import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  ScanCommand as RawScanCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENT } from '../../lambda/environment';
import { devicesTableDefinition, ensureTable, tableState } from '../../local/tables';
import { api, newToken, newUser } from '../support/api';
import { TEST_APP_ID } from '../support/embedded-services';

const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const tableName = () => process.env[ENVIRONMENT.devicesTable] ?? '';
const stored = async (key: string) =>
  (await db.send(new GetCommand({ TableName: tableName(), Key: { token: key } }))).Item;
const startKey = (token: string) => `la-start:${token}`;
const updateKey = (token: string) => `la-update:${token}`;

/** Activity ids of this run, apart from earlier runs' against a kept table. */
const run = newToken(4);
const order = (n: number | string) => `order-${n}-${run}`;

const pushToStart = { appId: TEST_APP_ID, environment: 'sandbox', attributesType: 'DeliveryAttributes' };
const activityToken = { appId: TEST_APP_ID, environment: 'sandbox' };

/** Every item of the Devices table that mentions this token in any form. */
async function itemsWith(token: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(new ScanCommand({ TableName: tableName(), ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []).filter((item) => JSON.stringify(item).includes(token)));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

describe('PUT /v1/live-activities/push-to-start/{token}', () => {
  it('registers a push-to-start token for the caller with 201, refreshes it with 200', async () => {
    const alice = newUser('alice');
    const token = newToken();
    const created = await api('PUT', `/v1/live-activities/push-to-start/${token.toUpperCase()}`, {
      as: alice,
      body: pushToStart,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      kind: 'push-to-start',
      token,
      userId: alice,
      appId: TEST_APP_ID,
      environment: 'sandbox',
      attributesType: 'DeliveryAttributes',
    });
    const refreshed = await api('PUT', `/v1/live-activities/push-to-start/${token}`, {
      as: alice,
      body: pushToStart,
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.registeredAt).toBe(created.body.registeredAt);
    expect(await stored(startKey(token))).toMatchObject({
      apnsToken: token,
      ownerId: alice,
      kind: 'push-to-start',
    });
  });

  it('is not a device: GET /v1/devices stays empty and no device record exists', async () => {
    const alice = newUser('alice');
    const token = newToken();
    await api('PUT', `/v1/live-activities/push-to-start/${token}`, { as: alice, body: pushToStart });
    expect((await api('GET', '/v1/devices', { as: alice })).body.devices).toEqual([]);
    expect(await stored(token)).toBeUndefined();
  });
});

describe('PUT /v1/live-activities/{activityId}/tokens/{token}', () => {
  it('registers the update token of an activity with 201, refreshes with 200', async () => {
    const alice = newUser('alice');
    const token = newToken();
    const created = await api('PUT', `/v1/live-activities/${order(123)}/tokens/${token}`, {
      as: alice,
      body: activityToken,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ kind: 'update', token, userId: alice, activityId: order(123) });
    const again = await api('PUT', `/v1/live-activities/${order(123)}/tokens/${token}`, {
      as: alice,
      body: activityToken,
    });
    expect(again.status).toBe(200);
    expect(await stored(updateKey(token))).toMatchObject({ ownerId: alice, activityId: order(123) });
  });
});

describe('ownership of Live Activity tokens', () => {
  it('another user cannot delete your push-to-start token (404, kept); you can (204)', async () => {
    const alice = newUser('alice');
    const mallory = newUser('mallory');
    const token = newToken();
    await api('PUT', `/v1/live-activities/push-to-start/${token}`, { as: alice, body: pushToStart });
    const theirs = await api('DELETE', `/v1/live-activities/push-to-start/${token}`, { as: mallory });
    expect(theirs.status).toBe(404);
    expect(theirs.body.error.code).toBe('LiveActivityTokenNotFound');
    const unknown = await api('DELETE', `/v1/live-activities/push-to-start/${newToken()}`, { as: mallory });
    expect(unknown.body).toEqual(theirs.body);
    expect(await stored(startKey(token))).toMatchObject({ ownerId: alice });
    expect((await api('DELETE', `/v1/live-activities/push-to-start/${token}`, { as: alice })).status).toBe(
      204,
    );
    expect(await stored(startKey(token))).toBeUndefined();
  });

  it('another user cannot delete your update token (404, kept); nor can you under another activity id', async () => {
    const alice = newUser('alice');
    const mallory = newUser('mallory');
    const token = newToken();
    await api('PUT', `/v1/live-activities/${order(1)}/tokens/${token}`, { as: alice, body: activityToken });
    const theirs = await api('DELETE', `/v1/live-activities/${order(1)}/tokens/${token}`, { as: mallory });
    expect(theirs.status).toBe(404);
    expect(theirs.body.error.code).toBe('LiveActivityTokenNotFound');
    const otherActivity = await api('DELETE', `/v1/live-activities/${order(2)}/tokens/${token}`, {
      as: alice,
    });
    expect(otherActivity.status).toBe(404);
    expect(await stored(updateKey(token))).toMatchObject({ ownerId: alice, activityId: order(1) });
    expect(
      (await api('DELETE', `/v1/live-activities/${order(1)}/tokens/${token}`, { as: alice })).status,
    ).toBe(204);
    expect(await stored(updateKey(token))).toBeUndefined();
  });

  it('a token registered by another user moves in one write and leaves the old owner’s activity', async () => {
    const alice = newUser('alice');
    const bob = newUser('bob');
    const token = newToken();
    await api('PUT', `/v1/live-activities/${order(7)}/tokens/${token}`, { as: alice, body: activityToken });
    const moved = await api('PUT', `/v1/live-activities/${order(8)}/tokens/${token}`, {
      as: bob,
      body: activityToken,
    });
    expect(moved.status).toBe(201);
    expect(moved.body).toMatchObject({ userId: bob, activityId: order(8) });
    const items = await itemsWith(token);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      ownerId: bob,
      activityId: order(8),
      liveActivityTarget: `activity|${TEST_APP_ID}|${bob}|${order(8)}`,
    });
    // Alice no longer holds it: her delete is a 404 like any stranger's.
    expect(
      (await api('DELETE', `/v1/live-activities/${order(7)}/tokens/${token}`, { as: alice })).status,
    ).toBe(404);
  });
});

describe('activities are per user: the same id of two users is two activities', () => {
  it('whoever registers an id first, the other user registers theirs too (201); neither can remove the other’s', async () => {
    const alice = newUser('alice');
    const mallory = newUser('mallory');
    const id = order('124');
    const squatter = newToken();
    const alicePhone = newToken();
    const put = (as: string, token: string) =>
      api('PUT', `/v1/live-activities/${id}/tokens/${token}`, { as, body: activityToken });
    expect((await put(mallory, squatter)).status).toBe(201);
    expect((await put(alice, alicePhone)).status).toBe(201);
    expect(await stored(updateKey(squatter))).toMatchObject({
      ownerId: mallory,
      activityId: id,
      liveActivityTarget: `activity|${TEST_APP_ID}|${mallory}|${id}`,
    });
    expect(await stored(updateKey(alicePhone))).toMatchObject({
      ownerId: alice,
      activityId: id,
      liveActivityTarget: `activity|${TEST_APP_ID}|${alice}|${id}`,
    });
    // Mallory cannot remove alice's token of "the same" activity, and learns nothing: 404 like an unknown token.
    const theirs = await api('DELETE', `/v1/live-activities/${id}/tokens/${alicePhone}`, { as: mallory });
    const unknown = await api('DELETE', `/v1/live-activities/${id}/tokens/${newToken()}`, { as: mallory });
    expect(theirs.status).toBe(404);
    expect(theirs.body).toEqual(unknown.body);
    expect(await stored(updateKey(alicePhone))).toMatchObject({ ownerId: alice });
    // No claim of the id is stored anywhere: only the two tokens mention it.
    expect((await itemsWith(id)).map((item) => item.token).sort()).toEqual(
      [updateKey(squatter), updateKey(alicePhone)].sort(),
    );
  });
});

describe('bad Live Activity registrations: 4xx with a stable code, nothing stored', () => {
  const cases: [string, string, unknown, number, string][] = [
    [
      'missing attributesType',
      `/v1/live-activities/push-to-start/{token}`,
      { appId: TEST_APP_ID, environment: 'sandbox' },
      400,
      'InvalidRequest',
    ],
    [
      'an attributesType that is no Swift type name',
      `/v1/live-activities/push-to-start/{token}`,
      { ...pushToStart, attributesType: 'Delivery Attributes!' },
      400,
      'InvalidRequest',
    ],
    [
      'an unknown field',
      `/v1/live-activities/push-to-start/{token}`,
      { ...pushToStart, userId: 'x' },
      400,
      'UnknownField',
    ],
    [
      'an unknown app',
      `/v1/live-activities/push-to-start/{token}`,
      { ...pushToStart, appId: 'com.other.app' },
      400,
      'UnknownApp',
    ],
    [
      'attributesType on an update token',
      `/v1/live-activities/${order('bad')}/tokens/{token}`,
      pushToStart,
      400,
      'UnknownField',
    ],
    [
      'a missing environment',
      `/v1/live-activities/${order('bad')}/tokens/{token}`,
      { appId: TEST_APP_ID },
      400,
      'InvalidRequest',
    ],
  ];
  it.each(cases)('%s', async (_name, path, body, status, code) => {
    const alice = newUser('alice');
    const token = newToken();
    const answer = await api('PUT', path.replace('{token}', token), { as: alice, body });
    expect(answer.status).toBe(status);
    expect(answer.body.error.code).toBe(code);
    expect(await itemsWith(token)).toEqual([]);
  });

  it.each([
    ['too short', 'abcd'],
    ['not hex', 'zz'.repeat(32)],
    ['the iOS 13 description', '{length = 32, bytes = 0x1234abcd ... 5678ef01 }'],
  ])('a bad token (%s) is InvalidDeviceToken for both kinds', async (_name, token) => {
    const alice = newUser('alice');
    const encoded = encodeURIComponent(token);
    const start = await api('PUT', `/v1/live-activities/push-to-start/${encoded}`, {
      as: alice,
      body: pushToStart,
    });
    const update = await api('PUT', `/v1/live-activities/${order('bad')}/tokens/${encoded}`, {
      as: alice,
      body: activityToken,
    });
    for (const answer of [start, update]) {
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe('InvalidDeviceToken');
    }
  });

  it.each([
    ['too long', 'a'.repeat(129)],
    ['not URL-safe', 'order 123'],
    ['starting with a dot', '.order'],
    ['percent-encoded slash', 'order%2F1'],
  ])('a bad activity id (%s) is InvalidActivityId, nothing stored', async (_name, activityId) => {
    const alice = newUser('alice');
    const token = newToken();
    const answer = await api('PUT', `/v1/live-activities/${encodeURIComponent(activityId)}/tokens/${token}`, {
      as: alice,
      body: activityToken,
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('InvalidActivityId');
    expect(await itemsWith(token)).toEqual([]);
    const deleted = await api(
      'DELETE',
      `/v1/live-activities/${encodeURIComponent(activityId)}/tokens/${token}`,
      {
        as: alice,
      },
    );
    expect(deleted.body.error.code).toBe('InvalidActivityId');
  });
});

describe('an offline Devices table kept from before Live Activities', () => {
  it('is rebuilt with the byLiveActivity index, keeping its devices', async () => {
    const client = new DynamoDBClient({});
    const name = `pushgate-test-old-devices-${newToken(4)}`;
    const current = devicesTableDefinition(name);
    await client.send(
      new CreateTableCommand({
        ...current,
        AttributeDefinitions: current.AttributeDefinitions?.filter(
          (a) => a.AttributeName !== 'liveActivityTarget',
        ),
        GlobalSecondaryIndexes: current.GlobalSecondaryIndexes?.filter((i) => i.IndexName === 'byUser'),
      }),
    );
    await tableState(client, name, 'active');
    const token = newToken();
    await client.send(
      new PutItemCommand({
        TableName: name,
        Item: { token: { S: token }, userId: { S: 'alice' }, appId: { S: TEST_APP_ID } },
      }),
    );
    await ensureTable(client, current);
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    expect(Table?.GlobalSecondaryIndexes?.map((index) => index.IndexName).sort()).toEqual([
      'byLiveActivity',
      'byUser',
    ]);
    const { Items = [] } = await client.send(new RawScanCommand({ TableName: name }));
    expect(Items.map((item) => item.token?.S)).toEqual([token]);
    client.destroy();
  });
});
