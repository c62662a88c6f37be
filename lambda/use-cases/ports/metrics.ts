import type { DeliveryTally } from '../../domain/delivery-tally';

/** The counts operators alarm on and chart (CloudWatch metrics in AWS). */
export interface Metrics {
  /** A job part's outcomes: per outcome, per outcome and reason, per outcome and platform. */
  publishTally(tally: DeliveryTally): void;
  /** Devices that left a full device set for a new one. */
  countDevicesEvicted(count: number): void;
}
