import { mapConcurrent } from '../../domain/concurrency';
import { dismissalAfterEnd, isCurrentLiveActivityDevice } from '../../domain/live-activity';
import { activityTarget, pushToStartTarget } from '../../domain/live-activity-targets';
import type { PushDevice } from '../../domain/push-device';
import { carriedDevices } from './devices';
import type { Chunk, Delivery } from './plan';

/** Parallel DynamoDB reads when resolving users or activities to Live Activity tokens. */
const QUERY_CONCURRENCY = 16;

/**
 * The Live Activity tokens a chunk of a `liveactivity` job reaches (step 3, before
 * sending): for `start`, the push-to-start tokens its users registered for
 * `aps["attributes-type"]`; for `update` and `end`, the update tokens each named
 * user registered for that activity — nobody else's, whatever id they chose; for a
 * retry, the tokens it carries. Each one is then read again, strongly consistent,
 * and sent to only while it still belongs to the same user and the same type or
 * activity (the index may lag a move), no erase of the user has taken it (its
 * device generation, read in one request per chunk), no `end` has dismissed it and
 * it has not expired (TTL deletes late); the others are counted as gone.
 */
export async function resolveLiveActivityDevices(delivery: Delivery, chunk: Chunk): Promise<PushDevice[]> {
  const { job } = delivery.jobPart;
  const { liveActivities, deviceRegistry } = delivery.ports;
  let candidates: PushDevice[] = [];
  if ('devices' in chunk) candidates = carriedLiveActivityDevices(delivery, chunk.devices);
  else if ('users' in chunk) {
    const attributesType = String(job.aps['attributes-type'] ?? '');
    const perUser = await mapConcurrent(chunk.users, QUERY_CONCURRENCY, (userId) =>
      liveActivities.listPushToStartDevices(job.appId, userId, attributesType),
    );
    candidates = perUser.flat();
  } else if ('activities' in chunk) {
    const perActivity = await mapConcurrent(chunk.activities, QUERY_CONCURRENCY, async (activity) => {
      const devices = await liveActivities.listActivityDevices(
        job.appId,
        activity.userId,
        activity.activityId,
      );
      return devices.filter((device) => device.userId === activity.userId);
    });
    candidates = perActivity.flat();
  }
  const now = new Date();
  const generations = await deviceRegistry.userGenerations([
    ...new Set(candidates.map((device) => device.userId)),
  ]);
  const current = await mapConcurrent(candidates, QUERY_CONCURRENCY, async (device) =>
    isCurrentLiveActivityDevice(
      device,
      await liveActivities.readLiveActivityToken(device),
      now,
      generations.get(device.userId) ?? 0,
    ),
  );
  const gone = current.filter((isCurrent) => !isCurrent).length;
  if (gone > 0) delivery.tally.add('unregistered', 'LiveActivityTokenGone', gone);
  return candidates.filter((_, i) => current[i]);
}

/**
 * After an `end` APNs accepted: the activity's update tokens reach nobody any more —
 * at once, or from the `dismissal-date` on when it lies ahead. Tokens whose `end`
 * is being retried keep theirs until it is accepted.
 */
export async function afterLiveActivityEnd(delivery: Delivery, accepted: PushDevice[]): Promise<void> {
  const { job } = delivery.jobPart;
  if (job.apns?.pushType !== 'liveactivity' || job.aps.event !== 'end') return;
  const dismissAt = dismissalAfterEnd(job.aps, new Date());
  await mapConcurrent(accepted, QUERY_CONCURRENCY, (device) =>
    delivery.ports.liveActivities.endActivityToken(device, dismissAt),
  );
}

/**
 * The Live Activity tokens a retry carries that the job addresses: filed under one
 * of its users' push-to-start key for the job's attributes type, or under one of its
 * (user, activity) pairs. Any other was not put there by the sender: counted, dropped.
 */
function carriedLiveActivityDevices(delivery: Delivery, devices: readonly PushDevice[]): PushDevice[] {
  const { job } = delivery.jobPart;
  const { to } = job;
  const attributesType = String(job.aps['attributes-type'] ?? '');
  const addressed = new Set(
    'userIds' in to
      ? to.userIds.map((userId) => pushToStartTarget(job.appId, userId, attributesType))
      : 'activities' in to
        ? to.activities.map(({ userId, activityId }) => activityTarget(job.appId, userId, activityId))
        : [],
  );
  const ofTheJob = carriedDevices(delivery, devices);
  const kept = ofTheJob.filter(
    (device) => device.liveActivity !== undefined && addressed.has(device.liveActivity.target),
  );
  const strangers = ofTheJob.length - kept.length;
  if (strangers > 0) delivery.tally.add('unregistered', 'NotARecipient', strangers);
  return kept;
}
