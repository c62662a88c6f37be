import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/**
 * Long enough that one pass never sees a message twice; every message still held
 * is made visible again when the pass ends (`release`).
 */
const VISIBILITY_TIMEOUT_SECONDS = 900;

/**
 * The messages of one pass over the DLQ: received (hidden from everyone else while the
 * pass runs), then deleted or released. SQS gives no snapshot of a queue, so a pass
 * receives until nothing new comes back and holds what it received — a job that fails
 * again during the pass arrives under a new message id and is told apart by the caller.
 */
export class DeadLetterPass {
  private readonly held = new Map<string, Message>();

  constructor(
    private readonly sqs: SQSClient,
    readonly queueUrl: string,
  ) {}

  /** Every message visible now (or until the signal stops it), held for the rest of the pass. */
  async receiveAll(signal?: AbortSignal): Promise<Message[]> {
    const received: Message[] = [];
    while (signal?.aborted !== true) {
      const fresh = await this.receive(1);
      if (fresh.length === 0) return received;
      received.push(...fresh);
    }
    return received;
  }

  /** Messages that became visible since the last receive (at most 10), held too. */
  async receive(waitSeconds: number): Promise<Message[]> {
    const { Messages = [] } = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: 10,
        // Long polling asks every SQS server, so an empty answer means nothing is visible.
        WaitTimeSeconds: waitSeconds,
        VisibilityTimeout: VISIBILITY_TIMEOUT_SECONDS,
        MessageAttributeNames: ['All'],
      }),
    );
    const fresh: Message[] = [];
    for (const message of Messages) {
      if (message.MessageId === undefined || message.ReceiptHandle === undefined) continue;
      if (!this.held.has(message.MessageId)) fresh.push(message);
      this.held.set(message.MessageId, message);
    }
    return fresh;
  }

  /** Deletes these messages; answers the ids SQS did delete. */
  async delete(messages: readonly Message[]): Promise<Set<string>> {
    const deleted = new Set<string>();
    for (let start = 0; start < messages.length; start += 10) {
      const batch = messages.slice(start, start + 10);
      const { Successful = [] } = await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: batch.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: this.handleOf(message),
          })),
        }),
      );
      for (const entry of Successful) {
        const id = batch[Number(entry.Id)]?.MessageId;
        if (id === undefined) continue;
        deleted.add(id);
        this.held.delete(id);
      }
    }
    return deleted;
  }

  /** Makes every message still held visible again at once. */
  async release(): Promise<void> {
    const messages = [...this.held.values()];
    this.held.clear();
    for (let start = 0; start < messages.length; start += 10) {
      await this.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: messages.slice(start, start + 10).map((message, index) => ({
            Id: String(index),
            ReceiptHandle: this.handleOf(message),
            VisibilityTimeout: 0,
          })),
        }),
      );
    }
  }

  /** The latest receipt handle: a message received again has a new one. */
  private handleOf(message: Message): string {
    return this.held.get(message.MessageId ?? '')?.ReceiptHandle ?? message.ReceiptHandle ?? '';
  }
}
