import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { DeliveryTally } from './domain/delivery-tally';
import type { OutcomeName } from './domain/outcomes';
import {
  DEVICES_EVICTED,
  JOBS_DEAD_LETTERED,
  OUTCOME_METRICS as METRIC_NAMES,
  METRICS_SERVICE,
  PLATFORM_DIMENSION,
  REASON_DIMENSION,
} from './metric-names';

/** CloudWatch metrics (embedded metric format); namespace from POWERTOOLS_METRICS_NAMESPACE. */
// Pure: a bundle whose handler publishes no metric (most routes) leaves the client out.
export const metrics = /* @__PURE__ */ new Metrics({ serviceName: METRICS_SERVICE });

/**
 * Publishes a job's tally: one metric per outcome, plus one per outcome and reason
 * (dimension `reason`) so alarms and dashboards can tell BadDeviceToken from 410.
 */
export function publishTally(tally: DeliveryTally): void {
  let stored = 0;
  for (const [outcome, count] of Object.entries(tally.counts) as [OutcomeName, number][]) {
    if (count > 0) {
      metrics.addMetric(METRIC_NAMES[outcome], MetricUnit.Count, count);
      stored++;
    }
  }
  for (const [key, count] of tally.reasons) {
    const [outcome, reason] = key.split(':') as [OutcomeName, string];
    const single = metrics.singleMetric();
    single.addDimension(REASON_DIMENSION, reason);
    single.addMetric(METRIC_NAMES[outcome], MetricUnit.Count, count);
  }
  // The same outcomes by platform (ios, android): metrics of their own, so the ones
  // alarms match on their exact dimensions stay as they are.
  for (const [key, count] of tally.platforms) {
    const [outcome, platform] = key.split(':') as [OutcomeName, string];
    const single = metrics.singleMetric();
    single.addDimension(PLATFORM_DIMENSION, platform);
    single.addMetric(METRIC_NAMES[outcome], MetricUnit.Count, count);
  }
  for (const { reason } of tally.jobsDeadLettered) {
    const single = metrics.singleMetric();
    single.addDimension(REASON_DIMENSION, reason);
    single.addMetric(JOBS_DEAD_LETTERED, MetricUnit.Count, 1);
  }
  if (stored > 0) metrics.publishStoredMetrics();
}

/** Counts devices that left a full device set for a new one (published at once: registrations publish nothing else). */
export function countDevicesEvicted(count: number): void {
  const single = metrics.singleMetric();
  single.addMetric(DEVICES_EVICTED, MetricUnit.Count, count);
}
