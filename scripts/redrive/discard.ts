import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { DeadLetterPass } from './dead-letter-queue';
import { reasonOf } from './messages';
import { type JobSummary, summaryOf } from './redrive-once';

export interface DiscardOptions {
  sqs: SQSClient;
  deadLetterQueueUrl: string;
  /**
   * The message ids a dry run listed (RedriveResult.listed): only those may go, so a job
   * that arrived after the operator looked is never discarded unseen.
   */
  listed: readonly Pick<JobSummary, 'messageId' | 'reason'>[];
  /** Only jobs with one of these reasons (required: a discard names what it removes). */
  reasons: ReadonlySet<string>;
  /** Stops the discard (Ctrl-C): stopped before the delete, it deletes nothing. */
  signal?: AbortSignal;
}

export interface DiscardResult {
  deadLetterQueueUrl: string;
  /** The jobs deleted from the DLQ for good. */
  discarded: JobSummary[];
  /** Listed jobs of those reasons that were no longer on the DLQ (redriven or expired since). */
  gone: number;
  /** Jobs of those reasons that the listing did not include (they arrived since): kept. */
  keptUnlisted: number;
  /** Stopped (Ctrl-C) before the delete: nothing was discarded. */
  interrupted: boolean;
}

/**
 * Deletes jobs that can never succeed from the dead-letter queue: one pass, each job
 * both listed by an earlier dry run and of one of the given reasons. Everything else
 * is left as it was.
 */
export async function discardJobs(options: DiscardOptions): Promise<DiscardResult> {
  if (options.reasons.size === 0) throw new Error('Name the reasons of the jobs to discard.');
  const pass = new DeadLetterPass(options.sqs, options.deadLetterQueueUrl);
  try {
    const listed = new Set(
      options.listed.filter((job) => options.reasons.has(job.reason)).map((job) => job.messageId),
    );
    const found = await pass.receiveAll(options.signal);
    const doomed: Message[] = [];
    let keptUnlisted = 0;
    for (const message of found) {
      if (!options.reasons.has(reasonOf(message))) continue;
      if (listed.has(message.MessageId ?? '')) doomed.push(message);
      else keptUnlisted++;
    }
    const interrupted = options.signal?.aborted ?? false;
    const deleted = interrupted ? new Set<string>() : await pass.delete(doomed);
    const discarded = doomed.filter((message) => deleted.has(message.MessageId ?? '')).map(summaryOf);
    const seen = new Set(found.map((message) => message.MessageId));
    return {
      deadLetterQueueUrl: options.deadLetterQueueUrl,
      discarded,
      // A stopped look did not see everything: it cannot tell what is gone.
      gone: interrupted ? 0 : [...listed].filter((id) => !seen.has(id)).length,
      keptUnlisted,
      interrupted,
    };
  } finally {
    await pass.release();
  }
}
