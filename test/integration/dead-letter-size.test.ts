import {
  ChangeMessageVisibilityCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_SQS_MESSAGE_BYTES } from '../../lambda/adapters/secondary/send-queue';
import { redriveOnce } from '../../scripts/redrive/index';
import { newToken } from '../support/api';
import { TEST_APP_ID } from '../support/embedded-services';
import { deadLetterQueueUrl, SenderHarness, sendQueueUrl, sqs } from '../support/sender-harness';

/*
 * SQS counts a message's attributes toward its 1 MiB. The DLQ's reason travels in
 * attributes, so a job that nearly fills a message must still get there at once with
 * its reason — not fail every receive and reach the DLQ an hour later without one.
 */

const harness = new SenderHarness();
beforeAll(() => harness.start(), 30_000);
afterAll(() => harness.stop());
beforeEach(() => harness.purge());

/** Puts `body` on the send queue as it is, and waits until the sender has nothing left to do. */
async function deliverRaw(body: string): Promise<void> {
  await sqs.send(new SendMessageCommand({ QueueUrl: sendQueueUrl(), MessageBody: body }));
  await harness.source.idle(120_000);
}

/**
 * Everything on the DLQ as SQS holds it — the body as text, the reason, and the size SQS
 * counts — left visible again, as a look that changes nothing.
 */
async function deadLetters(): Promise<{ body: string; reason?: string; detail?: string; size: number }[]> {
  const all = [];
  const received: Message[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: deadLetterQueueUrl(),
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        VisibilityTimeout: 60,
      }),
    );
    if (Messages.length === 0) break;
    received.push(...Messages);
    for (const message of Messages) {
      const attributes = Object.entries(message.MessageAttributes ?? {});
      const reason = message.MessageAttributes?.['pushgate-failure-reason']?.StringValue;
      const detail = message.MessageAttributes?.['pushgate-failure-detail']?.StringValue;
      all.push({
        body: message.Body ?? '',
        ...(reason === undefined ? {} : { reason }),
        ...(detail === undefined ? {} : { detail }),
        size: attributes.reduce(
          (bytes, [name, value]) =>
            bytes +
            Buffer.byteLength(name) +
            Buffer.byteLength(value.DataType ?? '') +
            Buffer.byteLength(value.StringValue ?? ''),
          Buffer.byteLength(message.Body ?? ''),
        ),
      });
    }
  }
  for (const { ReceiptHandle } of received) {
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: deadLetterQueueUrl(),
        ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
  }
  return all;
}

const UNKNOWN_FIELD = 'Unknown field "padding"; only documented fields are accepted.';

/** A job refused as InvalidJob (an unknown field), padded to exactly `bytes` of ASCII. */
function invalidJobOf(bytes: number): string {
  const start = `{"appId":"${TEST_APP_ID}","to":{"tokens":["${newToken()}"]},"aps":{"alert":"Hi"},"padding":"`;
  const text = `${start}${'x'.repeat(bytes - start.length - 2)}"}`;
  expect(Buffer.byteLength(text)).toBe(bytes);
  return text;
}

/** The DLQ's failure attributes without a detail: names, types, the reason and the time (ISO, 24 characters). */
const ATTRIBUTES_WITHOUT_DETAIL =
  'pushgate-failure-reason'.length +
  'pushgate-failure-detail'.length +
  'pushgate-failed-at'.length +
  3 * 'String'.length +
  'InvalidJob'.length +
  24;

describe('dead-lettering a job near SQS’s 1 MiB', () => {
  it('a 1 048 576-byte invalid job reaches the DLQ at once with its reason, its body cut to fit and said so', async () => {
    const body = invalidJobOf(MAX_SQS_MESSAGE_BYTES);
    await deliverRaw(body);
    const [dead, ...more] = await deadLetters();
    expect(more).toEqual([]);
    expect(dead?.reason).toBe('InvalidJob');
    expect(dead?.detail).toMatch(
      new RegExp(
        `^Unknown field "padding".* \\[The body of ${MAX_SQS_MESSAGE_BYTES} bytes and this reason exceed SQS's ${MAX_SQS_MESSAGE_BYTES} bytes: .*cannot be redriven; it was message [0-9a-f-]+\\.\\]$`,
      ),
    );
    expect(body.startsWith(dead?.body ?? '-')).toBe(true);
    expect(dead?.size).toBeLessThanOrEqual(MAX_SQS_MESSAGE_BYTES);
    expect(dead?.size).toBeGreaterThan(MAX_SQS_MESSAGE_BYTES - 1000);
    expect(harness.inboxTokens()).toEqual([]);

    // npm run redrive lists it by its reason; moved back, the sender dead-letters it again at once.
    const options = {
      sqs,
      queues: { sendQueueUrl: sendQueueUrl(), deadLetterQueueUrl: deadLetterQueueUrl() },
    };
    const listed = await redriveOnce({ ...options, dryRun: true });
    expect([listed.byReason.InvalidJob?.count, listed.byReason.InvalidJob?.detail]).toEqual([
      1,
      dead?.detail,
    ]);
    // Moved once (a pass never moves a job twice); the sender dead-letters it again under a new message id.
    expect((await redriveOnce({ ...options, waitSeconds: 0 })).moved).toBe(1);
    await harness.source.idle(120_000);
    const [again, ...others] = await deadLetters();
    expect(others).toEqual([]);
    expect([again?.reason, again?.detail]).toEqual(['InvalidJob', 'The message body is not valid JSON.']);
    expect(harness.inboxTokens()).toEqual([]);
  });

  it('a job with room for its reason but not the whole detail keeps its whole body (a redrive can send it)', async () => {
    // Room for 20 characters of detail beside the body, not for all of it.
    const body = invalidJobOf(MAX_SQS_MESSAGE_BYTES - ATTRIBUTES_WITHOUT_DETAIL - 20);
    await deliverRaw(body);
    const [dead, ...more] = await deadLetters();
    expect(more).toEqual([]);
    expect(dead?.body).toBe(body);
    expect(dead?.reason).toBe('InvalidJob');
    expect(dead?.detail).toBe(UNKNOWN_FIELD.slice(0, 20));
    expect(dead?.size).toBe(MAX_SQS_MESSAGE_BYTES);
  });

  it('a job with room for everything is dead-lettered whole with the whole detail', async () => {
    const body = invalidJobOf(MAX_SQS_MESSAGE_BYTES - ATTRIBUTES_WITHOUT_DETAIL - UNKNOWN_FIELD.length);
    await deliverRaw(body);
    const [dead] = await deadLetters();
    expect([dead?.body === body, dead?.reason, dead?.detail]).toEqual([true, 'InvalidJob', UNKNOWN_FIELD]);
  });
});
