import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  defaultListingDirectory,
  LISTING_VALID_MINUTES,
  loadListing,
  saveListing,
} from '../../scripts/redrive/listing-file';

const DLQ = 'https://sqs.eu-west-1.amazonaws.com/123456789012/prod-pushgate-dlq';
let temp: string;
let savedTmpdir: string | undefined;

beforeEach(() => {
  temp = mkdtempSync(join(tmpdir(), 'pushgate-listing-test-'));
  savedTmpdir = process.env.TMPDIR;
  process.env.TMPDIR = temp;
});
afterEach(() => {
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
  rmSync(temp, { recursive: true, force: true });
});

describe('the dry run listing a discard goes by', () => {
  it('is kept in a folder of this user only (on a shared machine /tmp is everyone’s)', () => {
    const directory = defaultListingDirectory();
    expect(dirname(directory)).toBe(temp);
    const { uid, username } = userInfo();
    expect(basename(directory)).toBe(`pushgate-redrive-${uid >= 0 ? uid : username}`);
    const file = saveListing({ deadLetterQueueUrl: DLQ, listedAt: new Date().toISOString(), jobs: [] });
    expect(dirname(file)).toBe(directory);
    expect(statSync(directory).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('is read back for the same queue within its hour, and refused after it', () => {
    const listedAt = new Date('2026-12-06T02:00:00Z');
    const jobs = [{ messageId: 'm-1', reason: 'InvalidJob' }];
    saveListing({ deadLetterQueueUrl: DLQ, listedAt: listedAt.toISOString(), jobs });
    const within = new Date(listedAt.getTime() + LISTING_VALID_MINUTES * 60_000);
    expect(loadListing(DLQ, undefined, within)).toMatchObject({ jobs });
    expect(loadListing(DLQ, undefined, new Date(within.getTime() + 1))).toHaveProperty('refused');
    expect(loadListing(`${DLQ}-other`, undefined, within)).toHaveProperty('refused');
  });
});
