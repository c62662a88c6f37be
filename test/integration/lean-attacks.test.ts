import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SENDER } from '../../infra/queue-settings';
import { dynamo } from '../../lambda/clients';
import { ENVIRONMENT } from '../../lambda/environment';
import { api, newUser } from '../support/api';
import { alertJob, db, registerDevices, SenderHarness } from '../support/sender-harness';

// Hostile probes of the lean path (one user or a few, untracked): faults between its
// steps, and what the status says after each.
const harness = new SenderHarness();
beforeAll(() => harness.start(), 30_000);
afterAll(() => harness.stop());
beforeEach(async () => {
  await harness.purge();
  harness.simulator.clearFaults();
});

const table = () => process.env[ENVIRONMENT.notificationsTable];

async function _item(key: Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
  const { Item } = await db.send(new GetCommand({ TableName: table(), Key: key, ConsistentRead: true }));
  return Item;
}

/** How many times each token got this notification, sorted by token. */
function pushesOf(notificationId: string): [string, number][] {
  const counts = new Map<string, number>();
  for (const entry of harness.simulator.inbox) {
    if ((entry.payload as { pushgate?: { id?: string } }).pushgate?.id !== notificationId) continue;
    counts.set(entry.token, (counts.get(entry.token) ?? 0) + 1);
  }
  return [...counts].sort(([a], [b]) => a.localeCompare(b));
}

const once = (tokens: readonly string[]) => [...tokens].sort().map((token): [string, number] => [token, 1]);

function _received(messageId: string, body: unknown, receiveCount: number): SQSRecord {
  const now = String(Date.now());
  return {
    messageId,
    receiptHandle: `${messageId}-${receiveCount}`,
    body: JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: now,
      SenderId: 'backend',
      ApproximateFirstReceiveTimestamp: now,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:pushgate-send',
    awsRegion: 'us-east-1',
  };
}

const context = { getRemainingTimeInMillis: () => SENDER.timeoutSeconds * 1000 } as Context;
async function _invokeSender(records: SQSRecord[]): Promise<SQSBatchResponse> {
  const { handler } = await import('../../lambda/adapters/primary/deliver-notifications/handler');
  return handler({ Records: records }, context);
}

async function _status(id: string) {
  const answer = await api('GET', `/v1/notifications/${id}`, { backend: true });
  expect(answer.status).toBe(200);
  return answer.body;
}

const _allAccepted = (id: string, devices: number) => ({
  notificationId: id,
  tracked: false,
  recipients: { users: 1, usersWithoutDevices: 0 },
  jobs: 1,
  counts: { devices, accepted: devices, queued: 0, failed: 0, pruned: 0, received: 0, opened: 0 },
  reasons: {},
  progress: { parts: 1, partsDone: 1, chunksInProgress: 0, complete: true },
  devices: [],
});

/** The request record's key value as a command carries it (marshalled or not). */
function pkOf(input: Record<string, unknown>): string | undefined {
  const source = (input.Key ?? input.Item) as Record<string, unknown> | undefined;
  const value = source?.pk;
  return typeof value === 'string' ? value : (value as { S?: string } | undefined)?.S;
}

/**
 * A fault for the next DynamoDB command `matches` picks: run `before` ahead of it, or
 * fail it (`fail`) as a crash or a service error would.
 */
interface Fault {
  matches: (command: string, input: Record<string, unknown>) => boolean;
  before?: () => Promise<unknown>;
  fail?: boolean;
  times?: number;
}
let faults: Fault[] = [];
class InjectedFault extends Error {}

beforeAll(() => {
  dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      const fault = faults.find((f) => f.matches(context.commandName ?? '', input));
      if (fault !== undefined) {
        fault.times = (fault.times ?? 1) - 1;
        if (fault.times <= 0) faults = faults.filter((f) => f !== fault);
        await fault.before?.();
        if (fault.fail) throw new InjectedFault(`injected failure of ${context.commandName}`);
      }
      return next(args);
    },
    { step: 'initialize', name: 'leanAttackFaults' },
  );
});
afterAll(() => dynamo.middlewareStack.remove('leanAttackFaults'));
afterEach(() => {
  faults = [];
});

const isClaimWrite = (command: string, input: Record<string, unknown>) =>
  (command === 'UpdateItemCommand' && String(input.UpdateExpression ?? '').startsWith('SET claimedBy')) ||
  (command === 'PutItemCommand' &&
    (input.Item as Record<string, unknown> | undefined)?.claimedBy !== undefined);

describe('lean jobs and the privacy rule', () => {
  it.each([
    ['published to the queue', false],
    ['through the API', true],
  ])('a device signed out while the job is being claimed (%s) gets nothing', async (_, viaApi) => {
    const user = newUser('lean-privacy');
    const [kept, leaving] = (await registerDevices(user, 2)) as [string, string];
    const id = `lean-signout-${viaApi}-${Date.now()}`;
    const job = alertJob({ userIds: [user] }, { notificationId: id });
    let signedOut = false;
    faults.push({
      matches: (command, input) => isClaimWrite(command, input) && pkOf(input)?.includes(id) === true,
      before: async () => {
        const answer = await api('DELETE', `/v1/devices/${leaving}`, { as: user });
        expect(answer.status).toBe(204);
        signedOut = true;
      },
    });
    if (viaApi) {
      expect((await api('POST', '/v1/notifications', { backend: true, body: job })).status).toBe(202);
      await harness.source.idle();
    } else {
      await harness.deliver(job);
    }
    expect(signedOut).toBe(true);
    expect(pushesOf(id)).toEqual(once([kept]));
  });
});
