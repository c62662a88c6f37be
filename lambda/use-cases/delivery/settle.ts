import type { PushAnswer } from '../../domain/apns-answer';
import { mapConcurrent } from '../../domain/concurrency';
import { tokenHash } from '../../domain/device-token';
import { type OutcomeName, recordedStatus } from '../../domain/outcomes';
import type { PushDevice } from '../../domain/push-device';
import type { RecordedStatus } from '../../domain/tracking';
import { logger } from '../../observability';
import type { Delivery } from './plan';

/** Parallel DynamoDB writes when settling a chunk's devices. */
const WRITE_CONCURRENCY = 16;

export interface Retry {
  device: PushDevice;
  reason: string;
  retryAfterSeconds?: number;
}

export interface Settled {
  accepted: PushDevice[];
  retries: Retry[];
  /** Each device's status from this chunk, recorded with the chunk's completion when the job is tracked. */
  statuses: RecordedStatus[];
}

/**
 * Step 4, settle: each device ends in its outcome, counted once — accepted; pruned
 * (an invalid token; a 410 only if the token was not registered again after APNs's
 * timestamp, otherwise kept); or due for a retry (step 5 re-queues or dead-letters
 * it). `pushToDevices` has already stopped the job on a fatal answer.
 */
export async function settleAnswers(
  delivery: Delivery,
  devices: PushDevice[],
  answers: PushAnswer[],
): Promise<Settled> {
  const settled: Settled = { accepted: [], retries: [], statuses: [] };
  await mapConcurrent(devices, WRITE_CONCURRENCY, (device, i) =>
    settleOne(delivery, device, answers[i] as PushAnswer, settled),
  );
  return settled;
}

async function settleOne(
  delivery: Delivery,
  device: PushDevice,
  answer: PushAnswer,
  settled: Settled,
): Promise<void> {
  const { tally, ports } = delivery;
  const record = (outcome: OutcomeName, reason?: string) =>
    settled.statuses.push(recordedStatus(device, outcome, reason));
  switch (answer.kind) {
    case 'accepted':
      tally.add('accepted');
      tally.countPlatform('accepted', device);
      settled.accepted.push(device);
      record('accepted');
      return;
    case 'invalid-token': {
      const since = answer.timestamp === undefined ? undefined : new Date(answer.timestamp);
      const pruned = device.liveActivity
        ? await ports.liveActivities.pruneLiveActivityToken(device, since)
        : await ports.deviceRegistry.pruneDevice(device, since);
      const ended = pruned ? 'pruned' : 'kept';
      tally.add(ended, answer.reason);
      tally.countPlatform(ended, device);
      record(ended, answer.reason);
      logger.info(pruned ? 'pruned invalid token' : 'kept token re-registered after APNs invalidated it', {
        token: tokenHash(device.token),
        reason: answer.reason,
      });
      return;
    }
    case 'retryable':
      // Retried unless it was the last attempt: requeueRetries records it dead-lettered then.
      record('retried', answer.reason);
      settled.retries.push({
        device,
        reason: answer.reason,
        ...(answer.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: answer.retryAfterSeconds }),
      });
      return;
    default:
      throw new Error(
        `a fatal answer (${answer.reason}) reached settling; the send step stops the job first`,
      );
  }
}
