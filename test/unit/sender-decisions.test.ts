import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { PushAnswer } from '../../lambda/domain/apns-answer';
import { DeliveryTally } from '../../lambda/domain/delivery-tally';
import { tokenHash } from '../../lambda/domain/device-token';
import type { JobPart } from '../../lambda/domain/job-part';
import type { PushDevice } from '../../lambda/domain/push-device';
import { MAX_DELIVERY_ATTEMPTS, MAX_SQS_DELAY_SECONDS } from '../../lambda/domain/retry-policy';
import type { SendJob } from '../../lambda/domain/send-job';
import type { Delivery } from '../../lambda/use-cases/delivery/plan';
import { requeueRetries, scheduleRepush } from '../../lambda/use-cases/delivery/requeue';
import { settleAnswers } from '../../lambda/use-cases/delivery/settle';
import { type InMemoryPorts, inMemoryPorts } from '../support/in-memory-ports';

/**
 * The sender's decisions after APNs has answered — settle (step 4) and requeue
 * (step 5) — on the in-memory ports, with pruning and the queue replaced by recording
 * doubles, so each rule is checked on its own, without the embedded services.
 */
const pruneDevice = vi.fn(async (_device: unknown, _since?: Date) => true);
const pruneLiveActivityToken = vi.fn(async (_device: unknown, _since?: Date) => true);
const enqueue = vi.fn(async (_messages: readonly { body: string; delaySeconds?: number }[]) => {});
const deadLetter = vi.fn(async (_body: string, _reason: string, _detail: string) => {});

function ports(): InMemoryPorts {
  const fakes = inMemoryPorts();
  fakes.deviceRegistry.pruneDevice = pruneDevice;
  fakes.liveActivities.pruneLiveActivityToken = pruneLiveActivityToken;
  fakes.sendQueue.enqueue = enqueue;
  fakes.sendQueue.deadLetter = deadLetter;
  return fakes;
}

const device = (n: number, extra: Partial<PushDevice> = {}): PushDevice => ({
  token: n.toString(16).padStart(64, '0'),
  userId: `user-${n}`,
  appId: 'com.example.app',
  environment: 'production',
  ...extra,
});

function delivery(jobPart: Partial<JobPart> = {}, track?: SendJob['track']): Delivery {
  const job = {
    notificationId: 'n-1',
    appId: 'com.example.app',
    to: { userIds: ['user-1'] },
    aps: { alert: 'hi' },
    ...(track === undefined ? {} : { track }),
  } as unknown as SendJob;
  return {
    ports: ports(),
    jobPart: { pushgate: 'work/v1', job, part: '0', attempt: 0, ...jobPart },
    tally: new DeliveryTally(),
  } as unknown as Delivery;
}

beforeEach(() => {
  vi.clearAllMocks();
  pruneDevice.mockResolvedValue(true);
});

