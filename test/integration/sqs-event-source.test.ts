import { randomBytes } from 'node:crypto';
import { DeleteQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionAccess } from '../../infra/function-access';
import { ensureQueues, type Queues } from '../../local/queues';
import { SqsEventSource } from '../../local/sqs-event-source';

/*
 * The offline event source as Lambda's: in AWS an invocation ends at the function's
 * timeout, long before its message's visibility timeout, so a message is never
 * delivered again while its invocation runs. Offline nothing ends an invocation — on a
 * busy machine one can outlast the visibility timeout — so the source keeps a running
 * invocation's messages hidden; a message that failed still comes back when the
 * timeout runs out.
 */

const VISIBILITY_SECONDS = 2;
const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
let queues: Queues;

beforeAll(async () => {
  queues = await ensureQueues(sqs, `event-source-${randomBytes(4).toString('hex')}`, VISIBILITY_SECONDS);
});
afterAll(async () => {
  await Promise.all(Object.values(queues).map((QueueUrl) => sqs.send(new DeleteQueueCommand({ QueueUrl }))));
});

/** A source whose handler takes `ms` for each invocation, then succeeds or fails every record. */
function sourceWith(ms: number, outcome: 'succeed' | 'fail', invocations: string[]) {
  return new SqsEventSource({
    sqs,
    queueUrl: queues.sendQueueUrl,
    handler: async () => async (event: SQSEvent) => {
      invocations.push(...event.Records.map((record) => record.body));
      await new Promise((resolve) => setTimeout(resolve, ms));
      return outcome === 'succeed'
        ? { batchItemFailures: [] }
        : { batchItemFailures: event.Records.map((record) => ({ itemIdentifier: record.messageId })) };
    },
    functionName: 'event-source-test',
    access: {} as FunctionAccess,
    maxConcurrency: 2,
    timeoutMs: 60_000,
  });
}

describe('the offline SQS event source', () => {
  it('never delivers a message again while its invocation runs, however long past the visibility timeout', async () => {
    const invocations: string[] = [];
    const source = sourceWith(3 * VISIBILITY_SECONDS * 1000, 'succeed', invocations);
    await source.start();
    try {
      await sqs.send(new SendMessageCommand({ QueueUrl: queues.sendQueueUrl, MessageBody: 'slow' }));
      await source.idle(60_000);
    } finally {
      await source.stop();
    }
    expect(invocations).toEqual(['slow']);
  }, 90_000);

  it('brings a failed message back once its visibility timeout has run out after the invocation', async () => {
    const invocations: string[] = [];
    const source = sourceWith(0, 'fail', invocations);
    await source.start();
    try {
      await sqs.send(new SendMessageCommand({ QueueUrl: queues.sendQueueUrl, MessageBody: 'failing' }));
      await expect.poll(() => invocations.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
    } finally {
      await source.stop();
    }
    expect(new Set(invocations)).toEqual(new Set(['failing']));
  }, 60_000);
});
