/** Seconds in a day, for TTLs given in days. */
export const DAY_SECONDS = 24 * 60 * 60;

/**
 * A DynamoDB TTL value: the epoch second `seconds` after `from`. DynamoDB deletes an
 * item some time after it (usually within days), so readers that must not see an
 * expired item compare with the clock themselves.
 */
export function expiresAfter(from: Date, seconds: number): number {
  return epochSeconds(from) + seconds;
}

/** A date as epoch seconds, the unit of DynamoDB TTLs and of APNs timestamps. */
export function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

/**
 * Whether an item's TTL has passed. DynamoDB deletes expired items late (often days
 * later), so an item past it must be treated as gone by whoever reads it. An item
 * without a TTL (undefined) never expires.
 */
export function hasExpired(expiresAt: number | undefined, now: Date): boolean {
  return expiresAt !== undefined && expiresAt <= epochSeconds(now);
}
