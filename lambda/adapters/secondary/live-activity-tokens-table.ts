import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, paginateQuery, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../../clients';
import { config } from '../../config';
import type { ApnsEnvironment, RegistrationResult } from '../../domain/device';
import { LiveActivityTokenNotFoundError } from '../../domain/errors';
import {
  type LiveActivityToken,
  type LiveActivityTokenKind,
  type LiveActivityTokenRegistration,
  type LiveActivityTokenState,
  liveActivityTokenExpiry,
} from '../../domain/live-activity';
import { activityTarget, pushToStartTarget } from '../../domain/live-activity-targets';
import type { PushDevice } from '../../domain/push-device';
import { DEVICES_TABLE } from './devices-keys';
import { liveActivityTokenKey } from './live-activity-keys';
import { pruneOwnedRecord, saveOwnedRecord } from './owned-record';
import { userGeneration } from './user-generations';

/** A Live Activity token as stored: the domain record plus its index key, owner under `ownerId`. */
interface StoredToken {
  token: string;
  apnsToken: string;
  kind: LiveActivityTokenKind;
  ownerId: string;
  appId: string;
  environment: ApnsEnvironment;
  attributesType?: string;
  activityId?: string;
  liveActivityTarget: string;
  registeredAt: string;
  lastSeenAt: string;
  expiresAt: number;
  dismissAt?: number;
  generation?: number;
}

function targetOf(registration: LiveActivityTokenRegistration): string {
  return registration.kind === 'push-to-start'
    ? pushToStartTarget(registration.appId, registration.userId, registration.attributesType ?? '')
    : activityTarget(registration.appId, registration.userId, registration.activityId ?? '');
}

/**
 * Registers or refreshes a Live Activity token for a user, under the same rules as a
 * device token: new or already the caller's — one conditional update that keeps
 * `registeredAt` (and makes an update token live again); held by another user — one
 * put that replaces the record, so the move is atomic and the token leaves the old
 * owner's push-to-start types and activities in the same write. An update token is
 * filed under the caller's own activity: whatever id another user gave theirs, the
 * two never meet.
 */
export async function saveLiveActivityToken(
  registration: LiveActivityTokenRegistration,
  now: Date,
): Promise<{ token: LiveActivityToken; result: RegistrationResult }> {
  const generation = await userGeneration(registration.userId);
  const expiresAt = liveActivityTokenExpiry(registration.kind, now);
  const { registeredAt, result } = await saveOwnedRecord(
    {
      key: liveActivityTokenKey(registration.kind, registration.token),
      ownerAttribute: 'ownerId',
      ownerId: registration.userId,
      generation,
      expiresAt,
      attributes: {
        apnsToken: registration.token,
        kind: registration.kind,
        appId: registration.appId,
        environment: registration.environment,
        liveActivityTarget: targetOf(registration),
        attributesType: registration.attributesType,
        activityId: registration.activityId,
      },
      // A registration makes an ended activity's update token live again.
      reset: ['dismissAt'],
    },
    now,
  );
  const token: LiveActivityToken = {
    ...registration,
    registeredAt,
    lastSeenAt: now.toISOString(),
    expiresAt,
    generation,
  };
  return { token, result };
}

/**
 * Deletes the caller's token of this kind — for an update token, only as a token of
 * `activityId`. Anyone else's, or an unknown one: LiveActivityTokenNotFoundError.
 */
