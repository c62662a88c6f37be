import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../../clients';
import { config } from '../../config';
import { DAY_SECONDS, expiresAfter } from '../../domain/expiry';
import type { LeanPlan } from '../../domain/lean-job';
import type {
  ChunkClaim,
  ChunkRecord,
  LeanClaim,
  LeanClaimExpectation,
  PartProgress,
  SendRequestRecord,
} from '../../domain/notification-records';
import type { DeadLetteredPart } from '../../domain/send-status';
import { packChunkTracking, trackingExpiry } from '../../domain/tracking';
import { batchGetAll } from './batch-get';
import {
  deadLetterKey,
  IDEMPOTENCY_WINDOW_DAYS,
  issuedPartKey,
  leanDoneKey,
  NOTIFICATIONS_TABLE,
  PACKED_TRACKING_ATTRIBUTE,
  PROGRESS_TTL_DAYS,
  parseSortKey,
  progressKey,
  requestKey,
} from './notifications-keys';

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

/** Throttled progress writes are tried again for this long (beyond the SDK's own retries). */
const THROTTLING_PATIENCE_MS = 60_000;
const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
]);

/**
 * Runs a progress write, waiting out throttling with a growing, jittered pause.
 * A chunk's claim or completion failing on throttling would fail its message — and a
 * failed completion would send the chunk again — so a busy partition only slows it down.
 */
async function patientlyThrottled<T>(write: () => Promise<T>): Promise<T> {
  const giveUpAt = Date.now() + THROTTLING_PATIENCE_MS;
  for (let retry = 0; ; retry++) {
    try {
      return await write();
    } catch (error) {
      if (!THROTTLING.has((error as Error).name) || Date.now() > giveUpAt) throw error;
      const pause = Math.min(2_000, 50 * 2 ** retry) * (0.5 + Math.random() / 2);
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

function progressExpiry(now: Date): number {
  return expiresAfter(now, PROGRESS_TTL_DAYS * DAY_SECONDS);
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
