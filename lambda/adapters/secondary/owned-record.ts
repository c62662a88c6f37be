import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../../clients';
import { config } from '../../config';
import { isCurrentGeneration, type RegistrationResult } from '../../domain/device';
import { DEVICES_TABLE } from './devices-keys';

/**
 * A Live Activity token in the Devices table, which belongs to one user at a time, as
 * a registration writes it. (Device tokens are written with the user's device set:
 * device-registration.ts.)
 */
export interface OwnedRecordWrite {
  key: Record<string, string>;
  /** The attribute that names the owner (`ownerId`, which the `byUser` index does not read). */
  ownerAttribute: string;
  ownerId: string;
  /** The owner's device generation, read just before (user-generations.ts). */
  generation: number;
  expiresAt: number;
  /** Everything else the record holds now; `undefined` values are removed from it. */
  attributes: Record<string, unknown>;
  /** Attributes a refresh removes besides the undefined ones (state the new registration resets). */
  reset?: readonly string[];
}

/**
 * Writes a registration: new or already the caller's — one conditional update that
 * keeps `registeredAt`; held by another user, or the caller's own from before an
 * erase — one put that replaces the record. A move is a single atomic write, and it
 * needs no condition, so registrations racing for one key all succeed and the last
 * write decides the owner (no retry loop that could run out). The put's result
 * comes from what it replaced: another user's (moved), nothing (created: deleted
 * meanwhile), the caller's own of an erased generation (created: it was no longer
 * theirs), or the caller's own (refreshed: a concurrent registration of the caller
 * won the race a moment ago, so `registeredAt` is as good as unchanged).
 */
export async function saveOwnedRecord(
  write: OwnedRecordWrite,
  now: Date,
): Promise<{ registeredAt: string; result: RegistrationResult }> {
  try {
    return await refreshOrCreate(write, now);
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
  return takeOver(write, now);
}

async function refreshOrCreate(write: OwnedRecordWrite, now: Date) {
  const entries = Object.entries(write.attributes);
  const kept = entries.filter(([, value]) => value !== undefined);
  const removed = [
    ...entries.filter(([, value]) => value === undefined).map(([name]) => name),
    ...(write.reset ?? []),
  ];
  const names: Record<string, string> = {
    '#key': DEVICES_TABLE.partitionKey,
    '#owner': write.ownerAttribute,
  };
  const values: Record<string, unknown> = {
    ':owner': write.ownerId,
    ':now': now.toISOString(),
    ':expiresAt': write.expiresAt,
    ':generation': write.generation,
  };
  const set = [
    '#owner = :owner',
    'lastSeenAt = :now',
    'expiresAt = :expiresAt',
    'registeredAt = if_not_exists(registeredAt, :now)',
    'generation = :generation',
  ];
  kept.forEach(([name, value], i) => {
    names[`#a${i}`] = name;
    values[`:a${i}`] = value;
    set.push(`#a${i} = :a${i}`);
  });
  removed.forEach((name, i) => {
    names[`#r${i}`] = name;
  });
  const { Attributes } = await dynamo.send(
    new UpdateCommand({
      TableName: config.devicesTableName,
      Key: write.key,
      UpdateExpression: `SET ${set.join(', ')}${removed.length ? ` REMOVE ${removed.map((_, i) => `#r${i}`).join(', ')}` : ''}`,
      // The caller's own record of an erased generation is not refreshed: takeOver starts it anew.
      ConditionExpression:
        write.generation === 0
          ? 'attribute_not_exists(#key) OR #owner = :owner'
          : 'attribute_not_exists(#key) OR (#owner = :owner AND generation >= :generation)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ReturnValues: 'ALL_OLD',
    }),
  );
  if (Attributes === undefined) return { registeredAt: now.toISOString(), result: 'created' as const };
  const { registeredAt } = Attributes;
  return {
    registeredAt: typeof registeredAt === 'string' ? registeredAt : now.toISOString(),
    result: 'refreshed' as const,
  };
}

async function takeOver(
  write: OwnedRecordWrite,
  now: Date,
): Promise<{ registeredAt: string; result: RegistrationResult }> {
  const attributes = Object.fromEntries(
    Object.entries(write.attributes).filter(([, value]) => value !== undefined),
  );
  const item = {
    ...attributes,
    ...write.key,
    [write.ownerAttribute]: write.ownerId,
    registeredAt: now.toISOString(),
    lastSeenAt: now.toISOString(),
    expiresAt: write.expiresAt,
    generation: write.generation,
  };
  const { Attributes: previous } = await dynamo.send(
    new PutCommand({ TableName: config.devicesTableName, Item: item, ReturnValues: 'ALL_OLD' }),
  );
  let result: RegistrationResult = 'moved';
  if (previous === undefined) result = 'created';
  else if (previous[write.ownerAttribute] === write.ownerId)
    result = isCurrentGeneration(previous.generation as number | undefined, write.generation)
      ? 'refreshed'
      : 'created';
  return { registeredAt: now.toISOString(), result };
}

/**
 * Removes a record APNs called invalid — only while it still belongs to the same
 * owner and app and, for a 410, was not registered again after APNs's `timestamp`
 * (the app may have re-registered it since). Returns whether it was removed.
 */
export async function pruneOwnedRecord(
  record: { key: Record<string, string>; ownerAttribute: string; ownerId: string; appId: string },
  invalidSince?: Date,
): Promise<boolean> {
  const conditions = ['#owner = :owner', 'appId = :appId'];
  const values: Record<string, unknown> = { ':owner': record.ownerId, ':appId': record.appId };
  if (invalidSince !== undefined) {
    conditions.push('lastSeenAt < :invalidSince');
    values[':invalidSince'] = invalidSince.toISOString();
  }
  try {
    await dynamo.send(
      new DeleteCommand({
        TableName: config.devicesTableName,
        Key: record.key,
        ConditionExpression: conditions.join(' AND '),
        ExpressionAttributeNames: { '#owner': record.ownerAttribute },
        ExpressionAttributeValues: values,
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}
