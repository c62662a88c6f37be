import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, paginateScan, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../../clients';
import { config } from '../../config';
import { mapConcurrent } from '../../domain/concurrency';
import type { Device } from '../../domain/device';
import { type DeviceSetEntry, devicesToEvict, isLiveEntry, movedAwayMark } from '../../domain/device-set';
import { hasExpired } from '../../domain/expiry';
import { addToSet, readDeviceSet, removeFromSet } from './device-sets';
import { deviceKey, deviceOfItem, setEntryBytes } from './devices-keys';

/*
 * The migration to device sets (`npm run migrate`, docs/decisions/device-sets.md):
 * every token record written before sets existed joins its user's set. Safe while
 * registrations, moves, sign-outs and erases go on, because each addition is made on
 * the same conditions a registration's is, and undone if the record changed meanwhile.
 */

/** What the backfill did with one token record. */
export type BackfillResult = 'added' | 'present' | 'skipped';

/** Parallel records per scanned page. */
const CONCURRENCY = 16;
const ATTEMPTS = 6;

/**
 * Adds one token record to its user's set, unless it is there already (`present`),
 * or it must not be (`skipped`): expired, taken by an erase since it was written (its
 * device generation is older than the user's), moved away, signed out or registered
 * again meanwhile, or older than every device of a set already at the cap (of devices, or
 * of MAX_SET_ENTRY_BYTES).
 *
 * Like a registration, it first writes on the record the set version it read
 * (`setVersionSeen`, conditional: the record still the user's at this version), then
 * adds the entry, conditional on the set being unchanged since read and the token not
 * having moved away at this record's version. A sign-out or erase that comes between
 * the two sees the stamp: it moves the set version on before it deletes the record,
 * which refuses the addition — the set never holds a token whose record is gone (the
 * next user to register it would find no owner to take it from). Then the record is
 * read again, and an entry whose record changed meanwhile is taken out.
 */
export async function backfillRecord(
  record: Device & { generation?: number },
  now: Date,
  maxDevices = config.maxDevicesPerUser,
): Promise<BackfillResult> {
  if (hasExpired(record.expiresAt, now)) return 'skipped';
  const version = record.version ?? 0;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const set = await readDeviceSet(record.userId);
    if (set.devices.has(record.token)) return 'present';
    if ((record.generation ?? 0) < set.generation) return 'skipped';
    const moved = movedAwayMark(set, record.token);
    if (moved !== undefined && moved.version >= version) return 'skipped';
    const entry: DeviceSetEntry = {
      appId: record.appId,
      environment: record.environment,
      platform: record.platform ?? 'ios',
      lastSeenAt: record.lastSeenAt,
      expiresAt: record.expiresAt,
      version,
    };
    // Who would leave for it, by the cap and by the bytes a registration holds the set to
    // (MAX_SET_ENTRY_BYTES): counting only devices, the backfill brought back every device
    // of long FCM tokens a registration had made leave for bytes, past the item's 400 KB.
    const evict = devicesToEvict(set, record.token, maxDevices, now, {
      joining: setEntryBytes(record.token, entry),
      of: setEntryBytes,
    });
    // It joins only in place of devices seen before it.
    const displaced = evict.flatMap((token) => {
      const other = set.devices.get(token);
      return other !== undefined && isLiveEntry(other, now) ? [other] : [];
    });
    if (displaced.some((other) => other.lastSeenAt >= record.lastSeenAt)) return 'skipped';
    const stamped = await stampSetVersionSeen(record, set.setVersion ?? 0);
    if (stamped === 'gone') return 'skipped';
    if (stamped === 'newer') continue;
    if (!(await addToSet(set, record.token, entry, evict, []))) continue;
    const { Item: current } = await dynamo.send(
      new GetCommand({
        TableName: config.devicesTableName,
        Key: deviceKey(record.token),
        ConsistentRead: true,
      }),
    );
    if (current?.userId !== record.userId || (current.version ?? 0) !== version) {
      await removeFromSet(record.userId, record.token, { version });
      return 'skipped';
    }
    return 'added';
  }
  throw new Error(`the backfill of a device kept racing registrations for ${ATTEMPTS} attempts`);
}

/**
 * Writes `setVersionSeen` on the record while it is still the user's at the version
 * scanned: `gone` when it is not (signed out, moved, or registered again — that
 * registration adds it itself), `newer` when a registration of the same version saw a
 * later set version (read the set again).
 */
async function stampSetVersionSeen(
  record: Device,
  setVersion: number,
): Promise<'stamped' | 'gone' | 'newer'> {
  const version = record.version;
  try {
    await dynamo.send(
      new UpdateCommand({
        TableName: config.devicesTableName,
        Key: deviceKey(record.token),
        UpdateExpression: 'SET #seen = :setVersion',
        ConditionExpression: `#userId = :userId AND ${version === undefined ? 'attribute_not_exists(#version)' : '#version = :version'} AND (attribute_not_exists(#seen) OR #seen <= :setVersion)`,
        ExpressionAttributeNames: { '#userId': 'userId', '#version': 'version', '#seen': 'setVersionSeen' },
        ExpressionAttributeValues: {
          ':userId': record.userId,
          ':setVersion': setVersion,
          ...(version === undefined ? {} : { ':version': version }),
        },
      }),
    );
    return 'stamped';
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
  const { Item: current } = await dynamo.send(
    new GetCommand({
      TableName: config.devicesTableName,
      Key: deviceKey(record.token),
      ConsistentRead: true,
    }),
  );
  return current?.userId === record.userId && current.version === version ? 'newer' : 'gone';
}

/** Progress of a backfill: counts, and where to resume (the scan's last evaluated key). */
export interface BackfillProgress {
  added: number;
  present: number;
  skipped: number;
  resumeFrom?: Record<string, unknown>;
}

/**
 * Scans the Devices table (strongly consistent) and backfills every token record,
 * page by page. `onPage` gets the progress after each page is done — store its
 * `resumeFrom` and pass it back as `startFrom` to resume after a stop. Running it
 * again from the start is harmless: what is present stays as it is.
 */
export async function backfillDeviceSets(
  options: {
    startFrom?: Record<string, unknown>;
    onPage?: (progress: BackfillProgress) => void | Promise<void>;
    now?: () => Date;
  } = {},
): Promise<BackfillProgress> {
  const progress: BackfillProgress = { added: 0, present: 0, skipped: 0 };
  const pages = paginateScan(
    { client: dynamo, pageSize: 500 },
    {
      TableName: config.devicesTableName,
      ConsistentRead: true,
      FilterExpression: 'attribute_exists(userId)',
      ...(options.startFrom === undefined ? {} : { ExclusiveStartKey: options.startFrom }),
    },
  );
  for await (const page of pages) {
    const records = (page.Items ?? []).map((item) => deviceOfItem(item) as Device & { generation?: number });
    const results = await mapConcurrent(records, CONCURRENCY, (record) =>
      backfillRecord(record, options.now?.() ?? new Date()),
    );
    for (const result of results) progress[result]++;
    if (page.LastEvaluatedKey === undefined) delete progress.resumeFrom;
    else progress.resumeFrom = page.LastEvaluatedKey;
    await options.onPage?.({ ...progress });
  }
  return progress;
}
