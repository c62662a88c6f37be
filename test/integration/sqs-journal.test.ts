import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureQueues, type Queues } from '../../local/queues';
import { type EmbeddedSqs, startSqs } from '../../local/sqs';

interface Running {
  sqs: EmbeddedSqs;
  client: SQSClient;
  queues: Queues;
  journal: string;
}

const running: Running[] = [];

async function start(journal: string, visibilityTimeoutSeconds = 60): Promise<Running> {
  const sqs = await startSqs({ journalFile: journal });
  const client = new SQSClient({
    endpoint: sqs.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const queues = await ensureQueues(client, 'journal-test', visibilityTimeoutSeconds);
  const instance = { sqs, client, queues, journal };
  running.push(instance);
  return instance;
}

async function stop(instance: Running): Promise<void> {
  running.splice(running.indexOf(instance), 1);
  instance.client.destroy();
  await instance.sqs.stop();
}

/** What `kill -9` leaves behind: the journal as it is on disk at this instant, in a new directory. */
function crashImage(instance: Running): string {
  const dir = mkdtempSync(join(tmpdir(), 'pushgate-journal-'));
  mkdirSync(join(dir, 'sqs'));
  const copy = join(dir, 'sqs', 'journal.jsonl');
  copyFileSync(instance.journal, copy);
  return copy;
}

function newJournal(): string {
  return join(mkdtempSync(join(tmpdir(), 'pushgate-journal-')), 'sqs', 'journal.jsonl');
}

async function depth(instance: Running, queueUrl = instance.queues.sendQueueUrl) {
  const { Attributes = {} } = await instance.client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
    delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed),
  };
}

async function receive(
  instance: Running,
  max = 10,
  queueUrl = instance.queues.sendQueueUrl,
  visibility?: number,
) {
  const { Messages = [] } = await instance.client.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: max,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
      ...(visibility === undefined ? {} : { VisibilityTimeout: visibility }),
    }),
  );
  return Messages;
}

afterEach(async () => {
  for (const instance of [...running]) await stop(instance);
});

describe('the SQS journal (queues that survive a crash)', () => {
  it('brings back what was queued, in flight or delayed — with ids, attributes and receive counts — and not what was deleted', async () => {
    const first = await start(newJournal());
    const url = first.queues.sendQueueUrl;
    const send = (body: string, extra: Partial<ConstructorParameters<typeof SendMessageCommand>[0]> = {}) =>
      first.client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body, ...extra }));
    const a = await send('a', {
      MessageAttributes: { origin: { DataType: 'String', StringValue: 'billing' } },
    });
    const b = await send('b');
    const later = await send('later', { DelaySeconds: 600 });
    const received = await receive(first, 2);
    expect(received.map((m) => m.Body).sort()).toEqual(['a', 'b']);
    const receivedB = received.find((m) => m.Body === 'b') as Message;
    await first.client.send(
      new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: receivedB.ReceiptHandle }),
    );
    const d = await send('d');
    expect(await depth(first)).toEqual({ visible: 1, inFlight: 1, delayed: 1 });

    const second = await start(crashImage(first));
    expect(second.sqs.restored).toEqual({ queues: 2, messages: 3, inFlight: 1, unreadable: 0 });
    // In flight at the crash: visible at once (its receipt handle died with the process).
    expect(await depth(second)).toEqual({ visible: 2, inFlight: 0, delayed: 1 });
    const back = await receive(second);
    expect(back.map((m) => [m.MessageId, m.Body, m.Attributes?.ApproximateReceiveCount])).toEqual([
      [a.MessageId, 'a', '2'],
      [d.MessageId, 'd', '1'],
    ]);
    expect(back[0]?.MessageAttributes?.origin?.StringValue).toBe('billing');
    expect(back.map((m) => m.MessageId)).not.toContain(b.MessageId);
    expect(later.MessageId).toBeDefined();
  });

  it('a message redriven to the DLQ comes back on the DLQ, not on its queue', async () => {
    const first = await start(newJournal());
    const { MessageId } = await first.client.send(
      new SendMessageCommand({ QueueUrl: first.queues.sendQueueUrl, MessageBody: 'poison' }),
    );
    // maxReceiveCount is 5: the sixth receive redrives it.
    for (let i = 0; i < 6; i++) await receive(first, 1, first.queues.sendQueueUrl, 0);
    expect((await depth(first, first.queues.deadLetterQueueUrl)).visible).toBe(1);

    const second = await start(crashImage(first));
    expect(second.sqs.restored).toMatchObject({ messages: 1, inFlight: 0 });
    expect(await depth(second)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    const [dead] = await receive(second, 10, second.queues.deadLetterQueueUrl);
    expect(dead?.MessageId).toBe(MessageId);
    expect(dead?.Body).toBe('poison');
  });

  it('a purge is journaled too', async () => {
    const first = await start(newJournal());
    await first.client.send(
      new SendMessageCommand({ QueueUrl: first.queues.sendQueueUrl, MessageBody: 'x' }),
    );
    await first.client.send(new PurgeQueueCommand({ QueueUrl: first.queues.sendQueueUrl }));
    const second = await start(crashImage(first));
    expect(second.sqs.restored?.messages).toBe(0);
    expect(await depth(second)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('skips a torn last line (a crash mid-write) and rewrites the journal without it', async () => {
    const first = await start(newJournal());
    await first.client.send(
      new SendMessageCommand({ QueueUrl: first.queues.sendQueueUrl, MessageBody: 'kept' }),
    );
    const image = crashImage(first);
    appendFileSync(image, '{"t":"put","arn":"arn:aws:sqs:us-east-1:000000000000:journal-te');
    const second = await start(image);
    expect(second.sqs.restored).toMatchObject({ messages: 1, unreadable: 1 });
    expect(readFileSync(image, 'utf8')).not.toContain('journal-te"');
    expect((await receive(second)).map((m) => m.Body)).toEqual(['kept']);
  });

  it('stays proportional to what is queued: sent-and-deleted traffic is compacted away', async () => {
    const first = await start(newJournal());
    const url = first.queues.sendQueueUrl;
    const body = 'x'.repeat(4096);
    for (let batch = 0; batch < 300; batch++) {
      await first.client.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: Array.from({ length: 10 }, (_, i) => ({ Id: String(i), MessageBody: body })),
        }),
      );
      const messages = await receive(first);
      await first.client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: url,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
    // 12 MB went through; what is left is two queue definitions and a tail since the last compaction.
    expect(statSync(first.journal).size).toBeLessThan(10 * 1024 * 1024);
    await new Promise((resolve) => setImmediate(resolve));
    const second = await start(crashImage(first));
    expect(second.sqs.restored).toMatchObject({ queues: 2, messages: 0 });
  });

  it('a restored queue whose settings changed in code takes the new settings and keeps its messages', async () => {
    const first = await start(newJournal(), 60);
    await first.client.send(
      new SendMessageCommand({ QueueUrl: first.queues.sendQueueUrl, MessageBody: 'm' }),
    );
    const image = crashImage(first);
    const second = await start(image, 30);
    const { Attributes } = await second.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: second.queues.sendQueueUrl,
        AttributeNames: ['VisibilityTimeout'],
      }),
    );
    expect(Attributes?.VisibilityTimeout).toBe('30');
    expect((await receive(second)).map((m) => m.Body)).toEqual(['m']);
  });

  it('one process per journal: a second one is refused with a clear message', async () => {
    const first = await start(newJournal());
    await expect(startSqs({ journalFile: first.journal })).rejects.toThrow(
      /Another pushgate \(pid \d+\) is using/,
    );
  });
});
