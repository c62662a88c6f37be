import {
  GetQueueAttributesCommand,
  type Message,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { DeadLetterPass } from './dead-letter-queue';
import { attributesToKeep, batches, detailOf, notificationIdOf, reasonOf } from './messages';

export interface Queues {
  sendQueueUrl: string;
  deadLetterQueueUrl: string;
}

export interface ReasonGroup {
  count: number;
  /** A few notification ids, to look them up (GET /v1/notifications/{id}). */
  notificationIds: string[];
  /** The first job's failure detail. */
  detail?: string;
}

/** A job as a report names it: never its payload. */
export interface JobSummary {
  /** The SQS message id on the DLQ (what `--discard` matches a listing by). */
  messageId: string;
  reason: string;
  notificationId?: string;
  detail?: string;
}

export interface RedriveResult {
  dryRun: boolean;
  deadLetterQueueUrl: string;
  sendQueueUrl: string;
  /** Jobs seen on the DLQ when the pass started, by reason. */
  byReason: Record<string, ReasonGroup>;
  found: number;
  /** Every job seen on the DLQ when the pass started (what a later `--discard` may remove). */
  listed: JobSummary[];
  moved: number;
  /** Sends the send queue refused: those jobs stay on the DLQ. */
  failed: number;
  /** Sent but not deleted from the DLQ: they will be seen again (the sender skips what it completed). */
  notDeleted: number;
  /** Moved jobs that came back to the DLQ while the pass watched: they stay there, not moved again. */
  failedAgain: JobSummary[];
  /** Moved jobs not seen back before the watch ended: delivered, or still being sent. */
  notSeenBack: number;
  /** Whether the watch ended because the send queue had nothing left, rather than at its deadline. */
  drained: boolean;
  /**
   * The pass was stopped (Ctrl-C) before its end: the batch under way was finished, the rest
   * was not moved, and every job it held was made visible again on the DLQ.
   */
  interrupted: boolean;
}

export interface RedriveOptions {
  sqs: SQSClient;
  queues: Queues;
  /** Only list, by reason; change nothing. */
  dryRun?: boolean;
  /** Move only jobs with one of these reasons. */
  reasons?: ReadonlySet<string>;
  /** Move at most this many. */
  max?: number;
  /**
   * After moving, how long to watch for moved jobs that fail again (default 60 s; 0: do
   * not watch). The watch ends sooner once every moved job is back or the send queue is idle.
   */
  waitSeconds?: number;
  /**
   * Stops the pass early (the command line's Ctrl-C): no further batch is moved, the watch
   * ends, and what the pass holds is released — nothing stays hidden, nothing is sent twice.
   */
  signal?: AbortSignal;
  /** Told once the jobs are moved, before the watch (the command line says it is watching). */
  onMoved?: (moved: number, watchSeconds: number) => void;
}

export const DEFAULT_WAIT_SECONDS = 60;

/**
 * One pass over the dead-letter queue: everything on it when the pass starts is
 * received and held; the selected jobs are sent back to the send queue (body and
 * attributes, minus the failure attributes) and deleted from the DLQ once sent; then
 * the pass watches for them to fail again. A job that fails again arrives under a new
 * message id — it is recognised by its body or notification id, reported, and left
 * on the DLQ: a pass never moves a job twice, so it always ends.
 */
export async function redriveOnce(options: RedriveOptions): Promise<RedriveResult> {
  const { sqs, queues } = options;
  const dryRun = options.dryRun ?? false;
  const result: RedriveResult = {
    dryRun,
    deadLetterQueueUrl: queues.deadLetterQueueUrl,
    sendQueueUrl: queues.sendQueueUrl,
    byReason: {},
    found: 0,
    listed: [],
    moved: 0,
    failed: 0,
    notDeleted: 0,
    failedAgain: [],
    notSeenBack: 0,
    drained: false,
    interrupted: false,
  };
  const { signal } = options;
  const pass = new DeadLetterPass(sqs, queues.deadLetterQueueUrl);
  try {
    const found = await pass.receiveAll(signal);
    const selected: Message[] = [];
    for (const message of found) {
      const reason = reasonOf(message);
      tally(result, reason, message);
      const wanted =
        !dryRun &&
        (options.reasons === undefined || options.reasons.has(reason)) &&
        (options.max === undefined || selected.length < options.max);
      if (wanted) selected.push(message);
    }
    if (dryRun || selected.length === 0 || signal?.aborted) {
      result.interrupted = signal?.aborted ?? false;
      return result;
    }

    // Each batch is deleted from the DLQ as soon as it is sent: a pass stopped (or failing)
    // between batches leaves no job both sent and still on the DLQ.
    const moved: Message[] = [];
    for (const batch of batches(selected)) {
      if (signal?.aborted) break;
      const sent = await sendBack(sqs, queues, batch, result);
      const deleted = await pass.delete(sent);
      moved.push(...sent);
      result.moved += sent.length;
      result.notDeleted += sent.length - deleted.size;
    }

    const waitSeconds = options.waitSeconds ?? DEFAULT_WAIT_SECONDS;
    options.onMoved?.(result.moved, waitSeconds);
    if (waitSeconds > 0 && moved.length > 0 && !signal?.aborted) {
      await watchForReturns(sqs, queues, pass, moved, waitSeconds, result, signal);
    }
    result.notSeenBack = moved.length - result.failedAgain.length;
    result.interrupted = signal?.aborted ?? false;
    return result;
  } finally {
    await pass.release();
  }
}

/** Sends one batch to the send queue; answers the messages that were sent. */
async function sendBack(
  sqs: SQSClient,
  queues: Queues,
  batch: Message[],
  result: RedriveResult,
): Promise<Message[]> {
  const sent = await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queues.sendQueueUrl,
      Entries: batch.map((message, index) => {
        const attributes = attributesToKeep(message);
        return {
          Id: String(index),
          MessageBody: message.Body ?? '',
          ...(attributes === undefined ? {} : { MessageAttributes: attributes }),
        };
      }),
    }),
  );
  const succeeded = new Set((sent.Successful ?? []).map((entry) => Number(entry.Id)));
  result.failed += batch.length - succeeded.size;
  return batch.filter((_, index) => succeeded.has(index));
}

