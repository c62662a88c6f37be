import { describe, expect, it } from 'vitest';
import { MAX_SQS_BATCH_BYTES } from '../../lambda/adapters/secondary/send-queue';
import { compileApnsRequest } from '../../lambda/domain/apns-request';
import { PushgateError } from '../../lambda/domain/errors';
import { ACTIVITIES_PER_PART, type JobPart, partsOf } from '../../lambda/domain/job-part';
import {
  checkLiveActivityJob,
  dismissalAfterEnd,
  MAX_DISMISSAL_SECONDS,
  parseActivityId,
  withLiveActivityTimestamp,
} from '../../lambda/domain/live-activity';
import { activityTarget, pushToStartTarget } from '../../lambda/domain/live-activity-targets';
import type { PushDevice } from '../../lambda/domain/push-device';
import {
  jobFingerprint,
  MAX_RECIPIENTS_PER_JOB,
  normalizeSendJob,
  type SendJob,
  sendJobSchema,
} from '../../lambda/domain/send-job';
import { parseWith } from '../../lambda/validation';

const job = (aps: Record<string, unknown>, extra: Partial<SendJob> = {}): SendJob =>
  ({
    notificationId: 'n-1',
    appId: 'com.example.app',
    to: { activities: [{ userId: 'alice', activityId: 'order-1' }] },
    apns: { pushType: 'liveactivity' },
    aps,
    ...extra,
  }) as SendJob;

describe('Live Activity rules', () => {
  it('compiles to the .push-type.liveactivity topic with priority 5 for update, 10 for start and end', () => {
    const update = compileApnsRequest(
      job({ event: 'update', 'content-state': {}, timestamp: 1 }),
      'com.example.app',
    );
    expect(update.headers).toMatchObject({
      'apns-push-type': 'liveactivity',
      'apns-topic': 'com.example.app.push-type.liveactivity',
      'apns-priority': '5',
    });
    expect(compileApnsRequest(job({ event: 'end', timestamp: 1 }), 'b').headers['apns-priority']).toBe('10');
    const start = job({ event: 'start', timestamp: 1 }, { to: { userIds: ['a'] } });
    expect(compileApnsRequest(start, 'b').headers['apns-priority']).toBe('10');
  });

  it('keeps the priority the job asks for', () => {
    const urgent = job(
      { event: 'update', 'content-state': {} },
      { apns: { pushType: 'liveactivity', priority: 10 } },
    );
    expect(compileApnsRequest(urgent, 'b').headers['apns-priority']).toBe('10');
  });

  it('fills aps.timestamp (UNIX seconds) only when absent, and only for Live Activity pushes', () => {
    const now = new Date('2026-01-01T00:00:10.900Z');
    expect(withLiveActivityTimestamp(job({ event: 'end' }), now).aps.timestamp).toBe(1_767_225_610);
    expect(withLiveActivityTimestamp(job({ event: 'end', timestamp: 5 }), now).aps.timestamp).toBe(5);
    const alert = job({ alert: 'x' }, { apns: { pushType: 'alert' }, to: { userIds: ['a'] } });
    expect(withLiveActivityTimestamp(alert, now).aps.timestamp).toBeUndefined();
  });

  it('drops update tokens at once after an end without a dismissal date or with a past one', () => {
    const now = new Date(1_800_000_000_000);
    expect(dismissalAfterEnd({}, now)).toBeUndefined();
    expect(dismissalAfterEnd({ 'dismissal-date': 1_799_999_999 }, now)).toBeUndefined();
    expect(dismissalAfterEnd({ 'dismissal-date': 1_800_000_600 }, now)).toBe(1_800_000_600);
  });

  it('keeps update tokens after an end no longer than iOS keeps an ended activity (four hours)', () => {
    const now = new Date(1_800_000_000_000);
    expect(dismissalAfterEnd({ 'dismissal-date': 1_800_000_000 + 365 * 86_400 }, now)).toBe(
      1_800_000_000 + MAX_DISMISSAL_SECONDS,
    );
  });

  it('refuses a start without attributes with MissingLiveActivityKey', () => {
    const start = job(
      { event: 'start', 'attributes-type': 'T', 'content-state': {}, alert: 'x' },
      { to: { userIds: ['a'] } },
    );
    expect(() => checkLiveActivityJob(start)).toThrow(
      expect.objectContaining({ code: 'MissingLiveActivityKey' }),
    );
    expect(() => checkLiveActivityJob({ ...start, aps: { ...start.aps, attributes: {} } })).not.toThrow();
  });

  it('accepts URL-safe activity ids up to 128 characters and refuses the rest with InvalidActivityId', () => {
    expect(parseActivityId('order-123_A.b~c')).toBe('order-123_A.b~c');
    expect(parseActivityId('a'.repeat(128))).toHaveLength(128);
    for (const bad of ['', 'a'.repeat(129), 'order/1', 'order 1', '-order', 'ordér']) {
      expect(() => parseActivityId(bad), bad).toThrow(expect.objectContaining({ code: 'InvalidActivityId' }));
    }
  });
});

