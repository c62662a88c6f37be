import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../../clients';
import { config } from '../../config';
import { DAY_SECONDS, expiresAfter } from '../../domain/expiry';
import type { LeanPlan } from '../../domain/lean-job';
import type { LeanClaim, LeanClaimExpectation, SendRequestRecord } from '../../domain/notification-records';
import { IDEMPOTENCY_WINDOW_DAYS, leanDoneKey, NOTIFICATIONS_TABLE, requestKey } from './notifications-keys';
import { patientlyThrottled, progressExpiry } from './progress-writes';

/**
 * The request records in the Notifications table: the one write that takes a
 * notification id, reads of it, the mark that a request's parts are all on the queue,
 * and a lean job's claim on its record with the done item of the invocation that
 * finished it. The chunks' progress is in chunk-progress.ts.
 */

/**
 * Takes a notification id for a send request: a conditional put, so two racing
 * requests with one id cannot both win. Returns the existing record when the id
 * was already taken.
 */
export async function takeNotificationId(
  record: SendRequestRecord,
  now = new Date(),
): Promise<{ taken: true } | { taken: false; existing: SendRequestRecord }> {
  try {
    await dynamo.send(
      new PutCommand({
        TableName: config.notificationsTableName,
        Item: {
          ...requestKey(record.notificationId),
          ...record,
          [NOTIFICATIONS_TABLE.ttlAttribute]: expiresAfter(now, IDEMPOTENCY_WINDOW_DAYS * DAY_SECONDS),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return { taken: true };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
  const { Item } = await dynamo.send(
    new GetCommand({
      TableName: config.notificationsTableName,
      Key: requestKey(record.notificationId),
      ConsistentRead: true,
    }),
  );
  if (Item === undefined) throw new Error('notification id taken but its record is gone');
  return { taken: false, existing: Item as SendRequestRecord };
}

export async function findSendRequest(
  notificationId: string,
  consistent = false,
): Promise<SendRequestRecord | undefined> {
  const { Item } = await dynamo.send(
    new GetCommand({
      TableName: config.notificationsTableName,
      Key: requestKey(notificationId),
      ConsistentRead: consistent,
    }),
  );
  return Item as SendRequestRecord | undefined;
}

/**
 * Marks a request's parts all on the queue. `published`: the same job, published
 * straight to the queue as this part, took over a request the API did not finish
 * enqueuing — its name and its split's keys join the record, so its parts are its own.
 */
export async function markRequestEnqueued(
  notificationId: string,
  published?: { part: string; partKeys: string[] },
): Promise<void> {
  await dynamo.send(
    new UpdateCommand({
      TableName: config.notificationsTableName,
      Key: requestKey(notificationId),
      UpdateExpression:
        published === undefined
          ? 'SET #status = :enqueued'
          : 'SET #status = :enqueued, publishedPart = :part, partKeys = list_append(partKeys, :keys)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':enqueued': 'enqueued',
        ...(published === undefined ? {} : { ':part': published.part, ':keys': published.partKeys }),
      },
    }),
  );
}

/**
 * Claims a lean job on its request record with one conditional UpdateItem, marking the
 * request enqueued on the way (its job is on the queue: the API skips that mark for lean
 * jobs). False when the record is not what `expected` says: read it to find out why.
 */
export async function claimLeanRequest(
  notificationId: string,
  claim: LeanClaim,
  expected: LeanClaimExpectation,
): Promise<boolean> {
  const condition =
    expected.kind === 'takeover'
      ? 'claimedBy = :seenBy AND claimedUntil = :seenUntil'
      : expected.kind === 'api'
        ? 'attribute_exists(pk) AND attribute_not_exists(claimedBy) AND contains(partJobs, :partJob) AND contains(partKeys, :partKey)'
        : 'attribute_exists(pk) AND attribute_not_exists(claimedBy)';
  const expectedValues =
    expected.kind === 'takeover'
      ? { ':seenBy': expected.claimedBy, ':seenUntil': expected.claimedUntil }
      : expected.kind === 'api'
        ? { ':partJob': expected.partJob, ':partKey': expected.partKey }
        : {};
  try {
    await patientlyThrottled(() =>
      dynamo.send(
        new UpdateCommand({
          TableName: config.notificationsTableName,
          Key: requestKey(notificationId),
          UpdateExpression:
            'SET claimedBy = :by, claimedUntil = :until, claimedPart = :part, #status = :enqueued',
          ConditionExpression: condition,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':by': claim.claimedBy,
            ':until': claim.claimedUntil,
            ':part': claim.claimedPart,
            ':enqueued': 'enqueued',
            ...expectedValues,
          },
        }),
      ),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/**
 * Gives up this invocation's lean claim: its job went to the dead-letter queue, and a
 * redrive must be able to send it at once, not after the lease.
 */
export async function releaseLeanClaim(notificationId: string, invocationId: string): Promise<void> {
  try {
    await dynamo.send(
      new UpdateCommand({
        TableName: config.notificationsTableName,
        Key: requestKey(notificationId),
        UpdateExpression: 'REMOVE claimedBy, claimedUntil, claimedPart, planned',
        ConditionExpression: 'claimedBy = :me',
        ExpressionAttributeValues: { ':me': invocationId },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

/**
 * Records the lean jobs one invocation finished with every device accepted, and who
 * each reached (the counts its status shows): one item for all of them, written before
 * the invocation answers SQS (so before any of their messages can be deleted), kept as
 * long as progress records. The sends happened: a throttled write is waited out. Each
 * job is `id: [users, usersWithoutDevices, devices]` — as numbers in a list, so ten
 * jobs with 36-character ids stay within one 1 KB write unit.
 */
export async function recordLeanJobsDone(
  invocationId: string,
  jobs: readonly { notificationId: string; plan: LeanPlan }[],
  now = new Date(),
): Promise<void> {
  await patientlyThrottled(() =>
    dynamo.send(
      new PutCommand({
        TableName: config.notificationsTableName,
        Item: {
          ...leanDoneKey(invocationId),
          jobs: Object.fromEntries(
            jobs.map(({ notificationId, plan }) => [
              notificationId,
              [plan.users, plan.usersWithoutDevices, plan.devices],
            ]),
          ),
          [NOTIFICATIONS_TABLE.ttlAttribute]: progressExpiry(now),
        },
      }),
    ),
  );
}

/**
 * The notification ids an invocation's done item lists (none when it wrote none), each
 * with who it reached — undefined in items the first lean version wrote (a list of ids,
 * `notificationIds`; its claims keep who each reached).
 */
export async function leanJobsDone(
  invocationId: string,
  consistent = true,
): Promise<Map<string, LeanPlan | undefined>> {
  const { Item } = await dynamo.send(
    new GetCommand({
      TableName: config.notificationsTableName,
      Key: leanDoneKey(invocationId),
      ConsistentRead: consistent,
    }),
  );
  const done = new Map<string, LeanPlan | undefined>();
  if (Array.isArray(Item?.notificationIds))
    for (const id of Item.notificationIds) done.set(String(id), undefined);
  const jobs = (Item?.jobs ?? {}) as Record<string, unknown>;
  for (const [id, counts] of Object.entries(jobs)) {
    const [users, usersWithoutDevices, devices] = Array.isArray(counts) ? counts.map(Number) : [];
    done.set(id, { users: users ?? 0, usersWithoutDevices: usersWithoutDevices ?? 0, devices: devices ?? 0 });
  }
  return done;
}
