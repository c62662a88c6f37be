import { DeleteCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../../clients';
import { config } from '../../config';
import type { Device } from '../../domain/device';
import { contentionPauseMs } from '../../domain/retry-policy';
import { conditional } from './conditional-write';
import { deviceKey, deviceOfItem } from './devices-keys';

/**
 * What every writer of device records shares: reading a record as it is now, the
 * condition that it has not changed since, a conditional write's answer, deleting a
 * record still held at its version, and the pause between attempts that race others.
 */

export function pauseBeforeAttempt(attempt: number): Promise<void> {
  const ms = contentionPauseMs(attempt);
  return ms === 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}

export async function readRecord(token: string): Promise<Device | undefined> {
  const { Item } = await dynamo.send(
    new GetCommand({ TableName: config.devicesTableName, Key: deviceKey(token), ConsistentRead: true }),
  );
  return Item === undefined ? undefined : deviceOfItem(Item);
}

/** The condition that a token record is still as it was read. */
export function recordUnchanged(record: Device | undefined) {
  if (record === undefined)
    return { ConditionExpression: 'attribute_not_exists(#token)', ExpressionAttributeValues: undefined };
  if (record.version === undefined)
    return {
      ConditionExpression: '#userId = :previousOwner AND attribute_not_exists(#version)',
      ExpressionAttributeValues: { ':previousOwner': record.userId },
    };
  return {
    ConditionExpression: '#userId = :previousOwner AND #version = :previousVersion',
    ExpressionAttributeValues: { ':previousOwner': record.userId, ':previousVersion': record.version },
  };
}

/**
 * Deletes a token record still held by `userId` at `version` (absent version: a record
 * from before sets) and, when `setVersionAbove` is given, written by a registration
 * that read the user's set before it reached that version (`Device.setVersionSeen`).
 */
export async function deleteRecordOf(
  userId: string,
  token: string,
  version: number | undefined,
  setVersionAbove?: number,
): Promise<boolean> {
  const legacy = version === undefined || version === 0;
  const conditions = [
    '#userId = :userId',
    legacy ? '(attribute_not_exists(#version) OR #version = :zero)' : '#version = :version',
  ];
  const names: Record<string, string> = { '#userId': 'userId', '#version': 'version' };
  const values: Record<string, unknown> = legacy
    ? { ':userId': userId, ':zero': 0 }
    : { ':userId': userId, ':version': version };
  if (setVersionAbove !== undefined) {
    conditions.push('(attribute_not_exists(#seen) OR #seen < :setVersion)');
    names['#seen'] = 'setVersionSeen';
    values[':setVersion'] = setVersionAbove;
  }
  return conditional(() =>
    dynamo.send(
      new DeleteCommand({
        TableName: config.devicesTableName,
        Key: deviceKey(token),
        ConditionExpression: conditions.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    ),
  );
}
