/**
 * The parts of fauxqs 1.9's store objects (dist/sqs/sqsStore.js, pinned in
 * package.json) the SQS journal reads and hooks. fauxqs publishes no types for them,
 * so they are written here; they change only when fauxqs is upgraded, and then this
 * file is the list of what to check.
 */

/** A message as fauxqs stores it. */
export interface FauxqsMessage {
  messageId: string;
  body: string;
  md5OfBody: string;
  messageAttributes: Record<string, unknown>;
  md5OfMessageAttributes: string;
  sentTimestamp: number;
  approximateReceiveCount: number;
  approximateFirstReceiveTimestamp?: number;
  delayUntil?: number;
  messageGroupId?: string;
  messageDeduplicationId?: string;
  sequenceNumber?: string;
}

export interface FauxqsReceived {
  MessageId: string;
  ReceiptHandle: string;
}

export interface FauxqsQueue {
  name: string;
  url: string;
  arn: string;
  attributes: Record<string, string>;
  tags: Map<string, string>;
  inflightMessages: Map<string, { message: FauxqsMessage; visibilityDeadline: number }>;
  enqueue(message: FauxqsMessage): void;
  dequeue(maxCount: number, visibilityTimeout?: number, dlqResolver?: unknown): FauxqsReceived[];
  deleteMessage(receiptHandle: string): boolean;
  purge(): void;
  setAttributes(attributes: Record<string, string>): void;
  inspectMessages(): {
    ready: FauxqsMessage[];
    delayed: FauxqsMessage[];
    inflight: { message: FauxqsMessage; visibilityDeadline: number }[];
  };
}

export interface FauxqsStore {
  host: string;
  queues: Map<string, FauxqsQueue>;
  createQueue(
    name: string,
    url: string,
    arn: string,
    attributes?: Record<string, string>,
    tags?: Record<string, string>,
  ): FauxqsQueue;
  deleteQueue(url: string): boolean;
  buildQueueUrl(name: string, port: string, requestHost: string, region: string): string;
}
