/**
 * How a batch call is repeated for the entries the service left undone (DynamoDB's
 * UnprocessedKeys/UnprocessedItems, SQS's Failed entries): at most `attempts` calls,
 * pausing `firstPauseMs × 2^n` before the n-th repeat (the services leave entries
 * undone when throttled, so hammering them again at once only repeats the refusal).
 */
export interface UnprocessedRetry {
  attempts: number;
  firstPauseMs: number;
  /** The error message when entries are still undone after the last attempt. */
  failure: (undone: number) => string;
}

/**
 * Calls `attempt` with `entries`, then again with whatever it answers was left
 * undone, until nothing is left; throws when something still is after
 * `retry.attempts` calls.
 */
export async function retryUnprocessed<Entry>(
  entries: readonly Entry[],
  attempt: (entries: readonly Entry[]) => Promise<readonly Entry[] | undefined>,
  retry: UnprocessedRetry,
): Promise<void> {
  let undone: readonly Entry[] | undefined = entries;
  for (let round = 0; undone?.length && round < retry.attempts; round++) {
    if (round > 0) await new Promise((resolve) => setTimeout(resolve, retry.firstPauseMs * 2 ** round));
    undone = await attempt(undone);
  }
  if (undone?.length) throw new Error(retry.failure(undone.length));
}
