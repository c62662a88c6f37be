import { describe, expect, it } from 'vitest';
import {
  type ChunkSummary,
  type RecordedSummary,
  reasonTotals,
  unreachableReason,
  untrackedCounts,
} from '../../lambda/domain/send-status';

const summary = (part: string, attempt: number, fields: Partial<ChunkSummary>): RecordedSummary => ({
  part,
  attempt,
  summary: { users: 0, usersWithoutDevices: 0, devices: 0, outcomes: {}, reasons: {}, ...fields },
});

describe('an untracked send’s status from its chunks’ tallies', () => {
  it('counts a retried device once, as queued until a retry chunk handles it, then by its final outcome', () => {
    const first = summary('0', 0, {
      users: 3,
      usersWithoutDevices: 1,
      devices: 4,
      outcomes: { accepted: 2, retried: 2 },
      reasons: { 'retried:TooManyRequests': 2 },
    });
    expect(untrackedCounts([first])).toMatchObject({ devices: 4, accepted: 2, queued: 2, failed: 0 });
    const retry = summary('0/0', 1, {
      devices: 2,
      outcomes: { accepted: 1, retried: 1 },
      reasons: { 'retried:TooManyRequests': 1 },
    });
    expect(untrackedCounts([first, retry])).toMatchObject({ devices: 4, accepted: 3, queued: 1 });
    const last = summary('0/0/0', 2, {
      devices: 1,
      outcomes: { deadLettered: 1 },
      reasons: { 'deadLettered:TooManyRequests': 1 },
    });
    expect(untrackedCounts([first, retry, last])).toMatchObject({
      devices: 4,
      accepted: 3,
      queued: 0,
      failed: 1,
    });
    // A re-push round sends again to accepted devices: no status changes.
    const round = summary('0/0r1', 0, { devices: 3, outcomes: { accepted: 3 } });
    expect(untrackedCounts([first, retry, last, round])).toMatchObject({ accepted: 3 });
    expect(reasonTotals([first, retry, last, round])).toEqual({
      'retried:TooManyRequests': 3,
      'deadLettered:TooManyRequests': 1,
    });
  });

  it('says why nobody was reached only once the send is complete, or when it was dead-lettered', () => {
    const nobody = summary('0', 0, { users: 2, usersWithoutDevices: 2 });
    const facts = {
      appId: 'com.example.app',
      reach: { users: 2, usersWithoutDevices: 2, devices: 0 },
      counts: untrackedCounts([nobody]),
      reasons: {},
      deadLettered: [],
    };
    expect(unreachableReason({ ...facts, complete: false })).toBeUndefined();
    expect(unreachableReason({ ...facts, complete: true })).toBe(
      'None of the 2 users this notification names has a device registered for app com.example.app.',
    );
    expect(
      unreachableReason({
        ...facts,
        complete: undefined,
        deadLettered: [{ part: '0', attempt: 0, reason: 'UnknownApp', detail: 'not configured', at: '' }],
      }),
    ).toMatch(/^The job was moved to the dead-letter queue \(UnknownApp: not configured\)/);
  });
});
