import { OUTCOME_NAMES, type OutcomeName } from './outcomes';
import { type PushDevice, platformOf } from './push-device';
import type { ChunkSummary } from './send-status';

/** Counts per outcome and per reason, for metrics, logs and the job's status. */
export class DeliveryTally {
  readonly counts = Object.fromEntries(OUTCOME_NAMES.map((outcome) => [outcome, 0])) as Record<
    OutcomeName,
    number
  >;
  readonly reasons = new Map<string, number>();
  /** Outcomes of devices pushed to, by `<outcome>:<platform>` (the metrics' `platform` dimension). */
  readonly platforms = new Map<string, number>();
  jobsDeadLettered: { reason: string }[] = [];
  /**
   * The chunk's reach: users named, users with no device to push to, and devices
   * handled (pushed to or dropped). Not "recipients": a device is never one.
   */
  readonly reach = { users: 0, usersWithoutDevices: 0, devices: 0 };

  add(outcome: OutcomeName, reason?: string, count = 1): void {
    this.counts[outcome] += count;
    if (reason !== undefined) {
      const key = `${outcome}:${reason}`;
      this.reasons.set(key, (this.reasons.get(key) ?? 0) + count);
    }
  }

  /** Counts a device's outcome once more under its platform (besides `add`, which counts it). */
  countPlatform(outcome: OutcomeName, device: Pick<PushDevice, 'platform'>): void {
    const key = `${outcome}:${platformOf(device)}`;
    this.platforms.set(key, (this.platforms.get(key) ?? 0) + 1);
  }

  /** Adds a chunk's tally into its job part's. */
  merge(other: DeliveryTally): void {
    for (const [outcome, count] of Object.entries(other.counts) as [OutcomeName, number][])
      this.counts[outcome] += count;
    for (const [key, count] of other.reasons) this.reasons.set(key, (this.reasons.get(key) ?? 0) + count);
    for (const [key, count] of other.platforms)
      this.platforms.set(key, (this.platforms.get(key) ?? 0) + count);
    this.jobsDeadLettered.push(...other.jobsDeadLettered);
    this.reach.users += other.reach.users;
    this.reach.usersWithoutDevices += other.reach.usersWithoutDevices;
    this.reach.devices += other.reach.devices;
  }

  /** The tally as a chunk's completion record keeps it (domain/send-status.ts). */
  summary(): ChunkSummary {
    return {
      ...this.reach,
      outcomes: Object.fromEntries(Object.entries(this.counts).filter(([, count]) => count > 0)),
      reasons: Object.fromEntries(this.reasons),
    };
  }
}
