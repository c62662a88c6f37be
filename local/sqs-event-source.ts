import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { FunctionAccess } from '../infra/function-access';
import { grantsOf, runAsFunction } from './function-grants';
import { lambdaContext } from './lambda-events';

/** How long a read of the queue's visibility timeout is trusted. */
const VISIBILITY_REREAD_MS = 2_000;

type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

export interface EventSourceOptions {
  sqs: SQSClient;
  queueUrl: string;
  handler: () => Promise<SqsHandler>;
  functionName: string;
  /** The function's grants (infra/function-access.ts), which each invocation is held to. */
  access: FunctionAccess;
  /** Records per invocation (the mapping's BatchSize). */
  batchSize?: number;
  /** Concurrent invocations (the mapping's MaximumConcurrency). */
  maxConcurrency?: number;
  /** The function's timeout: the context's deadline. */
  timeoutMs?: number;
  /** How long stop() waits for running invocations before leaving them to the visibility timeout. */
  stopGraceMs?: number;
  onError?: (error: unknown) => void;
}

/**
 * A Lambda event source mapping for SQS, offline: long-polls the queue, invokes
 * the handler with real-shaped SQS events (each invocation held to the function's grants), deletes what succeeded, and leaves
 * reported batch item failures (or the whole batch, if the handler throws) to
 * reappear after the visibility timeout — where the queue's redrive policy moves
 * them to the DLQ after maxReceiveCount.
 *
 * In AWS a message is never delivered again while its invocation runs: Lambda ends an
 * invocation at the function's timeout, and the queue hides a message for six times
 * that. Offline nothing ends an invocation, and on a busy machine one can outlast the
 * visibility timeout; so while an invocation runs, its messages are kept hidden (each
 * near the end of its visibility timeout is hidden for another one). Once it ends, a
 * failed message comes back when that timeout runs out, as in AWS.
 *
 * stop() is quick however busy the sender is: running invocations see their
 * remaining time drop to zero — as at a Lambda deadline, so the sender finishes the
 * chunk in hand and hands the rest to a continuation message — and messages received
 * after stop() are made visible again at once. Whatever still runs after the grace
 * period is left to SQS: undeleted, it is delivered again.
 */
export class SqsEventSource {
  private running = false;
  private readonly loops: Promise<void>[] = [];
  private activeInvocations = 0;
  private queueArn = '';
  /** The queue's visibility timeout, read again now and then (tests change it). */
  private visibility = { seconds: 30, readAt: 0 };

  constructor(private readonly options: EventSourceOptions) {}