export async function deleteLiveActivityToken(
  userId: string,
  kind: LiveActivityTokenKind,
  token: string,
  activityId?: string,
): Promise<void> {
  const conditions = ['ownerId = :ownerId'];
  const values: Record<string, unknown> = { ':ownerId': userId };
  if (activityId !== undefined) {
    conditions.push('activityId = :activityId');
    values[':activityId'] = activityId;
  }
  try {
    await dynamo.send(
      new DeleteCommand({
        TableName: config.devicesTableName,
        Key: liveActivityTokenKey(kind, token),
        ConditionExpression: conditions.join(' AND '),
        ExpressionAttributeValues: values,
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw new LiveActivityTokenNotFoundError();
    throw error;
  }
}

function toDevice(item: StoredToken): PushDevice {
  return {
    token: item.apnsToken,
    userId: item.ownerId,
    appId: item.appId,
    environment: item.environment,
    liveActivity: { kind: item.kind, target: item.liveActivityTarget },
  };
}

/** What the `byLiveActivity` index lists under one key (eventually consistent: check before sending). */
async function queryDevices(target: string): Promise<PushDevice[]> {
  const { name, partitionKey } = DEVICES_TABLE.liveActivityIndex;
  const pages = paginateQuery(
    { client: dynamo },
    {
      TableName: config.devicesTableName,
      IndexName: name,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': partitionKey },
      ExpressionAttributeValues: { ':pk': target },
    },
  );
  const devices: PushDevice[] = [];
  for await (const page of pages) {
    for (const item of page.Items ?? []) devices.push(toDevice(item as unknown as StoredToken));
  }
  return devices;
}

/** A user's push-to-start tokens for one attributes type, as the index lists them. */
export function listPushToStartDevices(appId: string, userId: string, attributesType: string) {
  return queryDevices(pushToStartTarget(appId, userId, attributesType));
}

/** The update tokens one user registered for their activity, as the index lists them. */
export function listActivityDevices(appId: string, userId: string, activityId: string) {
  return queryDevices(activityTarget(appId, userId, activityId));
}

/**
 * The token's record as it stands, read strongly consistent: the index may lag a move,
 * and DynamoDB's TTL deletes an expired item only some time (up to days) later — the
 * rule that reads it is domain/live-activity.ts `isCurrentLiveActivityDevice`.
 */
export async function readLiveActivityToken(device: PushDevice): Promise<LiveActivityTokenState | undefined> {
  if (device.liveActivity === undefined) return undefined;
  const { Item } = await dynamo.send(
    new GetCommand({
      TableName: config.devicesTableName,
      Key: liveActivityTokenKey(device.liveActivity.kind, device.token),
      ConsistentRead: true,
    }),
  );
  if (Item === undefined) return undefined;
  const { ownerId, generation, liveActivityTarget, expiresAt, dismissAt } = Item as StoredToken;
  return {
    ownerId,
    liveActivityTarget,
    ...(generation === undefined ? {} : { generation }),
    ...(typeof expiresAt === 'number' ? { expiresAt } : {}),
    ...(dismissAt === undefined ? {} : { dismissAt }),
  };
}

/** Removes a Live Activity token APNs called invalid, by the rules of `pruneOwnedRecord`. */
export async function pruneLiveActivityToken(device: PushDevice, invalidSince?: Date): Promise<boolean> {
  if (device.liveActivity === undefined) return false;
  return pruneOwnedRecord(
    {
      key: liveActivityTokenKey(device.liveActivity.kind, device.token),
      ownerAttribute: 'ownerId',
      ownerId: device.userId,
      appId: device.appId,
    },
    invalidSince,
  );
}

/**
 * After an `end`: the activity's update token stops reaching anyone — deleted at
 * once, or from `dismissAt` (epoch seconds) on, when DynamoDB's TTL also removes it.
 * Only while it is still the same user's token of the same activity.
 */
export async function endActivityToken(device: PushDevice, dismissAt?: number): Promise<void> {
  if (device.liveActivity?.kind !== 'update') return;
  const key = liveActivityTokenKey('update', device.token);
  const condition = {
    ConditionExpression: 'ownerId = :ownerId AND liveActivityTarget = :target',
    ExpressionAttributeValues: { ':ownerId': device.userId, ':target': device.liveActivity.target },
  };
  try {
    if (dismissAt === undefined) {
      await dynamo.send(new DeleteCommand({ TableName: config.devicesTableName, Key: key, ...condition }));
      return;
    }
    await dynamo.send(
      new UpdateCommand({
        TableName: config.devicesTableName,
        Key: key,
        UpdateExpression: 'SET dismissAt = :dismissAt, expiresAt = :dismissAt',
        ...condition,
        ExpressionAttributeValues: { ...condition.ExpressionAttributeValues, ':dismissAt': dismissAt },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

/** The token turned out to belong to the other APNs environment: correct the record. */
export async function correctLiveActivityEnvironment(
  device: PushDevice,
  environment: ApnsEnvironment,
): Promise<void> {
  if (device.liveActivity === undefined) return;
  try {
    await dynamo.send(
      new UpdateCommand({
        TableName: config.devicesTableName,
        Key: liveActivityTokenKey(device.liveActivity.kind, device.token),
        UpdateExpression: 'SET environment = :environment',
        ConditionExpression: 'ownerId = :ownerId',
        ExpressionAttributeValues: { ':environment': environment, ':ownerId': device.userId },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}
