import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { lambdaContext } from './lambda-events';

type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

export interface EventSourceOptions {
  sqs: SQSClient;
  queueUrl: string;
  handler: () => Promise<SqsHandler>;
  functionName: string;
  /** Records per invocation (the mapping's BatchSize). */
  batchSize?: number;
  /** Concurrent invocations (the mapping's MaximumConcurrency). */
  maxConcurrency?: number;
  /** The function's timeout: the context's deadline. */
  timeoutMs?: number;
  onError?: (error: unknown) => void;
}

/**
 * A Lambda event source mapping for SQS, offline: long-polls the queue, invokes
 * the handler with real-shaped SQS events, deletes what succeeded, and leaves
 * reported batch item failures (or the whole batch, if the handler throws) to
 * reappear after the visibility timeout — where the queue's redrive policy moves
 * them to the DLQ after maxReceiveCount.
 */
export class SqsEventSource {
  private running = false;
  private readonly loops: Promise<void>[] = [];
  private activeInvocations = 0;
  private queueArn = '';

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
    await Promise.all(this.loops);
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
        if (Messages.length > 0) await this.invoke(Messages);
      } catch (error) {
        this.options.onError?.(error);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }

  private async invoke(messages: Message[]): Promise<void> {
    this.activeInvocations++;
    try {
      const event: SQSEvent = { Records: messages.map((message) => sqsRecord(message, this.queueArn)) };
      const handler = await this.options.handler();
      let failed: Set<string>;
      try {
        const response = await handler(
          event,
          lambdaContext(this.options.functionName, this.options.timeoutMs),
        );
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
      this.activeInvocations--;
    }
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
