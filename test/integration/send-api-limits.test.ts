import { type Message, PurgeQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_USER_ID_LENGTH } from '../../lambda/domain/user';
import { api } from '../support/api';
import { TEST_APP_ID } from '../support/embedded-services';
import { sendQueueUrl, sqs } from '../support/sender-harness';

/** Every message on the send queue (no sender runs in this file). */
async function drainSendQueue(): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: sendQueueUrl(), MaxNumberOfMessages: 10, VisibilityTimeout: 60 }),
    );
    if (Messages.length === 0) return all;
    all.push(...Messages);
  }
}

const purge = () => sqs.send(new PurgeQueueCommand({ QueueUrl: sendQueueUrl() }));

describe('whatever the API accepts, it enqueues', () => {
  beforeEach(purge);
  afterEach(purge);

  it.each([
    [
      '19 000 user ids of the longest length allowed (4.9 MB)',
      {
        userIds: Array.from(
          { length: 19_000 },
          (_, i) => `${i}-${'u'.repeat(MAX_USER_ID_LENGTH - String(i).length - 1)}`,
        ),
      },
    ],
    [
      '12 000 tokens of the longest length allowed (200 bytes, 4.8 MB)',
      { tokens: Array.from({ length: 12_000 }, (_, i) => i.toString(16).padStart(8, '0').repeat(50)) },
    ],
  ])(
    '%s: 202, every recipient on the queue once, each message ASCII and within SQS limits',
    async (_name, to) => {
      const body = { appId: TEST_APP_ID, to, aps: { alert: '🎉 big' } };
      const answer = await api('POST', '/v1/notifications', { backend: true, body });
      expect(answer.status).toBe(202);
      const messages = await drainSendQueue();
      expect(messages).toHaveLength(answer.body.parts);
      const recipients: string[] = [];
      for (const message of messages) {
        const text = message.Body ?? '';
        expect(text).toMatch(/^[\x20-\x7e]*$/);
        expect(text.length).toBeLessThanOrEqual(1024 * 1024);
        const jobPart = JSON.parse(text);
        expect(jobPart.job.aps).toEqual({ alert: '🎉 big' });
        recipients.push(...(jobPart.job.to.userIds ?? jobPart.job.to.tokens));
      }
      expect(recipients.sort()).toEqual([...('userIds' in to ? to.userIds : to.tokens)].sort());
    },
    300_000,
  );
});

describe('bodies larger than a Lambda event can carry', () => {
  const longIds = (count: number) =>
    Array.from({ length: count }, (_, i) => `${i}-${'u'.repeat(MAX_USER_ID_LENGTH - String(i).length - 1)}`);

  it.each([
    ['a 7 MB body', longIds(27_000)],
    ['50 000 user ids of the longest length allowed (13 MB)', longIds(50_000)],
  ])(
    '%s: our JSON 413 that says what to do, and nothing enqueued',
    async (_name, userIds) => {
      await purge();
      const body = { appId: TEST_APP_ID, to: { userIds }, aps: { alert: 'big' } };
      const answer = await api('POST', '/v1/notifications', { backend: true, body });
      expect(answer.status).toBe(413);
      expect(answer.body.error.code).toBe('RequestTooLarge');
      expect(answer.body.error.message).toMatch(/several requests.*SQS send queue/);
      expect(await drainSendQueue()).toEqual([]);
    },
    120_000,
  );
});
