/** Seconds in a day, for TTLs given in days. */
export const DAY_SECONDS = 24 * 60 * 60;

/**
 * A DynamoDB TTL value: the epoch second `seconds` after `from`. DynamoDB deletes an
 * item some time after it (usually within days), so readers that must not see an
 * expired item compare with the clock themselves.
 */
export function expiresAfter(from: Date, seconds: number): number {
  return Math.floor(from.getTime() / 1000) + seconds;
}
