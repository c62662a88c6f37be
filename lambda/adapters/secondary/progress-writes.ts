import { DAY_SECONDS, expiresAfter } from '../../domain/expiry';
import { PROGRESS_TTL_DAYS } from './notifications-keys';

/**
 * How the sender's writes to the Notifications table outlast a busy partition, and how
 * long its progress items live: shared by the request records (a lean job's claim) and
 * the chunks' progress.
 */

/** Throttled progress writes are tried again for this long (beyond the SDK's own retries). */
const THROTTLING_PATIENCE_MS = 60_000;

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
]);

/**
 * Runs a progress write, waiting out throttling with a growing, jittered pause.
 * A chunk's claim or completion failing on throttling would fail its message — and a
 * failed completion would send the chunk again — so a busy partition only slows it down.
 */
export async function patientlyThrottled<T>(write: () => Promise<T>): Promise<T> {
  const giveUpAt = Date.now() + THROTTLING_PATIENCE_MS;
  for (let retry = 0; ; retry++) {
    try {
      return await write();
    } catch (error) {
      if (!THROTTLING.has((error as Error).name) || Date.now() > giveUpAt) throw error;
      const pause = Math.min(2_000, 50 * 2 ** retry) * (0.5 + Math.random() / 2);
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

export function progressExpiry(now: Date): number {
  return expiresAfter(now, PROGRESS_TTL_DAYS * DAY_SECONDS);
}
