import { randomBytes } from 'node:crypto';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  type BackfillProgress,
  backfillDeviceSets,
  backfillRecord,
} from '../../lambda/adapters/secondary/device-set-backfill';
import { readDeviceSets } from '../../lambda/adapters/secondary/device-sets';
import { DEVICES_TABLE, userKey } from '../../lambda/adapters/secondary/devices-keys';
import { dynamo } from '../../lambda/clients';
import { apiPorts } from '../../lambda/composition/api';
import { mapConcurrent } from '../../lambda/domain/concurrency';
import { type Device, deviceExpiry } from '../../lambda/domain/device';
import { ENVIRONMENT } from '../../lambda/environment';
import { registerDevice } from '../../lambda/use-cases/register-device';
import { unregisterDevice } from '../../lambda/use-cases/unregister-device';
import { newUser } from '../support/api';
import { TEST_APP_ID } from '../support/embedded-services';
import { db, deviceRecord } from '../support/sender-harness';

/** Token records as the Devices table held them before device sets: no version, no set. */
async function seedRecordsBeforeSets(users: readonly string[], perUser: number, generation = 0) {
  const now = new Date(Date.now() - 60_000);
  const records: (Device & { generation: number })[] = users.flatMap((userId) =>
    Array.from({ length: perUser }, () => ({
      token: randomBytes(32).toString('hex'),
      userId,
      appId: TEST_APP_ID,
      environment: 'production' as const,
      registeredAt: now.toISOString(),
      lastSeenAt: now.toISOString(),
      expiresAt: deviceExpiry(now),
      generation,
    })),
  );
  const table = process.env[ENVIRONMENT.devicesTable] as string;
  const batches = Array.from({ length: Math.ceil(records.length / 25) }, (_, i) =>
    records.slice(i * 25, i * 25 + 25),
  );
  await mapConcurrent(batches, 8, async (batch) => {
    let pending = batch.map((Item) => ({ PutRequest: { Item } }));
    while (pending.length > 0) {
      const result = await db.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      pending = (result.UnprocessedItems?.[table] ?? []) as typeof pending;
    }
  });
  return records;
}

class Stop extends Error {}

