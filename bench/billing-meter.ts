import type { SQSClient } from '@aws-sdk/client-sqs';
import { dynamo } from '../lambda/clients';

/**
 * The cost model's meter: SDK middleware that turns the requests the real code makes
 * into what AWS bills for them — SQS requests in 64 KB chunks, DynamoDB read and write
 * capacity units (a refused conditional write, an index write, a strongly consistent
 * read each priced as AWS prices them), by table and by what each write is for. It
 * changes when AWS's billing rules or the tables' keys do; the scenarios and prices
 * are cost-model.ts.
 */

/** The middleware's name on every client it is added to. */
const METER = 'pushgateCostModel';

export interface Tally {
  sqsRequests: number;
  readUnits: number;
  writeUnits: number;
  /** By purpose: `<table>:<kind>` → units (reads, writes, failed conditional writes, index writes). */
  lines: Record<string, number>;
  /** Write units by what the write is for (see writePurpose). */
  writesByPurpose: Record<string, number>;
}

const line = (tally: Tally, name: string, units: number) => {
  tally.lines[name] = (tally.lines[name] ?? 0) + units;
};

/** Which table a request names: `devices`, `notifications` or `other`. */
function tableOf(name: unknown): string {
  if (name === process.env.DEVICES_TABLE_NAME) return 'devices';
  if (name === process.env.NOTIFICATIONS_TABLE_NAME) return 'notifications';
  return 'other';
}

/**
 * What a DynamoDB write is for, from its key and expression: the bookkeeping the
 * chat scenario is meant to show line by line.
 */
function writePurpose(command: string, input: Record<string, unknown>): string {
  const key = (input.Key ?? input.Item ?? {}) as Record<string, unknown>;
  const sk = String(key.sk ?? '');
  const update = String(input.UpdateExpression ?? '');
  if (key.token !== undefined && key.sk === undefined) return 'devices';
  if (sk === 'request') {
    // A lean job published to the queue is claimed by the write that takes its id.
    if (command.startsWith('Put'))
      return key.claimedBy === undefined ? 'notification id' : 'notification id + lean claim';
    if (update.startsWith('REMOVE claimedBy')) return 'lean claim release';
    if (update.includes('claimedBy')) return 'lean claim';
    return 'request enqueued mark';
  }
  // One per sender invocation: the lean jobs it finished with every device accepted.
  if (String(key.pk ?? '').startsWith('lean-done#')) return 'lean jobs done';
  if (sk.startsWith('progress#')) {
    if (update.includes('completedAt')) return 'chunk completion';
    if (update.includes('claimedUntil')) return 'chunk claim';
    return 'chunk release';
  }
  if (sk.startsWith('recipients#')) return 'tracked recipients';
  if (sk.startsWith('device#') || sk.startsWith('receipt#')) return 'tracking';
  return 'other';
}