  async start(): Promise<void> {
    const { Attributes } = await this.options.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: this.options.queueUrl, AttributeNames: ['QueueArn'] }),
    );
    this.queueArn = Attributes?.QueueArn ?? '';
    this.running = true;
    for (let i = 0; i < (this.options.maxConcurrency ?? 2); i++) this.loops.push(this.poll());
  }

  async stop(): Promise<void> {
    this.running = false;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.options.stopGraceMs ?? 10_000);
    });
    await Promise.race([Promise.all(this.loops), grace]);
    clearTimeout(timer);
    this.loops.length = 0;
  }

  /** Resolves once the queue has nothing visible, in flight or delayed and no invocation runs. */
  async idle(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let quietRounds = 0;
    while (Date.now() < deadline) {
      const { Attributes = {} } = await this.options.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: this.options.queueUrl,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      );
      const pending =
        Number(Attributes.ApproximateNumberOfMessages ?? 0) +
        Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
        Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0);
      quietRounds = pending === 0 && this.activeInvocations === 0 ? quietRounds + 1 : 0;
      if (quietRounds >= 2) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`queue not idle after ${timeoutMs} ms`);
  }

  private async poll(): Promise<void> {
    while (this.running) {
      try {
        const { Messages = [] } = await this.options.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.options.queueUrl,
            MaxNumberOfMessages: this.options.batchSize ?? 10,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
        );
        if (Messages.length > 0 && !this.running) await this.release(Messages);
        else if (Messages.length > 0) await this.invoke(Messages);
      } catch (error) {
        this.options.onError?.(error);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }

  private async invoke(messages: Message[]): Promise<void> {
    this.activeInvocations++;
    let hidden: { stop(): void } | undefined;
    try {
      hidden = await this.keepHidden(messages);
      const event: SQSEvent = { Records: messages.map((message) => sqsRecord(message, this.queueArn)) };
      // As CDK's SqsEventSource does, the function may also consume the queue it is fed from.
      const grants = grantsOf(this.options.access, { consumedQueueUrl: this.options.queueUrl });
      const asFunction = <T>(body: () => Promise<T>) =>
        runAsFunction(this.options.functionName, grants, body);
      // Loaded with the grants: what the module does when first loaded (a cold start's init) is checked too.
      const handler = await asFunction(this.options.handler);
      let failed: Set<string>;
      try {
        const context = lambdaContext(this.options.functionName, this.options.timeoutMs);
        const remaining = context.getRemainingTimeInMillis;
        context.getRemainingTimeInMillis = () => (this.running ? remaining() : 0);
        const response = await asFunction(() => handler(event, context));
        failed = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
      } catch (error) {
        this.options.onError?.(error);
        failed = new Set(messages.map((message) => message.MessageId ?? ''));
      }
      const succeeded = messages.filter((message) => !failed.has(message.MessageId ?? ''));
      if (succeeded.length > 0) {
        await this.options.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.options.queueUrl,
            Entries: succeeded.map((message, index) => ({
              Id: String(index),
              ReceiptHandle: message.ReceiptHandle ?? '',
            })),
          }),
        );
      }
    } finally {
      hidden?.stop();
      this.activeInvocations--;
    }
  }

  /**
   * Keeps an invocation's messages hidden while it runs (see the class comment): halfway
   * through the queue's visibility timeout, each is hidden for another full one. Until
   * stop(): what runs past its grace period is left to SQS, to be delivered again.
   */
  private async keepHidden(messages: Message[]): Promise<{ stop(): void }> {
    const seconds = await this.visibilityTimeoutSeconds();
    const extend = async () => {
      if (!this.running) return;
      try {
        await this.options.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: this.options.queueUrl,
            Entries: messages.map((message, index) => ({
              Id: String(index),
              ReceiptHandle: message.ReceiptHandle ?? '',
              VisibilityTimeout: seconds,
            })),
          }),
        );
      } catch (error) {
        // A purged queue, say: the messages are gone, there is nothing to keep hidden.
        this.options.onError?.(error);
      }
    };
    const timer = setInterval(() => void extend(), (seconds * 1000) / 2);
    timer.unref();
    return { stop: () => clearInterval(timer) };
  }

  private async visibilityTimeoutSeconds(): Promise<number> {
    if (Date.now() - this.visibility.readAt > VISIBILITY_REREAD_MS) {
      try {
        const { Attributes } = await this.options.sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: this.options.queueUrl,
            AttributeNames: ['VisibilityTimeout'],
          }),
        );
        const seconds = Number(Attributes?.VisibilityTimeout);
        if (seconds > 0) this.visibility = { seconds, readAt: Date.now() };
      } catch (error) {
        // The last value read serves: an invocation does not fail for want of it.
        this.options.onError?.(error);
      }
    }
    return this.visibility.seconds;
  }

  /** Messages received as stop() was called go back to the queue instead of being invoked. */
  private async release(messages: Message[]): Promise<void> {
    await this.options.sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: this.options.queueUrl,
        Entries: messages.map((message, index) => ({
          Id: String(index),
          ReceiptHandle: message.ReceiptHandle ?? '',
          VisibilityTimeout: 0,
        })),
      }),
    );
  }
}

/** An SQS record as Lambda's event source mapping delivers it. */
export function sqsRecord(message: Message, queueArn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? '000000000000',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        {
          dataType: value.DataType ?? 'String',
          ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
          stringListValues: [],
          binaryListValues: [],
        },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: queueArn.split(':')[3] ?? 'us-east-1',
  };
}