describe('settling what APNs answered', () => {
  it('accepted devices are accepted; invalid tokens pruned (a 410 with its timestamp); retryable ones queued', async () => {
    const run = delivery();
    const devices = [device(1), device(2), device(3), device(4)];
    const outcomes: PushAnswer[] = [
      { kind: 'accepted' },
      { kind: 'invalid-token', reason: 'Unregistered', timestamp: 1_700_000_000_000 },
      { kind: 'invalid-token', reason: 'BadDeviceToken' },
      { kind: 'retryable', reason: 'TooManyRequests', retryAfterSeconds: 120 },
    ] as PushAnswer[];
    const settled = await settleAnswers(run, devices, outcomes);
    expect(settled.accepted).toEqual([devices[0]]);
    expect(settled.retries).toEqual([
      { device: devices[3], reason: 'TooManyRequests', retryAfterSeconds: 120 },
    ]);
    expect(pruneDevice).toHaveBeenCalledWith(devices[1], new Date(1_700_000_000_000));
    expect(pruneDevice).toHaveBeenCalledWith(devices[2], undefined);
    expect(run.tally.counts).toMatchObject({ accepted: 1, pruned: 2, kept: 0 });
    expect(new Map(settled.statuses.map((o) => [o.token, [o.status, o.reason]]))).toEqual(
      new Map([
        [devices[0]?.token, ['accepted', undefined]],
        [devices[1]?.token, ['pruned', 'Unregistered']],
        [devices[2]?.token, ['pruned', 'BadDeviceToken']],
        [devices[3]?.token, ['queued', 'TooManyRequests']],
      ]),
    );
  });

  it('a token registered again after APNs invalidated it is kept, and its push counts as failed', async () => {
    pruneDevice.mockResolvedValue(false);
    const run = delivery();
    const settled = await settleAnswers(run, [device(1)], [
      { kind: 'invalid-token', reason: 'Unregistered', timestamp: 1 },
    ] as PushAnswer[]);
    expect(run.tally.counts).toMatchObject({ kept: 1, pruned: 0 });
    expect(settled.statuses).toMatchObject([{ status: 'failed', reason: 'Unregistered' }]);
  });

  it('a Live Activity token is pruned from the Live Activity registry, never the devices', async () => {
    const token = device(1, { liveActivity: { kind: 'update', target: 'activity|app|order-1' } });
    await settleAnswers(delivery(), [token], [
      { kind: 'invalid-token', reason: 'BadDeviceToken' },
    ] as PushAnswer[]);
    expect(pruneLiveActivityToken).toHaveBeenCalledWith(token, undefined);
    expect(pruneDevice).not.toHaveBeenCalled();
  });

  it('a fatal answer never reaches settling quietly', async () => {
    await expect(
      settleAnswers(delivery(), [device(1)], [
        { kind: 'job-error', reason: 'PayloadTooLarge' },
      ] as PushAnswer[]),
    ).rejects.toThrow(/fatal answer \(PayloadTooLarge\)/);
  });
});

describe('re-queueing retries', () => {
  const retries = [
    { device: device(1), reason: 'InternalServerError' },
    { device: device(2), reason: 'TooManyRequests', retryAfterSeconds: 300 },
  ];

  it('exactly the retried devices go back as one message of the next attempt, no sooner than the longest retry-after', async () => {
    const run = delivery({ part: '0.2', attempt: 1 });
    await requeueRetries(run, 3, { accepted: [], retries, statuses: [] });
    expect(deadLetter).not.toHaveBeenCalled();
    expect(enqueue).toHaveBeenCalledTimes(1);
    const [message] = enqueue.mock.calls[0]?.[0] ?? [];
    const body = JSON.parse(message?.body ?? '{}') as JobPart;
    expect(body).toMatchObject({ part: '0.2/3', attempt: 2, devices: [device(1), device(2)] });
    expect(body.reasons).toEqual({
      [tokenHash(device(1).token)]: 'InternalServerError',
      [tokenHash(device(2).token)]: 'TooManyRequests',
    });
    expect(JSON.stringify(body.reasons)).not.toContain(device(1).token); // no raw tokens in reasons
    expect(message?.delaySeconds).toBeGreaterThanOrEqual(300);
    expect(message?.delaySeconds).toBeLessThanOrEqual(MAX_SQS_DELAY_SECONDS);
    expect(run.tally.counts.retried).toBe(2);
  });

  it('after the last attempt the devices are dead-lettered with their reasons and recorded as failed', async () => {
    const run = delivery({ attempt: MAX_DELIVERY_ATTEMPTS - 1 });
    const statuses = [
      { token: device(1).token, userId: 'user-1', status: 'queued' as const, reason: 'InternalServerError' },
      { token: device(3).token, userId: 'user-3', status: 'accepted' as const },
    ];
    await requeueRetries(run, 0, { accepted: [], retries, statuses });
    expect(enqueue).not.toHaveBeenCalled();
    expect(deadLetter).toHaveBeenCalledWith(
      expect.any(String),
      'RetriesExhausted',
      '2 devices still failing: InternalServerError, TooManyRequests',
    );
    expect(run.tally.counts.deadLettered).toBe(2);
    expect(statuses[0]).toMatchObject({
      status: 'failed',
      reason: 'InternalServerError (retries exhausted)',
    });
    expect(statuses[1]).toMatchObject({ status: 'accepted' });
  });

  it('nothing to retry enqueues nothing', async () => {
    await requeueRetries(delivery(), 0, { accepted: [device(1)], retries: [], statuses: [] });
    expect(enqueue).not.toHaveBeenCalled();
    expect(deadLetter).not.toHaveBeenCalled();
  });
});