/** Counts billed SQS requests (64 KB chunks) and DynamoDB capacity units from real SDK traffic. */
export function instrument(tally: Tally, sqsClients: SQSClient[]): void {
  // DynamoDB sizes a binary attribute by its bytes (JSON would spell each byte out as a
  // number; a Buffer's toJSON runs before the replacer sees it, so look at the holder).
  const bytes = (value: unknown) =>
    Buffer.byteLength(
      JSON.stringify(value ?? '', function (this: Record<string, unknown>, name, field) {
        const original = this[name];
        return original instanceof Uint8Array ? 'b'.repeat(original.byteLength) : field;
      }),
    );
  dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      const command = context.commandName ?? '';
      const isWrite = /^(Put|Update|Delete)(Item)?Command$/.test(command);
      const writeUnits = () => Math.max(1, Math.ceil(bytes(input.Item ?? input) / 1024));
      const key = (input.Key ?? input.Item) as Record<string, unknown> | undefined;
      const table = tableOf(input.TableName);
      let result: Awaited<ReturnType<typeof next>>;
      try {
        result = await next(args);
      } catch (error) {
        // A refused conditional write is billed like one that succeeded.
        if (isWrite && (error as { name?: string }).name === 'ConditionalCheckFailedException') {
          tally.writeUnits += writeUnits();
          line(tally, `${table}:failed conditional writes`, writeUnits());
          const purpose = `${writePurpose(command, input)} (condition failed)`;
          tally.writesByPurpose[purpose] = (tally.writesByPurpose[purpose] ?? 0) + writeUnits();
        }
        throw error;
      }
      const output = result.output as Record<string, unknown>;
      if (/^Query(Item)?Command$/.test(command)) {
        // An index query is eventually consistent (half price); a consistent table query is full price.
        const units = Math.max(1, Math.ceil(bytes(output.Items) / 4096)) * (input.ConsistentRead ? 1 : 0.5);
        tally.readUnits += units;
        line(tally, `${table}:${input.IndexName ? `query ${String(input.IndexName)}` : 'query'}`, units);
      } else if (/^BatchGet(Item)?Command$/.test(command)) {
        // Each key read is billed (found or not) at ≥ 1 unit per 4 KB; a strongly
        // consistent read costs twice an eventually consistent one.
        const requested = (input.RequestItems ?? {}) as Record<
          string,
          { Keys?: unknown[]; ConsistentRead?: boolean }
        >;
        const responses = (output.Responses ?? {}) as Record<string, unknown[]>;
        for (const [name, request] of Object.entries(requested)) {
          const factor = request.ConsistentRead ? 1 : 0.5;
          const found = responses[name] ?? [];
          const unprocessed =
            (output.UnprocessedKeys as Record<string, { Keys?: unknown[] }> | undefined)?.[name]?.Keys
              ?.length ?? 0;
          const missing = Math.max(0, (request.Keys?.length ?? 0) - found.length - unprocessed);
          const units =
            (missing +
              found.reduce<number>((sum, item) => sum + Math.max(1, Math.ceil(bytes(item) / 4096)), 0)) *
            factor;
          tally.readUnits += units;
          line(tally, `${tableOf(name)}:batch get`, units);
        }
      } else if (/^Get(Item)?Command$/.test(command)) {
        const units = Math.max(1, Math.ceil(bytes(output.Item) / 4096)) * (input.ConsistentRead ? 1 : 0.5);
        tally.readUnits += units;
        line(tally, `${table}:get`, units);
      } else if (isWrite) {
        tally.writeUnits += writeUnits();
        line(tally, `${table}:writes`, writeUnits());
        const purpose = writePurpose(command, input);
        tally.writesByPurpose[purpose] = (tally.writesByPurpose[purpose] ?? 0) + writeUnits();
        // A token record is in the byUser or byLiveActivity index: each of its writes is one
        // more write there (a user's set item, `user:<id>`, is in no index).
        const token = key?.token;
        if (table === 'devices' && typeof token === 'string' && !token.startsWith('user:')) {
          tally.writeUnits += writeUnits();
          line(tally, 'devices:index writes', writeUnits());
        }
      }
      return result;
    },
    { step: 'initialize', name: METER },
  );
  for (const client of sqsClients) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        const input = args.input as Record<string, unknown>;
        const output = result.output as { Messages?: unknown[] };
        const command = context.commandName ?? '';
        if (command === 'ReceiveMessageCommand' && !output.Messages?.length) return result; // idle polls: not per notification
        if (command === 'GetQueueAttributesCommand') return result; // offline bookkeeping only
        const payload =
          command === 'SendMessageBatchCommand'
            ? bytes(input.Entries)
            : command === 'ReceiveMessageCommand'
              ? bytes(output.Messages)
              : bytes(input.MessageBody ?? '');
        tally.sqsRequests += Math.max(1, Math.ceil(payload / 65_536));
        return result;
      },
      { step: 'initialize', name: METER },
    );
  }
}

/** Takes the meter off the clients instrument() put it on. */
export function uninstrument(sqsClients: SQSClient[]): void {
  dynamo.middlewareStack.remove(METER);
  for (const client of sqsClients) client.middlewareStack.remove(METER);
}
