import { MAX_SQS_MESSAGE_BYTES } from '../lambda/domain/queue-message';

/** The sender Lambda and its SQS event source mapping. */
export const SENDER = {
  /**
   * Time for a batch: starting chunks stops when what is left only covers the worst
   * chunk (four 10 s APNs timeouts in a row and its bookkeeping, 50 s), so 120 s
   * leaves 70 s of sending per invocation.
   */
  timeoutSeconds: 120,
  /** Memory also buys CPU: 1024 MB is about half a vCPU, enough for ~5k APNs requests/s. */
  memoryMb: 1024,
  /**
   * Messages per invocation; each is a job part of up to 1 000 users, or one chat
   * message's notification. Without a batching window a poll returns at most 10.
   */
  batchSize: 10,
  /**
   * No batching window, for chat latency: a notification leaves as soon as a poll
   * returns it, not after a wait of up to this many seconds (the window counts in whole
   * seconds: 1 s is already far above the ~20 ms a push takes). At chat volume batches
   * fill by themselves, and the one write that records the lean jobs an invocation
   * finished (docs/decisions/lean-jobs.md) is shared by up to 10 jobs. When traffic is thin
   * a message may get an invocation of its own: that write is then its job's alone, plus
   * the invocation's price — costs that only show when there is little traffic to pay
   * for. What each comes to: docs/costs.md (measured by `npm run bench`).
   */
  maxBatchingWindowSeconds: 0,
  /**
   * Invocations at once by default (configurable per deployment); also caps the number of
   * warm APNs connections (two per app per invocation). Leaves room for the API's functions on
   * a new account, whose concurrency quota is often 10.
   */
  maxConcurrency: 5,
} as const;

/**
 * Settings of the send queue and its dead-letter queue, shared by the CDK stack and
 * the offline stack.
 */
export const SEND_QUEUE = {
  /** Deliveries of one message before SQS moves it to the DLQ (crashes, timeouts, throttling). */
  maxReceiveCount: 5,
  /** Seconds a received message stays hidden: 6 × the sender's timeout, as AWS recommends for event sources. */
  visibilityTimeoutSeconds: 6 * SENDER.timeoutSeconds,
  retentionDays: 4,
  deadLetterRetentionDays: 14,
  /**
   * The largest message either queue takes, set on both rather than left to SQS's default:
   * the sender cuts every part it writes to fit this (MAX_PART_BYTES) and dead-letters
   * messages up to it, but a queue created before SQS took 1 MiB (August 2025) keeps
   * 256 KiB until told otherwise — a retry or re-push round of ~60 long FCM tokens would
   * then never reach the queue.
   */
  maxMessageBytes: MAX_SQS_MESSAGE_BYTES,
} as const;
