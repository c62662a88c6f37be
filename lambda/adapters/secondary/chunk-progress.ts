import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../../clients';
import { config } from '../../config';
import type { ChunkClaim, ChunkRecord, PartProgress } from '../../domain/notification-records';
import type { DeadLetteredPart } from '../../domain/send-status';
import { packChunkTracking, trackingExpiry } from '../../domain/tracking';
import { batchGetAll } from './batch-get';
import {
  deadLetterKey,
  issuedPartKey,
  NOTIFICATIONS_TABLE,
  PACKED_TRACKING_ATTRIBUTE,
  parseSortKey,
  progressKey,
  requestKey,
} from './notifications-keys';
import { patientlyThrottled, progressExpiry } from './progress-writes';

/**
 * The chunks' progress in the Notifications table: what the sender reads before it
 * delivers a part, the chunks' claims and completions, the parts with devices it
 * issued and the parts it dead-lettered.
 */

/**
 * The chunks of one part of a job already completed at this attempt, and the
 * request record's part fingerprints — one BatchGetItem, eventually consistent. SQS
 * delivers at least once and the DLQ can be redriven: the chunks let a repeated job
 * skip what it did. The chunk records are spread over shards, so they are read by key.
 * A part that carries devices also reads what the sender recorded issuing under its
 * name, strongly consistent: the record is written right before the part is queued,
 * and a read that missed it would refuse the sender's own part.
 */
export async function partProgress(
  notificationId: string,
  part: string,
  attempt: number,
  chunks: number,
  carriesDevices = false,
): Promise<PartProgress> {
  const request = requestKey(notificationId);
  const issued = issuedPartKey(notificationId, part, attempt);
  const keys = [
    request,
    ...(carriesDevices ? [issued] : []),
    ...Array.from({ length: chunks }, (_, chunk) => progressKey(notificationId, part, attempt, chunk)),
  ];
  const items = await batchGetAll(
    config.notificationsTableName,
    keys,
    {
      expression: '#sk, completedAt, partJobs, partKeys, partsIssuedRecorded, fingerprints',
      names: { '#sk': NOTIFICATIONS_TABLE.sortKey },
    },
    carriesDevices,
  );
  const done = new Set<number>();
  let partJobs: string[] | undefined;
  let partKeys: string[] | undefined;
  let issuedRecorded = false;
  const fingerprints = new Set<string>();
  for (const item of items) {
    const sortKey = item[NOTIFICATIONS_TABLE.sortKey];
    if (sortKey === request.sk) {
      if (Array.isArray(item.partJobs)) partJobs = item.partJobs.map(String);
      if (Array.isArray(item.partKeys)) partKeys = item.partKeys.map(String);
      issuedRecorded = item.partsIssuedRecorded === true;
      continue;
    }
    if (sortKey === issued.sk) {
      if (item.fingerprints instanceof Set)
        for (const value of item.fingerprints) fingerprints.add(String(value));
      continue;
    }
    const key = parseSortKey(sortKey);
    if (item.completedAt !== undefined && key.kind === 'progress') done.add(key.chunk);
  }
  return {
    done,
    partJobs,
    ...(partKeys === undefined ? {} : { partKeys }),
    ...(carriesDevices && issuedRecorded ? { issued: fingerprints } : {}),
  };
}

/**
 * Records that the sender is about to queue (or dead-letter) these parts with
 * devices: each part's fingerprint joins the set under its name and attempt. A set,
 * not one value: a re-push round that runs out of time goes on with only its
 * unacknowledged devices under the same name, and the round as first queued must
 * still read as the sender's if SQS delivers it again.
 */
export async function recordIssuedParts(
  notificationId: string,
  parts: readonly { part: string; attempt: number; fingerprint: string }[],
  now = new Date(),
): Promise<void> {
  await Promise.all(
    parts.map(({ part, attempt, fingerprint }) =>
      patientlyThrottled(() =>
        dynamo.send(
          new UpdateCommand({
            TableName: config.notificationsTableName,
            Key: issuedPartKey(notificationId, part, attempt),
            UpdateExpression: 'ADD fingerprints :fingerprint SET #ttl = :ttl',
            ExpressionAttributeNames: { '#ttl': NOTIFICATIONS_TABLE.ttlAttribute },
            ExpressionAttributeValues: {
              ':fingerprint': new Set([fingerprint]),
              ':ttl': progressExpiry(now),
            },
          }),
        ),
      ),
    ),
  );
}

/**
 * Claims a chunk for this invocation for `leaseMs`. The lease is shorter than the
 * queue's visibility timeout, so a crashed invocation's chunks are free again when
 * SQS redelivers its message.
 */
