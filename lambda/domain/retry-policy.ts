/**
 * How devices with no final answer yet are re-queued: exponential backoff from 15 s, with
 * jitter so a burst of 429s does not come back in one wave, honouring APNs's
 * `retry-after`, capped by SQS's 15-minute DelaySeconds. After MAX_DELIVERY_ATTEMPTS
 * the remaining tokens go to the dead-letter queue with their reasons.
 */
export const MAX_DELIVERY_ATTEMPTS = 5;
export const MAX_SQS_DELAY_SECONDS = 900;
export const BASE_DELAY_SECONDS = 15;

/** The delay before retry number `attempt` (1 = first retry). */
export function retryDelaySeconds(
  attempt: number,
  retryAfterSeconds = 0,
  baseDelaySeconds = BASE_DELAY_SECONDS,
  random = Math.random,
): number {
  const backoff = baseDelaySeconds * 2 ** (attempt - 1);
  const jittered = backoff / 2 + random() * (backoff / 2);
  return Math.min(MAX_SQS_DELAY_SECONDS, Math.ceil(Math.max(jittered, retryAfterSeconds)));
}

/**
 * How long to wait before attempt number `attempt` (0: the first, at once) of a write
 * that races others on the same item (registrations, sign-outs and erases of one user
 * or token): a random pause that grows, so that contenders spread out rather than
 * collide again.
 */
export function contentionPauseMs(attempt: number, random = Math.random): number {
  return attempt === 0 ? 0 : random() * Math.min(500, 10 * 2 ** attempt);
}
