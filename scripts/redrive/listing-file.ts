import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { JobSummary } from './redrive-once';

/**
 * The last dry run's listing of a DLQ, kept on the operator's machine: `--discard` removes
 * only jobs it names, so nothing is discarded that the operator has not seen listed.
 */
export interface Listing {
  deadLetterQueueUrl: string;
  listedAt: string;
  jobs: Pick<JobSummary, 'messageId' | 'reason' | 'notificationId'>[];
}

/** How long a listing stays good for a discard: long enough to read it, short enough to still be true. */
export const LISTING_VALID_MINUTES = 60;

function fileOf(deadLetterQueueUrl: string, directory: string): string {
  const key = createHash('sha256').update(deadLetterQueueUrl).digest('hex').slice(0, 16);
  return join(directory, `${key}.json`);
}

/**
 * One folder per user: on a shared machine (a bastion host) /tmp is shared, and a folder
 * another operator created first is not writable — the dry run failed after its look —
 * nor theirs a listing to discard by.
 */
export function defaultListingDirectory(): string {
  const { uid, username } = userInfo();
  return join(tmpdir(), `pushgate-redrive-${uid >= 0 ? uid : username}`);
}

export function saveListing(listing: Listing, directory = defaultListingDirectory()): string {
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const file = fileOf(listing.deadLetterQueueUrl, directory);
  writeFileSync(file, JSON.stringify(listing), { mode: 0o600 });
  return file;
}

/** The listing of this DLQ, or why there is none to discard by. */
export function loadListing(
  deadLetterQueueUrl: string,
  directory = defaultListingDirectory(),
  now = new Date(),
): Listing | { refused: string } {
  let listing: Listing;
  try {
    listing = JSON.parse(readFileSync(fileOf(deadLetterQueueUrl, directory), 'utf8')) as Listing;
  } catch {
    return { refused: 'No dry-run listing of this dead-letter queue: run with --dry-run first and read it.' };
  }
  const ageMinutes = (now.getTime() - Date.parse(listing.listedAt)) / 60_000;
  if (listing.deadLetterQueueUrl !== deadLetterQueueUrl || !(ageMinutes <= LISTING_VALID_MINUTES)) {
    return {
      refused: `The last dry-run listing is older than ${LISTING_VALID_MINUTES} minutes: run with --dry-run again and read it.`,
    };
  }
  return listing;
}