export async function claimChunk(
  notificationId: string,
  part: string,
  attempt: number,
  chunk: number,
  leaseMs: number,
  now = new Date(),
): Promise<ChunkClaim> {
  const key = progressKey(notificationId, part, attempt, chunk);
  try {
    const claim = new UpdateCommand({
      TableName: config.notificationsTableName,
      Key: key,
      UpdateExpression: 'SET claimedUntil = :until, #ttl = :ttl',
      ConditionExpression:
        'attribute_not_exists(completedAt) AND (attribute_not_exists(claimedUntil) OR claimedUntil < :now)',
      ExpressionAttributeNames: { '#ttl': NOTIFICATIONS_TABLE.ttlAttribute },
      ExpressionAttributeValues: {
        ':until': now.getTime() + leaseMs,
        ':now': now.getTime(),
        ':ttl': progressExpiry(now),
      },
    });
    await patientlyThrottled(() => dynamo.send(claim));
    return 'claimed';
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
  // Which condition failed (the embedded DynamoDB has no ReturnValuesOnConditionCheckFailure).
  const { Item } = await dynamo.send(
    new GetCommand({
      TableName: config.notificationsTableName,
      Key: key,
      ConsistentRead: true,
      ProjectionExpression: 'completedAt',
    }),
  );
  return Item?.completedAt === undefined ? 'held' : 'completed';
}

/**
 * Gives up a claim before its lease ends: the chunk's job went to the dead-letter
 * queue, and a redrive must be able to send it at once, not after the lease.
 */
export async function releaseChunk(
  notificationId: string,
  part: string,
  attempt: number,
  chunk: number,
): Promise<void> {
  try {
    await dynamo.send(
      new UpdateCommand({
        TableName: config.notificationsTableName,
        Key: progressKey(notificationId, part, attempt, chunk),
        UpdateExpression: 'REMOVE claimedUntil',
        ConditionExpression: 'attribute_exists(claimedUntil) AND attribute_not_exists(completedAt)',
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

/**
 * Records that every device of a chunk ended accepted, pruned, re-queued or
 * dead-lettered — with each device's outcome when the job is tracked: one write
 * per chunk, on the chunk's own shard. The sends already happened, so a throttled
 * write is retried patiently rather than failing the chunk (which would send it again).
 */
export async function markChunkCompleted(
  notificationId: string,
  part: string,
  attempt: number,
  chunk: number,
  record: ChunkRecord,
  now = new Date(),
): Promise<void> {
  const { tracking, round, chunks, summary } = record;
  const sets = ['completedAt = :now', '#ttl = :ttl', '#chunks = :chunks'];
  const values: Record<string, unknown> = {
    ':now': now.toISOString(),
    // Tracked outcomes live as long as tracking data; both outlive the DLQ's retention.
    ':ttl': tracking === undefined ? progressExpiry(now) : trackingExpiry(now),
    ':chunks': chunks,
  };
  if (tracking !== undefined) {
    sets.push('#tracking = :tracking');
    values[':tracking'] = packChunkTracking(tracking);
  }
  if (record.trackingPages !== undefined) {
    sets.push('trackingPages = :trackingPages');
    values[':trackingPages'] = record.trackingPages;
  }
  if (round !== undefined) {
    sets.push('#round = :round');
    values[':round'] = round;
  }
  if (summary !== undefined) {
    sets.push('#summary = :summary');
    values[':summary'] = summary;
  }
  const command = new UpdateCommand({
    TableName: config.notificationsTableName,
    Key: progressKey(notificationId, part, attempt, chunk),
    UpdateExpression: `SET ${sets.join(', ')} REMOVE claimedUntil`,
    ExpressionAttributeNames: {
      '#ttl': NOTIFICATIONS_TABLE.ttlAttribute,
      '#chunks': 'chunks',
      ...(tracking === undefined ? {} : { '#tracking': PACKED_TRACKING_ATTRIBUTE }),
      ...(round === undefined ? {} : { '#round': 'round' }),
      ...(summary === undefined ? {} : { '#summary': 'summary' }),
    },
    ExpressionAttributeValues: values,
  });
  await patientlyThrottled(() => dynamo.send(command));
}

/** Whether a chunk's completion is recorded, read consistently. */
export async function isChunkCompleted(
  notificationId: string,
  part: string,
  attempt: number,
  chunk: number,
): Promise<boolean> {
  const { Item } = await dynamo.send(
    new GetCommand({
      TableName: config.notificationsTableName,
      Key: progressKey(notificationId, part, attempt, chunk),
      ConsistentRead: true,
      ProjectionExpression: 'completedAt',
    }),
  );
  return Item?.completedAt !== undefined;
}

/**
 * Records that a part of the job went to the dead-letter queue and why, so the
 * notification's status can say it: one write, only when a part is dead-lettered.
 */
export async function recordDeadLetteredPart(
  notificationId: string,
  { part, attempt, reason, detail, at }: DeadLetteredPart,
): Promise<void> {
  await dynamo.send(
    new UpdateCommand({
      TableName: config.notificationsTableName,
      Key: deadLetterKey(notificationId, part, attempt),
      UpdateExpression: 'SET reason = :reason, detail = :detail, #at = :at, #ttl = :ttl',
      ExpressionAttributeNames: { '#at': 'at', '#ttl': NOTIFICATIONS_TABLE.ttlAttribute },
      ExpressionAttributeValues: {
        ':reason': reason,
        // A reason's detail can quote the job; the record stays small.
        ':detail': detail.slice(0, 1_000),
        ':at': at,
        ':ttl': progressExpiry(new Date(at)),
      },
    }),
  );
}