describe('scheduling re-push rounds', () => {
  it('a tracked job with repushAfterSeconds sends its accepted devices round 1, delayed', async () => {
    const run = delivery({}, { receipts: true, repushAfterSeconds: 600, maxRepushes: 2 });
    await scheduleRepush(run, 4, [device(1)]);
    const [message] = enqueue.mock.calls[0]?.[0] ?? [];
    expect(JSON.parse(message?.body ?? '{}')).toMatchObject({
      part: '0/4r1',
      attempt: 0,
      devices: [device(1)],
      repush: { round: 1 },
    });
    expect(message?.delaySeconds).toBe(600);
  });

  it('a delay beyond SQS’s 15 minutes is capped (the round waits out the rest when it arrives)', async () => {
    await scheduleRepush(delivery({}, { receipts: true, repushAfterSeconds: 3_600 }), 0, [device(1)]);
    expect(enqueue.mock.calls[0]?.[0]?.[0]?.delaySeconds).toBe(MAX_SQS_DELAY_SECONDS);
  });

  it('no round past maxRepushes, none for untracked jobs, none without accepted devices', async () => {
    await scheduleRepush(
      delivery(
        { repush: { round: 2, dueAt: 0 } },
        { receipts: true, repushAfterSeconds: 60, maxRepushes: 2 },
      ),
      0,
      [device(1)],
    );
    await scheduleRepush(delivery(), 0, [device(1)]);
    await scheduleRepush(delivery({}, { receipts: true, repushAfterSeconds: 60 }), 0, []);
    expect(enqueue).not.toHaveBeenCalled();
  });
});

describe('parts that carry devices stay bounded', () => {
  const many = (count: number) =>
    Array.from({ length: count }, (_, n) => ({ device: device(n + 1), reason: 'ServiceUnavailable' }));

  it('1 200 retries of one chunk go back as three parts of at most 500, named the same every time', async () => {
    await requeueRetries(delivery({ part: '0', attempt: 0 }), 3, {
      accepted: [],
      retries: many(1_200),
      statuses: [],
    });
    const messages = enqueue.mock.calls[0]?.[0] ?? [];
    const parts = messages.map((m) => JSON.parse(m.body) as JobPart);
    expect(parts.map((p) => [p.part, p.devices?.length])).toEqual([
      ['0/3.0', 500],
      ['0/3.1', 500],
      ['0/3.2', 200],
    ]);
    expect(new Set(parts.flatMap((p) => p.devices?.map((d) => d.token))).size).toBe(1_200);
    expect(Math.max(...messages.map((m) => m.body.length))).toBeLessThan(256 * 1024);
  });

  it('after the last attempt they are dead-lettered in parts of at most 500 too', async () => {
    await requeueRetries(delivery({ attempt: MAX_DELIVERY_ATTEMPTS - 1 }), 0, {
      accepted: [],
      retries: many(501),
      statuses: [],
    });
    expect(deadLetter.mock.calls.map(([body]) => (JSON.parse(body) as JobPart).devices?.length)).toEqual([
      500, 1,
    ]);
  });

  it('a re-push round of 700 accepted devices is two parts', async () => {
    const accepted = many(700).map((r) => r.device);
    await scheduleRepush(delivery({}, { receipts: true, repushAfterSeconds: 60 }), 2, accepted);
    const parts = (enqueue.mock.calls[0]?.[0] ?? []).map((m) => JSON.parse(m.body) as JobPart);
    expect(parts.map((p) => [p.part, p.devices?.length, p.repush?.round])).toEqual([
      ['0/2r1.0', 500, 1],
      ['0/2r1.1', 200, 1],
    ]);
  });
});
