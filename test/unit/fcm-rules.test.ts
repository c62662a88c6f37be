import { describe, expect, it } from 'vitest';
import { deviceKey } from '../../lambda/adapters/secondary/devices-keys';
import { receiptKey } from '../../lambda/adapters/secondary/notifications-keys';
import { PushgateError } from '../../lambda/domain/errors';
import {
  classifyFcmAnswer,
  FCM_ANSWERS,
  fcmRetryAtOnce,
  QUOTA_RETRY_MIN_SECONDS,
  readFcmAnswer,
} from '../../lambda/domain/fcm-answer';
import {
  compileFcmMessage,
  FCM_PAYLOAD_LIMIT,
  fcmRequestBodies,
  reachesAndroid,
} from '../../lambda/domain/fcm-message';
import {
  checkFcmToken,
  MAX_FCM_TOKEN_LENGTH,
  namedDeviceToken,
  platformOfToken,
  registeredDeviceToken,
} from '../../lambda/domain/fcm-token';
import { normalizeSendJob, type SendJob, sendJobSchema } from '../../lambda/domain/send-job';
import { parseWith } from '../../lambda/validation';

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);
const REAL_LOOKING_TOKEN = 'fMEP0vJqS0:APA91bHqX3-mF2mbVsnMoGZ0eA1_k8VvJq6vS9yL0x2qT4rJc9Q8nLx.Zt7wP-aB_cD';

function job(fields: Record<string, unknown> = {}): SendJob {
  return normalizeSendJob(
    parseWith(sendJobSchema, {
      appId: 'com.example.app',
      to: { userIds: ['alice'] },
      aps: { alert: 'Hi' },
      ...fields,
    }),
    'n-1',
  );
}