const update = {
  appId: 'com.example.app',
  to: { activities: [{ userId: 'alice', activityId: 'order-1' }] },
  apns: { pushType: 'liveactivity' },
  aps: { event: 'update', 'content-state': { eta: 5 } },
};

/** The job as the API and the sender read it: schema, then the job rules. */
const read = (value: unknown) => normalizeSendJob(parseWith(sendJobSchema, value), 'fallback');

function refusal(value: unknown): PushgateError {
  try {
    read(value);
  } catch (error) {
    if (error instanceof PushgateError) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('addressing activities: each by its user and id', () => {
  it('refuses activity ids alone with ActivityOwnerRequired, saying to name each user and why', () => {
    const old = { ...update, to: { activityIds: ['order-1'] } };
    const error = refusal(old);
    expect(error.code).toBe('ActivityOwnerRequired');
    expect(error.statusCode).toBe(400);
    expect(error.message).toMatch(/"activities": \[\{"userId"/);
    expect(error.message).toMatch(/anyone who registered/);
    // Whatever else is wrong too.
    expect(refusal({ ...old, appId: 'not an app', aps: { event: 'pause' } }).code).toBe(
      'ActivityOwnerRequired',
    );
    // Beside the new form it is just a field the schema does not know.
    const mixed = refusal({ ...update, to: { ...update.to, activityIds: ['order-1'] } });
    expect([mixed.code, mixed.message]).toEqual([
      'UnknownField',
      'Unknown field "activityIds" in "to"; only documented fields are accepted.',
    ]);
    expect(refusal({ ...update, to: { activityIds: [] } }).code).toBe('ActivityOwnerRequired');
  });

  it.each([
    ['a pair without userId', [{ activityId: 'order-1' }], 'InvalidRequest', /to\.activities\.0\.userId/],
    ['a pair without activityId', [{ userId: 'alice' }], 'InvalidRequest', /to\.activities\.0\.activityId/],
    [
      'a malformed activity id',
      [{ userId: 'alice', activityId: 'order 1' }],
      'InvalidRequest',
      /activity id/,
    ],
    ['a user id with a slash', [{ userId: 'a/b', activityId: 'order-1' }], 'InvalidRequest', /user id/],
    ['an empty user id', [{ userId: '', activityId: 'order-1' }], 'InvalidRequest', /user id/],
    [
      'an unknown field in a pair',
      [{ userId: 'alice', activityId: 'order-1', token: 'ab' }],
      'UnknownField',
      /"token" in "to\.activities\.0"/,
    ],
    ['a bare id instead of a pair', ['order-1'], 'InvalidRequest', /to\.activities\.0/],
    ['no activity', [], 'InvalidRequest', /at least one activity/],
  ])('refuses %s with %s', (_name, activities, code, message) => {
    const error = refusal({ ...update, to: { activities } });
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });

  it(`names at most ${MAX_RECIPIENTS_PER_JOB} activities`, () => {
    const activities = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ userId: `u${i}`, activityId: 'order-1' }));
    expect(read({ ...update, to: { activities: activities(MAX_RECIPIENTS_PER_JOB) } }).to).toHaveProperty(
      'activities',
    );
    const error = refusal({ ...update, to: { activities: activities(MAX_RECIPIENTS_PER_JOB + 1) } });
    expect([error.code, error.message]).toEqual([
      'InvalidRequest',
      `"to.activities": A job names at most ${MAX_RECIPIENTS_PER_JOB} activities.`,
    ]);
  });

  it('update and end need to.activities, start needs to.userIds, activities need the liveactivity push type', () => {
    const users = { userIds: ['alice'] };
    expect(refusal({ ...update, to: users })).toMatchObject({ code: 'InvalidLiveActivity' });
    expect(refusal({ ...update, to: users }).message).toMatch(/"activities"/);
    expect(refusal({ ...update, aps: { event: 'end' }, to: users }).code).toBe('InvalidLiveActivity');
    const start = {
      ...update,
      aps: { event: 'start', 'attributes-type': 'T', attributes: {}, 'content-state': {}, alert: 'x' },
    };
    expect(refusal(start).message).toMatch(/userIds/);
    expect(refusal({ ...update, apns: { pushType: 'alert' }, aps: { alert: 'x' } }).message).toMatch(
      /liveactivity/,
    );
  });

  it('collapses duplicate pairs, keeping the first order; the same id of two users is two activities', () => {
    const activities = [
      { userId: 'alice', activityId: 'order-1' },
      { activityId: 'order-1', userId: 'alice' },
      { userId: 'mallory', activityId: 'order-1' },
      { userId: 'alice', activityId: 'order-2' },
      { userId: 'alice', activityId: 'order-1' },
    ];
    expect(read({ ...update, to: { activities } }).to).toEqual({
      activities: [
        { userId: 'alice', activityId: 'order-1' },
        { userId: 'mallory', activityId: 'order-1' },
        { userId: 'alice', activityId: 'order-2' },
      ],
    });
  });

  it('the job fingerprint tells whose activity it is: another user is another job', () => {
    const fingerprint = (to: unknown) => jobFingerprint(read({ ...update, notificationId: 'n', to }));
    const alice = fingerprint({ activities: [{ userId: 'alice', activityId: 'order-1' }] });
    expect(fingerprint({ activities: [{ activityId: 'order-1', userId: 'alice' }] })).toBe(alice);
    expect(fingerprint({ activities: [{ userId: 'mallory', activityId: 'order-1' }] })).not.toBe(alice);
  });

  it('the index key of an activity holds its user: two users, one id, two keys; ids cannot forge a key', () => {
    expect(activityTarget('com.example.app', 'alice', 'order-1')).not.toBe(
      activityTarget('com.example.app', 'mallory', 'order-1'),
    );
    // A user id may hold "|"; app and activity ids cannot, so no two valid pairs share a key.
    const users = ['a', 'b', 'a|b', 'a|b|c', '|', 'a|', '|b', 'com.example.app|a'];
    const activities = ['a', 'b', 'c', 'b.c', 'a-b'];
    const apps = ['com.example.app', 'com.example'];
    const keys = apps.flatMap((app) =>
      users.flatMap((user) => activities.map((activity) => activityTarget(app, user, activity))),
    );
    expect(new Set(keys).size).toBe(apps.length * users.length * activities.length);
    expect(activityTarget('com.example.app', 'alice', 'T')).not.toBe(
      pushToStartTarget('com.example.app', 'alice', 'T'),
    );
  });

  it(`splits activities into parts of ${ACTIVITIES_PER_PART}; at the longest ids a part and a full retry fit one SQS message`, () => {
    const longest = Array.from({ length: ACTIVITIES_PER_PART * 2 + 1 }, (_, i) => ({
      userId: `${'u'.repeat(250)}${String(i).padStart(6, '0')}`,
      activityId: `${'a'.repeat(120)}${String(i).padStart(8, '0')}`,
    }));
    const parts = partsOf(read({ ...update, notificationId: 'n', to: { activities: longest } }));
    expect(parts.map((part) => (part.job.to as { activities: unknown[] }).activities.length)).toEqual([
      ACTIVITIES_PER_PART,
      ACTIVITIES_PER_PART,
      1,
    ]);
    const first = parts[0] as JobPart;
    // A retry carries the part's job and up to 500 devices (one chunk of retried devices), each at its longest.
    const device = (i: number): PushDevice => ({
      token: 'f'.repeat(400),
      userId: 'u'.repeat(256),
      appId: 'a'.repeat(155),
      environment: 'production',
      liveActivity: {
        kind: 'update',
        target: activityTarget(
          'a'.repeat(155),
          'u'.repeat(256),
          `${'x'.repeat(120)}${String(i).padStart(8, '0')}`,
        ),
      },
    });
    const devices = Array.from({ length: 500 }, (_, i) => device(i));
    const retry: JobPart = {
      ...first,
      part: '0/0',
      attempt: 1,
      devices,
      reasons: Object.fromEntries(devices.map((_, i) => [String(i).padStart(12, '0'), 'TooManyRequests'])),
    };
    expect(JSON.stringify(first).length).toBeLessThan(MAX_SQS_BATCH_BYTES / 4);
    expect(JSON.stringify(retry).length).toBeLessThan(MAX_SQS_BATCH_BYTES);
  });
});
