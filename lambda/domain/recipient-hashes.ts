import { createHash } from 'node:crypto';

/**
 * How a tracked job keeps who it is for (user ids or tokens) so a receipt can be
 * checked against it: each recipient hashed with the notification id, the hashes
 * spread over buckets so checking a receipt reads one small item. The storage of the
 * buckets is the tracking store's; the rule is here, so the API (which records how
 * many buckets a job has) and the store (which fills and reads them) agree.
 */

/** Recipient hashes per bucket: a bucket item stays a few KB, so checking a receipt reads one small item. */
const RECIPIENTS_PER_BUCKET = 500;
/** Hex digits of a recipient's hash: 48 bits, so a stranger matches by chance about once in 10^14 / recipients. */
export const RECIPIENT_HASH_DIGITS = 12;

/** A recipient's hash, particular to the notification (the same user hashes differently in each). */
export function recipientHash(notificationId: string, recipient: string): string {
  return createHash('sha256')
    .update(`${notificationId}\n${recipient}`)
    .digest('hex')
    .slice(0, RECIPIENT_HASH_DIGITS);
}

/** The bucket a recipient's hash is kept in, of `buckets`. */
export function bucketOf(hash: string, buckets: number): number {
  return Number.parseInt(hash.slice(0, 8), 16) % buckets;
}

/** How many buckets a job's `recipients` are spread over (its record keeps the number, the receipts check reads one). */
export function recipientBuckets(recipients: number): number {
  return Math.max(1, Math.ceil(recipients / RECIPIENTS_PER_BUCKET));
}

/** Each recipient's hash once, in the bucket it belongs to (sorted, so a bucket is written the same every time). */
export function recipientHashesByBucket(notificationId: string, recipients: readonly string[]): string[][] {
  const buckets = recipientBuckets(recipients.length);
  const hashes = Array.from({ length: buckets }, () => [] as string[]);
  for (const recipient of new Set(recipients)) {
    const hash = recipientHash(notificationId, recipient);
    hashes[bucketOf(hash, buckets)]?.push(hash);
  }
  return hashes.map((bucket) => bucket.sort());
}

/** Whether `hash` is among a bucket's hashes, stored side by side as hex. */
export function bucketHolds(storedHex: string, hash: string): boolean {
  for (let at = 0; at < storedHex.length; at += RECIPIENT_HASH_DIGITS) {
    if (storedHex.slice(at, at + RECIPIENT_HASH_DIGITS) === hash) return true;
  }
  return false;
}
