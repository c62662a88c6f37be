import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** A job on the dead-letter queue, as the dashboard lists it. */
export interface DeadLetter {
  messageId: string;
  /** `pushgate-failure-reason`, or MaxReceiveCountExceeded for what SQS moved by itself. */
  reason: string;
  detail?: string;
  failedAt?: string;
  notificationId?: string;
  part?: string;
  /** The job's body, cut to a few KB for display. */
  body: string;
}

/** The dashboard lists at most this many dead letters (the count covers all). */
const MAX_LISTED = 200;
/** Long enough that one peek never sees a message twice; each is made visible again right after. */
const PEEK_VISIBILITY_SECONDS = 30;

let peeking: Promise<{ depth: number; deadLetters: DeadLetter[] }> | undefined;
let queueInUse: Promise<unknown> = Promise.resolve();

/**
 * Runs one operation on the dead-letter queue at a time: a peek holds messages for a
 * moment, and a redrive or discard pass run then would not see them.
 */
export function onDeadLetterQueue<T>(operation: () => Promise<T>): Promise<T> {
  const run = queueInUse.then(operation, operation);
  queueInUse = run.catch(() => undefined);
  return run;
}

/**
 * Every job on the dead-letter queue with its reason, without taking any away: each
 * message is received (hidden for a moment, so one pass sees it once) and made
 * visible again at once. The depth counts visible and in-flight messages, so a peek —
 * or a redrive in progress — does not hide jobs from the count. One peek at a time.
 */
export function peekDeadLetters(sqs: SQSClient, queueUrl: string) {
  peeking ??= onDeadLetterQueue(() => peek(sqs, queueUrl)).finally(() => {
    peeking = undefined;
  });
  return peeking;
}

async function peek(sqs: SQSClient, queueUrl: string) {
  const received: Message[] = [];
  try {
    while (received.length < MAX_LISTED) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          // A short poll: the queue's own wait would hold every peek of an empty queue.
          WaitTimeSeconds: 0,
          VisibilityTimeout: PEEK_VISIBILITY_SECONDS,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['SentTimestamp'],
        }),
      );
      if (Messages.length === 0) break;
      received.push(...Messages);
    }
  } finally {
    for (let start = 0; start < received.length; start += 10) {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: received.slice(start, start + 10).map((message, i) => ({
            Id: String(i),
            ReceiptHandle: message.ReceiptHandle ?? '',
            VisibilityTimeout: 0,
          })),
        }),
      );
    }
  }
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  const depth =
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
  return { depth: Math.max(depth, received.length), deadLetters: received.map(describe) };
}

function describe(message: Message): DeadLetter {
  const attribute = (name: string) => message.MessageAttributes?.[name]?.StringValue;
  const body = message.Body ?? '';
  const job = jobOf(body);
  const sentAt = Number(message.Attributes?.SentTimestamp);
  const failedAt =
    attribute('pushgate-failed-at') ?? (Number.isFinite(sentAt) ? new Date(sentAt).toISOString() : undefined);
  const detail = attribute('pushgate-failure-detail');
  return {
    messageId: message.MessageId ?? '',
    reason: attribute('pushgate-failure-reason') ?? 'MaxReceiveCountExceeded',
    ...(detail === undefined ? {} : { detail }),
    ...(failedAt === undefined ? {} : { failedAt }),
    ...job,
    body: body.length > 4_000 ? `${body.slice(0, 4_000)}…` : body,
  };
}

/** The notification id and part a dead-lettered body names, when it can be read. */
function jobOf(body: string): { notificationId?: string; part?: string } {
  try {
    const value = JSON.parse(body) as {
      notificationId?: unknown;
      part?: unknown;
      job?: { notificationId?: unknown };
    };
    const id = value.job?.notificationId ?? value.notificationId;
    return {
      ...(typeof id === 'string' ? { notificationId: id } : {}),
      ...(typeof value.part === 'string' ? { part: value.part } : {}),
    };
  } catch {
    return {};
  }
}