/**
 * Receives what arrives on the DLQ after the move and matches it to the moved jobs,
 * until each one is back, the send queue has nothing left in flight or delayed (twice in
 * a row, then one last look), or the time is up. Everything received stays on the DLQ.
 */
async function watchForReturns(
  sqs: SQSClient,
  queues: Queues,
  pass: DeadLetterPass,
  moved: readonly Message[],
  waitSeconds: number,
  result: RedriveResult,
  signal: AbortSignal | undefined,
): Promise<void> {
  const waiting = new Map(moved.map((message) => [message.MessageId ?? '', message]));
  const deadline = Date.now() + waitSeconds * 1000;
  let idleChecks = 0;
  const match = (arrived: Message) => {
    const id = notificationIdOf(arrived);
    for (const [key, job] of waiting) {
      if (job.Body === arrived.Body || (id !== undefined && notificationIdOf(job) === id)) {
        waiting.delete(key);
        result.failedAgain.push(summaryOf(arrived));
        return;
      }
    }
  };
  while (waiting.size > 0 && Date.now() < deadline && signal?.aborted !== true) {
    const arrived = await pass.receive(1);
    for (const message of arrived) match(message);
    if (arrived.length > 0) {
      idleChecks = 0;
      continue;
    }
    idleChecks = (await sendQueueIdle(sqs, queues.sendQueueUrl)) ? idleChecks + 1 : 0;
    if (idleChecks >= 2) {
      for (const message of await pass.receive(1)) match(message);
      result.drained = true;
      return;
    }
  }
  result.drained = waiting.size === 0;
}

/** Nothing waiting, in flight or delayed on the send queue (approximate: SQS's own counts). */
async function sendQueueIdle(sqs: SQSClient, queueUrl: string): Promise<boolean> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0) ===
    0
  );
}

export function summaryOf(message: Message): JobSummary {
  const notificationId = notificationIdOf(message);
  const detail = detailOf(message);
  return {
    messageId: message.MessageId ?? '',
    reason: reasonOf(message),
    ...(notificationId === undefined ? {} : { notificationId }),
    ...(detail === undefined ? {} : { detail }),
  };
}

function tally(result: RedriveResult, reason: string, message: Message): void {
  result.found++;
  result.listed.push(summaryOf(message));
  const group = result.byReason[reason] ?? { count: 0, notificationIds: [] };
  result.byReason[reason] = group;
  group.count++;
  const id = notificationIdOf(message);
  if (id !== undefined && group.notificationIds.length < 3 && !group.notificationIds.includes(id))
    group.notificationIds.push(id);
  const detail = detailOf(message);
  if (group.detail === undefined && detail !== undefined) group.detail = detail;
}