describe('npm run migrate builds the device sets from the token records', () => {
  it('4 000 devices: resumable after a stop, idempotent, and right about records that change while it runs', async () => {
    const users = Array.from({ length: 2_000 }, (_, i) => newUser(`migrated-${i}`));
    const records = await seedRecordsBeforeSets(users, 2);
    // An erase (generation 1) after these records were written: they are not the user's any more.
    const [erasedUser] = [newUser('erased')];
    const erased = await seedRecordsBeforeSets([erasedUser], 1);
    await db.send(
      new BatchWriteCommand({
        RequestItems: {
          [process.env[ENVIRONMENT.devicesTable] as string]: [
            { PutRequest: { Item: { ...userKey(erasedUser), generation: 1 } } },
          ],
        },
      }),
    );

    // First run, stopped after its first page: some users have sets, most do not yet.
    let stoppedAt: BackfillProgress | undefined;
    await expect(
      backfillDeviceSets({
        onPage: (progress) => {
          stoppedAt = progress;
          throw new Stop();
        },
      }),
    ).rejects.toBeInstanceOf(Stop);
    expect(stoppedAt?.resumeFrom).toBeDefined();
    expect(stoppedAt?.added).toBeGreaterThan(0);

    // Traffic while it resumes: tokens move to other users, others are signed out.
    const moved = records.slice(0, 20);
    const signedOut = records.slice(100, 120);
    const newOwners = moved.map(() => newUser('new-owner'));
    const resumed = backfillDeviceSets({ startFrom: stoppedAt?.resumeFrom as Record<string, unknown> });
    const traffic = (async () => {
      for (const [i, record] of moved.entries())
        await registerDevice(apiPorts, {
          token: record.token,
          userId: newOwners[i] as string,
          appId: TEST_APP_ID,
          environment: 'production',
        });
      for (const record of signedOut) await unregisterDevice(apiPorts, record.userId, record.token);
    })();
    const [done] = await Promise.all([resumed, traffic]);
    expect(done.resumeFrom).toBeUndefined();

    // Every record in its user's set, once; none in two; the erased user's not at all.
    const sets = await readDeviceSets([...users, ...newOwners, erasedUser]);
    const holders = new Map<string, string[]>();
    for (const set of sets.values())
      for (const token of set.devices.keys()) holders.set(token, [...(holders.get(token) ?? []), set.userId]);
    const movedTokens = new Set(moved.map((record) => record.token));
    const signedOutTokens = new Set(signedOut.map((record) => record.token));
    for (const record of records) {
      if (signedOutTokens.has(record.token)) expect(holders.get(record.token)).toBeUndefined();
      else if (movedTokens.has(record.token))
        expect(holders.get(record.token)).toEqual([newOwners[moved.indexOf(record)]]);
      else expect(holders.get(record.token)).toEqual([record.userId]);
    }
    expect(sets.get(erasedUser)?.devices.size).toBe(0);
    expect(holders.has((erased[0] as Device).token)).toBe(false);

    // Run again from the start: nothing changes.
    const again = await backfillDeviceSets();
    expect(again.added).toBe(0);
    expect(again.present).toBe(records.length - signedOut.length);
  }, 600_000);

  it('a sign-out that read the record just before the backfill added it still signs the device out', async () => {
    const [record] = (await seedRecordsBeforeSets([newUser('racing')], 1)) as [
      Device & { generation: number },
    ];
    // The sign-out finds the record outside the set and reads it unstamped; the backfill
    // then stamps it and adds the token to the set — all before the sign-out's delete.
    let raced = false;
    dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        const key = (args.input as { Key?: { token?: unknown } }).Key?.token;
        const token = typeof key === 'object' && key !== null ? (key as { S?: unknown }).S : key;
        if (!raced && /^Delete(Item)?Command$/.test(context.commandName ?? '') && token === record.token) {
          raced = true;
          expect(await backfillRecord(record, new Date())).toBe('added');
        }
        return next(args);
      },
      { step: 'initialize', name: 'backfillBeforeDelete' },
    );
    try {
      await unregisterDevice(apiPorts, record.userId, record.token);
    } finally {
      dynamo.middlewareStack.remove('backfillBeforeDelete');
    }
    expect(raced).toBe(true);
    expect((await readDeviceSets([record.userId])).get(record.userId)?.devices.has(record.token)).toBe(false);
    expect(await deviceRecord(record.token)).toBeUndefined();
  }, 60_000);

  it('a sign-out that read the set just before the backfill added the token, and the record just after, still signs the device out', async () => {
    const [record] = (await seedRecordsBeforeSets([newUser('racing-reads')], 1)) as [
      Device & { generation: number },
    ];
    // The sign-out finds no entry to remove, then reads the record and the set at once.
    // Here its set read is answered first (no token yet); the backfill then runs whole —
    // stamp, set entry, check — and only then is the record read (stamped).
    const setKey = userKey(record.userId)[DEVICES_TABLE.partitionKey];
    let phase: 'armed' | 'backfilling' | 'done' = 'armed';
    let backfillDone: () => void = () => undefined;
    const backfilled = new Promise<void>((resolve) => {
      backfillDone = resolve;
    });
    dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        if (phase !== 'armed' || !/^Get(Item)?Command$/.test(context.commandName ?? '')) return next(args);
        const key = (args.input as { Key?: { token?: unknown } }).Key?.token;
        const token = typeof key === 'object' && key !== null ? (key as { S?: unknown }).S : key;
        if (token === record.token) {
          await backfilled;
          return next(args);
        }
        if (token !== setKey) return next(args);
        const answer = await next(args);
        phase = 'backfilling';
        try {
          expect(await backfillRecord(record, new Date())).toBe('added');
        } finally {
          phase = 'done';
          backfillDone();
        }
        return answer;
      },
      { step: 'initialize', name: 'backfillBetweenReads' },
    );
    try {
      await unregisterDevice(apiPorts, record.userId, record.token);
    } finally {
      dynamo.middlewareStack.remove('backfillBetweenReads');
    }
    expect(phase).toBe('done');
    expect((await readDeviceSets([record.userId])).get(record.userId)?.devices.has(record.token)).toBe(false);
    expect(await deviceRecord(record.token)).toBeUndefined();
  }, 60_000);
});
