/**
 * How a batch call is repeated for the entries the service left undone (DynamoDB's
 * UnprocessedKeys/UnprocessedItems, SQS's Failed entries): it gives up after `attempts`
 * calls in a row that got nothing done, pausing `firstPauseMs × 2^n` before a repeat
 * after the n-th such call (the services leave entries undone when throttled, so
 * hammering them again at once only repeats the refusal), `firstPauseMs` after a call
 * that got some done.
 */
export interface UnprocessedRetry {
  attempts: number;
  firstPauseMs: number;
  /** The error message when entries are still undone after the last attempt. */
  failure: (undone: number) => string;
}

/**
 * Calls `attempt` with `entries`, then again with whatever it answers was left
 * undone, until nothing is left; throws when `retry.attempts` calls in a row left
 * everything they were given undone. A call that got some done is no failed attempt:
 * DynamoDB also leaves keys unread because a BatchGetItem answer holds at most 16 MB
 * (~1 MB offline) — 100 device sets of 4 096-character FCM tokens take several calls,
 * each of which reads what fits, and counting them as failures threw the whole
 * chunk away after 8 of them.
 */
export async function retryUnprocessed<Entry>(
  entries: readonly Entry[],
  attempt: (entries: readonly Entry[]) => Promise<readonly Entry[] | undefined>,
  retry: UnprocessedRetry,
): Promise<void> {
  let undone: readonly Entry[] | undefined = entries;
  /** Calls in a row that got nothing done. */
  let stalled = 0;
  for (let round = 0; undone?.length; round++) {
    if (stalled >= retry.attempts) throw new Error(retry.failure(undone.length));
    if (round > 0) await new Promise((resolve) => setTimeout(resolve, retry.firstPauseMs * 2 ** stalled));
    const given: number = undone.length;
    undone = await attempt(undone);
    stalled = (undone?.length ?? 0) < given ? 0 : stalled + 1;
  }
}
