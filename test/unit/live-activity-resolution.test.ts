import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DeliveryTally } from '../../lambda/domain/delivery-tally';
import type { LiveActivityTokenState } from '../../lambda/domain/live-activity';
import { activityTarget, pushToStartTarget } from '../../lambda/domain/live-activity-targets';
import type { PushDevice } from '../../lambda/domain/push-device';
import type { SendJob } from '../../lambda/domain/send-job';
import { acceptSendRequest } from '../../lambda/use-cases/accept-send-request';
import { deliverNextPart } from '../support/fake-sender';
import { FAKE_APP, type InMemoryPorts, inMemoryPorts } from '../support/in-memory-ports';

/**
 * Which Live Activity tokens a `liveactivity` job reaches (delivery/live-activity-devices.ts),
 * through the sender on in-memory ports: the tokens filed under its users' push-to-start
 * type or its (user, activity) pairs, each read again right before the push and sent
 * to only while it is still that user's, for that type or activity, in the user's
 * current generation, not expired and not dismissed by an `end`.
 */

let ports: InMemoryPorts;
const HOUR = 3_600;
const nowSeconds = () => Math.floor(Date.now() / 1000);
const token = (n: number) => n.toString(16).padStart(64, 'e');

beforeEach(() => {
  ports = inMemoryPorts();
});

afterEach(() => {
  vi.useRealTimers();
});

let ids = 0;
const startJob = (attributesType: string): SendJob =>
  ({
    notificationId: `n-la-${++ids}`,
    appId: FAKE_APP.appId,
    to: { userIds: ['alice'] },
    apns: { pushType: 'liveactivity' },
    aps: {
      event: 'start',
      'attributes-type': attributesType,
      attributes: { activityId: 'order-1' },
      'content-state': { eta: 10 },
      alert: { title: 'On its way', body: 'Your order left the shop' },
    },
  }) as SendJob;

const activityJob = (event: 'update' | 'end', activityId = 'order-1'): SendJob =>
  ({
    notificationId: `n-la-${++ids}`,
    appId: FAKE_APP.appId,
    to: { activities: [{ userId: 'alice', activityId }] },
    apns: { pushType: 'liveactivity' },
    aps: { event, 'content-state': { eta: 5 } },
  }) as SendJob;

/** Files a token as a registration would: under `target`, its record saying who holds it and until when. */
function file(n: number, userId: string, target: string, state: Partial<LiveActivityTokenState> = {}): void {
  const kind = target.startsWith('pts|') ? 'push-to-start' : 'update';
  const device: PushDevice = {
    token: token(n),
    userId,
    appId: FAKE_APP.appId,
    environment: 'production',
    liveActivity: { kind, target },
  };
  ports.liveActivities.put(device, {
    ownerId: userId,
    liveActivityTarget: target,
    expiresAt: nowSeconds() + HOUR,
    ...state,
  });
}

const pushToStart = (userId: string, type: string) => pushToStartTarget(FAKE_APP.appId, userId, type);
const activity = (userId: string, activityId: string) => activityTarget(FAKE_APP.appId, userId, activityId);

/** Accepts the job and delivers its part; the tokens pushed to and the tally. */
async function send(job: SendJob): Promise<{ pushed: string[]; tally: DeliveryTally }> {
  const before = ports.pushProviders.apnsSent.length;
  await acceptSendRequest(ports, job);
  const tally = await deliverNextPart(ports);
  return { pushed: ports.pushProviders.apnsSent.slice(before).map((sent) => sent.token), tally };
}

describe('the Live Activity tokens a job reaches', () => {
  it('start: its users’ push-to-start tokens for its attributes type — not another type’s, not another user’s', async () => {
    file(1, 'alice', pushToStart('alice', 'DeliveryAttributes'));
    file(2, 'alice', pushToStart('alice', 'SportsAttributes'));
    file(3, 'bob', pushToStart('bob', 'DeliveryAttributes'));
    const { pushed, tally } = await send(startJob('DeliveryAttributes'));
    expect(pushed).toEqual([token(1)]);
    expect(tally.counts).toMatchObject({ accepted: 1, unregistered: 0 });
  });

  it('update: the tokens filed under the (user, activity) pair only — another user’s activity of the same id is not reached', async () => {
    file(1, 'alice', activity('alice', 'order-1'));
    file(2, 'bob', activity('bob', 'order-1'));
    file(3, 'alice', activity('alice', 'order-2'));
    // Listed under alice's activity, but bob's: nobody else's token, whatever activity id they chose.
    file(4, 'bob', activity('alice', 'order-1'));
    const { pushed } = await send(activityJob('update'));
    expect(pushed).toEqual([token(1)]);
  });

  it('a token read again right before the push that is gone, moved, refiled, erased, expired or dismissed: not sent, counted LiveActivityTokenGone', async () => {
    const target = activity('alice', 'order-1');
    file(1, 'alice', target);
    // Listed under alice's activity, but its record says otherwise (the index lags the write).
    file(2, 'alice', target, { ownerId: 'bob' });
    file(3, 'alice', target, { liveActivityTarget: activity('alice', 'order-9') });
    file(4, 'alice', target, { expiresAt: nowSeconds() - 1 });
    file(5, 'alice', target, { dismissAt: nowSeconds() - 1 });
    file(6, 'alice', target, { expiresAt: undefined });
    file(7, 'alice', target);
    // Gone from its record (unregistered, or TTL deleted it) while still listed.
    ports.liveActivities.states.delete(token(7));
    const { pushed, tally } = await send(activityJob('update'));
    expect(pushed).toEqual([token(1)]);
    expect(tally.counts).toMatchObject({ accepted: 1, unregistered: 6 });
    expect(Object.fromEntries(tally.reasons)).toMatchObject({ 'unregistered:LiveActivityTokenGone': 6 });
  });

  it('a token written before its user was erased (an older device generation): not sent', async () => {
    file(1, 'alice', activity('alice', 'order-1'), { generation: 0 });
    ports.deviceRegistry.generations.set('alice', 1);
    const { pushed, tally } = await send(activityJob('update'));
    expect(pushed).toEqual([]);
    expect(tally.counts).toMatchObject({ unregistered: 1 });
  });

  it('an `end` accepted dismisses the activity’s tokens: a later update reaches nobody', async () => {
    file(1, 'alice', activity('alice', 'order-1'));
    expect((await send(activityJob('end'))).pushed).toEqual([token(1)]);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 1_000);
    expect((await send(activityJob('update'))).pushed).toEqual([]);
  });
});