function refusal(run: () => unknown): PushgateError {
  try {
    run();
  } catch (error) {
    if (error instanceof PushgateError) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('FCM registration tokens', () => {
  it('keeps a token exactly as sent, case and punctuation included', () => {
    expect(checkFcmToken(REAL_LOOKING_TOKEN)).toBe(REAL_LOOKING_TOKEN);
    expect(checkFcmToken('a:AbC')).toBe('a:AbC');
    expect(checkFcmToken(`a:${'x'.repeat(MAX_FCM_TOKEN_LENGTH - 2)}`)).toHaveLength(MAX_FCM_TOKEN_LENGTH);
  });

  it.each([
    ['empty', '', /empty/],
    ['too long', 'x'.repeat(MAX_FCM_TOKEN_LENGTH + 1), new RegExp(`at most ${MAX_FCM_TOKEN_LENGTH}`)],
    ['no ":" (it would be read as an APNs token where no platform is said)', 'AbC', /holds no ":"/],
    ['hex without ":"', 'ABCDEF0123456789'.repeat(4), /holds no ":"/],
    ['a space', 'abc def', /only letters, digits/],
    ['surrounding whitespace', ` ${REAL_LOOKING_TOKEN}`, /only letters, digits/],
    ['a slash', 'abc/def', /only letters, digits/],
    ['a quote', 'abc"def', /only letters, digits/],
    ['non-ASCII', 'abcé', /only letters, digits/],
  ])('refuses %s with InvalidDeviceToken', (_name, token, message) => {
    const error = refusal(() => checkFcmToken(token));
    expect(error.statusCode).toBe(400);
    expect(error.code).toBe('InvalidDeviceToken');
    expect(error.message).toMatch(message);
  });

  it('every token registration accepts is named back as itself, as its platform, wherever no platform is said', () => {
    const registered: [string, 'ios' | 'android'][] = [
      [REAL_LOOKING_TOKEN, 'android'],
      ['a:AbC', 'android'],
      ['0123456789abcdef'.repeat(4), 'ios'],
      ['0123456789ABCDEF'.repeat(4), 'ios'],
    ];
    for (const [input, platform] of registered) {
      const token = registeredDeviceToken(input, platform);
      expect(platformOfToken(token)).toBe(platform);
      expect(namedDeviceToken(token)).toBe(token);
    }
    // And nothing registers as one platform that would be named as the other.
    expect(() => registeredDeviceToken('0123456789abcdef'.repeat(4), 'android')).toThrow(/holds no ":"/);
    expect(() => registeredDeviceToken(REAL_LOOKING_TOKEN, 'ios')).toThrow(/hexadecimal/);
  });

  it('the longest token fits every DynamoDB key that holds it (partition keys 2 048 bytes, sort keys 1 024)', () => {
    const token = `a:${'x'.repeat(MAX_FCM_TOKEN_LENGTH - 2)}`;
    const bytes = (key: unknown) => Buffer.byteLength(String(key));
    expect(bytes(Object.values(deviceKey(token))[0])).toBeLessThanOrEqual(2048);
    const receipt = receiptKey('n'.repeat(128), token);
    expect(bytes(receipt.pk)).toBeLessThanOrEqual(2048);
    expect(bytes(receipt.sk)).toBeLessThanOrEqual(1024);
  });
});

describe('the FCM message of a send job', () => {
  it('maps alert, data, collapse id, expiration and priority', () => {
    const message = compileFcmMessage(
      job({
        aps: {
          alert: { title: 'Hi', body: 'Your order shipped', 'loc-key': 'SHIPPED', 'loc-args': ['3'] },
          badge: 2,
          sound: 'default',
        },
        data: { orderId: '123', count: 3, nested: { a: [1, 'b'] }, flag: true, nothing: null },
        apns: { priority: 10, expiration: Math.floor(NOW / 1000) + 3600, collapseId: 'order-123' },
      }),
      NOW,
    );
    expect(message).toEqual({
      notification: { title: 'Hi', body: 'Your order shipped' },
      data: {
        orderId: '123',
        count: '3',
        nested: '{"a":[1,"b"]}',
        flag: 'true',
        nothing: 'null',
        pushgate: '{"id":"n-1"}',
      },
      android: {
        priority: 'HIGH',
        collapse_key: 'order-123',
        ttl: '3600s',
        notification: {
          tag: 'order-123',
          body_loc_key: 'SHIPPED',
          body_loc_args: ['3'],
          sound: 'default',
          notification_count: 2,
        },
      },
    });
  });

  it('reads a string alert as the body, tags it with the notification id, and defaults to HIGH', () => {
    expect(compileFcmMessage(job(), NOW)).toEqual({
      notification: { body: 'Hi' },
      data: { pushgate: '{"id":"n-1"}' },
      android: { priority: 'HIGH', notification: { tag: 'n-1' } },
    });
  });

  it('sends priority 5 and 1 as NORMAL; expiration 0 or past as a ttl of 0s; caps ttl at four weeks', () => {
    expect(compileFcmMessage(job({ apns: { priority: 5, expiration: 0 } }), NOW).android).toMatchObject({
      priority: 'NORMAL',
      ttl: '0s',
    });
    expect(compileFcmMessage(job({ apns: { priority: 1, expiration: 1 } }), NOW).android.ttl).toBe('0s');
    expect(compileFcmMessage(job({ apns: { expiration: 9_999_999_999 } }), NOW).android.ttl).toBe('2419200s');
  });

  it('turns a background push into a data-only message at NORMAL priority', () => {
    const message = compileFcmMessage(job({ aps: { 'content-available': 1 }, data: { sync: 'inbox' } }), NOW);
    expect(message).toEqual({
      data: { sync: 'inbox', pushgate: '{"id":"n-1"}' },
      android: { priority: 'NORMAL' },
    });
  });

  it("lets the job's android object override the mapping, keeping pushgate's id in android.data", () => {
    const message = compileFcmMessage(
      job({
        apns: { collapseId: 'c' },
        android: {
          priority: 'NORMAL',
          collapse_key: 'mine',
          notification: { channel_id: 'orders', tag: 'order-9' },
          data: { only: 'android' },
        },
      }),
      NOW,
    );
    expect(message.android).toEqual({
      priority: 'NORMAL',
      collapse_key: 'mine',
      notification: { tag: 'order-9', channel_id: 'orders' },
      data: { only: 'android', pushgate: '{"id":"n-1"}' },
    });
  });

  it('keeps a __proto__ data key as an ordinary key', () => {
    const message = compileFcmMessage(job({ data: JSON.parse('{"__proto__": {"x": 1}}') }), NOW);
    expect(Object.keys(message.data)).toEqual(['__proto__', 'pushgate']);
    expect(Object.entries(message.data)[0]).toEqual(['__proto__', '{"x":1}']);
  });

  it("refuses data keys FCM reserves, and a message over FCM's limit", () => {
    expect(refusal(() => compileFcmMessage(job({ data: { from: 'x' } }), NOW)).code).toBe('ReservedDataKey');
    expect(refusal(() => compileFcmMessage(job({ data: { 'google.x': 'x' } }), NOW)).code).toBe(
      'ReservedDataKey',
    );
    const big = refusal(() => compileFcmMessage(job({ data: { big: 'x'.repeat(FCM_PAYLOAD_LIMIT) } }), NOW));
    expect([big.statusCode, big.code]).toEqual([413, 'PayloadTooLarge']);
    expect(big.message).toMatch(/FCM/);
  });

  it('leaves Live Activity pushes to iOS', () => {
    const liveActivity = job({
      to: { activities: [{ userId: 'alice', activityId: 'a1' }] },
      aps: { event: 'update', 'content-state': {}, timestamp: 1 },
      apns: { pushType: 'liveactivity' },
    });
    expect(reachesAndroid(liveActivity)).toBe(false);
    expect(reachesAndroid(job())).toBe(true);
  });

  it('splices each token into one serialised message', () => {
    const bodyFor = fcmRequestBodies(compileFcmMessage(job(), NOW));
    expect(JSON.parse(bodyFor('t:1'))).toEqual({
      message: { token: 't:1', ...compileFcmMessage(job(), NOW) },
    });
  });
});

describe("the job's android object", () => {
  it.each([
    [{ priority: 'URGENT' }, 'android.priority'],
    [{ ttl: '3600' }, 'android.ttl'],
    [{ ttl: '9999999s' }, 'android.ttl'],
    [{ collapseKey: 'camelCase is not how Google documents it' }, 'collapseKey'],
    [{ notification: { color: 'red' } }, 'android.notification.color'],
    [{ notification: { visibility: 'HIDDEN' } }, 'android.notification.visibility'],
    [{ data: { n: 1 } }, 'android.data.n'],
    [{ data: { pushgate: 'x' } }, 'android.data'],
    ['HIGH', 'android'],
  ])('refuses %j with InvalidAndroidConfig naming the field', (android, where) => {
    const error = refusal(() => job({ android }));
    expect([error.statusCode, error.code]).toEqual([400, 'InvalidAndroidConfig']);
    expect(error.message).toContain(where);
  });

  it('is refused on a Live Activity push', () => {
    const error = refusal(() =>
      job({
        to: { activities: [{ userId: 'alice', activityId: 'a1' }] },
        aps: { event: 'update', 'content-state': {}, timestamp: 1 },
        apns: { pushType: 'liveactivity' },
        android: { priority: 'HIGH' },
      }),
    );
    expect(error.message).toMatch(/iOS devices only/);
  });
});

function fcmError(status: number, code: string, errorCode?: string, extra: unknown[] = [], message = 'x') {
  return readFcmAnswer({
    status,
    body: JSON.stringify({
      error: {
        code: status,
        message,
        status: code,
        details: [
          ...(errorCode === undefined
            ? []
            : [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }]),
          ...extra,
        ],
      },
    }),
  });
}

describe('FCM answers', () => {
  const sentAt = NOW;

  it('accepts a 200', () => {
    expect(
      classifyFcmAnswer(readFcmAnswer({ status: 200, body: '{"name":"projects/p/messages/1"}' }), sentAt),
    ).toEqual({
      kind: 'accepted',
    });
  });

  it('prunes UNREGISTERED only if not registered again after the push left', () => {
    expect(classifyFcmAnswer(fcmError(404, 'NOT_FOUND', 'UNREGISTERED'), sentAt)).toEqual({
      kind: 'invalid-token',
      reason: 'UNREGISTERED',
      status: 404,
      timestamp: sentAt,
    });
  });

  it('prunes SENDER_ID_MISMATCH', () => {
    expect(classifyFcmAnswer(fcmError(403, 'PERMISSION_DENIED', 'SENDER_ID_MISMATCH'), sentAt)).toMatchObject(
      {
        kind: 'invalid-token',
        reason: 'SENDER_ID_MISMATCH',
      },
    );
  });

  it('tells INVALID_ARGUMENT about the token (pruned) from one about the message (job error)', () => {
    const badToken = fcmError(400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', [
      {
        '@type': 'type.googleapis.com/google.rpc.BadRequest',
        fieldViolations: [{ field: 'message.token', description: 'Invalid registration token' }],
      },
    ]);
    expect(classifyFcmAnswer(badToken, sentAt)).toMatchObject({
      kind: 'invalid-token',
      reason: 'INVALID_ARGUMENT',
    });
    const worded = fcmError(
      400,
      'INVALID_ARGUMENT',
      'INVALID_ARGUMENT',
      [],
      'The registration token is not a valid FCM registration token',
    );
    expect(classifyFcmAnswer(worded, sentAt).kind).toBe('invalid-token');
    const badMessage = fcmError(
      400,
      'INVALID_ARGUMENT',
      'INVALID_ARGUMENT',
      [],
      "Invalid value at 'message.android.ttl'",
    );
    expect(classifyFcmAnswer(badMessage, sentAt)).toEqual({
      kind: 'job-error',
      reason: 'INVALID_ARGUMENT',
      status: 400,
      detail: "Invalid value at 'message.android.ttl'",
    });
  });

  it('retries QUOTA_EXCEEDED after Retry-After, never sooner than a minute', () => {
    const answer = (retryAfter?: string) => ({
      ...fcmError(429, 'RESOURCE_EXHAUSTED', 'QUOTA_EXCEEDED'),
      ...(retryAfter ? { retryAfter } : {}),
    });
    expect(classifyFcmAnswer(answer(), sentAt)).toMatchObject({
      kind: 'retryable',
      retryAfterSeconds: QUOTA_RETRY_MIN_SECONDS,
    });
    expect(classifyFcmAnswer(answer('5'), sentAt)).toMatchObject({
      retryAfterSeconds: QUOTA_RETRY_MIN_SECONDS,
    });
    expect(classifyFcmAnswer(answer('120'), sentAt)).toMatchObject({ retryAfterSeconds: 120 });
  });

  it('retries UNAVAILABLE and INTERNAL honouring Retry-After', () => {
    expect(
      classifyFcmAnswer({ ...fcmError(503, 'UNAVAILABLE', 'UNAVAILABLE'), retryAfter: '30' }, sentAt),
    ).toEqual({
      kind: 'retryable',
      reason: 'UNAVAILABLE',
      status: 503,
      retryAfterSeconds: 30,
    });
    expect(classifyFcmAnswer(fcmError(500, 'INTERNAL', 'INTERNAL'), sentAt)).toEqual({
      kind: 'retryable',
      reason: 'INTERNAL',
      status: 500,
    });
  });

  it('retries what is not a complete answer, never pruning or failing the job', () => {
    for (const answer of [
      readFcmAnswer({ status: 404, body: '' }),
      readFcmAnswer({ status: 400, body: '<html>' }),
      { transportError: 'Timeout' },
      {},
    ]) {
      expect(classifyFcmAnswer(answer, sentAt).kind).toBe('retryable');
    }
  });

  it('treats 401 and PERMISSION_DENIED as credential errors, worth one immediate retry', () => {
    const unauthenticated = fcmError(401, 'UNAUTHENTICATED');
    expect(classifyFcmAnswer(unauthenticated, sentAt)).toMatchObject({
      kind: 'credential-error',
      reason: 'UNAUTHENTICATED',
    });
    expect(classifyFcmAnswer(fcmError(403, 'PERMISSION_DENIED'), sentAt).kind).toBe('credential-error');
    expect(fcmRetryAtOnce(unauthenticated)).toBe(true);
    expect(fcmRetryAtOnce(fcmError(503, 'UNAVAILABLE', 'UNAVAILABLE'))).toBe(false);
  });

  it('ends with a rule that applies to every answer', () => {
    expect(FCM_ANSWERS.at(-1)?.classify({ status: 418, errorCode: 'X' }, sentAt)).toMatchObject({
      kind: 'job-error',
    });
  });
});
