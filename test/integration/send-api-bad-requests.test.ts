import { GetQueueAttributesCommand, PurgeQueueCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_SEND_BODY_BYTES } from '../../lambda/adapters/primary/send-notification/handler';
import { ENVIRONMENT } from '../../lambda/environment';
import { ERROR_CODES } from '../../scripts/api-error-codes';
import { OPERATIONS } from '../../scripts/api-operations';
import { api } from '../support/api';
import { TEST_APP_ID } from '../support/embedded-services';
import { db, sendQueueUrl, sqs } from '../support/sender-harness';

const token = 'ab'.repeat(32);
const ok = { appId: TEST_APP_ID, to: { userIds: ['alice'] }, aps: { alert: 'Hi' } };

async function queued(): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: sendQueueUrl(),
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return Object.values(Attributes).reduce((sum, n) => sum + Number(n), 0);
}

/** A value nested `levels` arrays deep, built without recursion. */
function nested(levels: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < levels; i++) value = [value];
  return value;
}
const withProtoKey = (json: string) => JSON.parse(json) as Record<string, unknown>;

/** A body sent as it is — text no value serialises to, or bytes — with the case's notification id. */
class RawBody {
  constructor(readonly make: (notificationId: string) => string | Uint8Array) {}
}
/** `{"notificationId":…,` then `rest`: a job written out by hand. */
const rawJob = (rest: string) => new RawBody((id) => `{"notificationId":"${id}",${rest}`);
/** A job whose alert holds these bytes between "a" and "b", sent with `Content-Type: application/json`. */
const alertBytes = (...bytes: number[]) =>
  new RawBody((id) =>
    Buffer.concat([
      Buffer.from(
        `{"notificationId":"${id}","appId":"${TEST_APP_ID}","to":{"userIds":["a"]},"aps":{"alert":"a`,
      ),
      Buffer.from(bytes),
      Buffer.from('b"}}'),
    ]),
  );
const to = '"to":{"userIds":["a"]}';

/** [name, body, status, code, what the message must say]. */
const badBodies: [string, unknown, number, string, RegExp?][] = [
  ['empty object', {}, 400, 'InvalidRequest'],
  ['JSON array', [ok], 400, 'InvalidRequest'],
  ['JSON string', 'notify alice', 400, 'InvalidRequest'],
  ['unknown top-level field', { ...ok, userId: 'alice' }, 400, 'UnknownField'],
  ['unknown field in to', { ...ok, to: { userIds: ['a'], groups: ['g'] } }, 400, 'UnknownField'],
  ['unknown aps key', { ...ok, aps: { alert: 'Hi', 'content-availble': 1 } }, 400, 'UnknownField'],
  ['unknown apns option', { ...ok, apns: { ttl: 60 } }, 400, 'UnknownField'],
  ['unknown track option', { ...ok, track: { receipt: true } }, 400, 'UnknownField'],
  ['missing appId', { to: ok.to, aps: ok.aps }, 400, 'InvalidRequest'],
  ['missing to', { appId: TEST_APP_ID, aps: ok.aps }, 400, 'InvalidRequest'],
  ['missing aps', { appId: TEST_APP_ID, to: ok.to }, 400, 'InvalidRequest'],
  ['appId not configured', { ...ok, appId: 'com.other.app' }, 400, 'UnknownApp'],
  // Live Activity jobs: the full table is in live-activity-send-requests.test.ts.
  [
    'Live Activity update addressed to users',
    { ...ok, apns: { pushType: 'liveactivity' }, aps: { event: 'update', 'content-state': { eta: 5 } } },
    400,
    'InvalidLiveActivity',
  ],
  [
    'Live Activity update without content-state',
    {
      ...ok,
      to: { activities: [{ userId: 'alice', activityId: 'order-1' }] },
      apns: { pushType: 'liveactivity' },
      aps: { event: 'update' },
    },
    400,
    'MissingLiveActivityKey',
  ],
  [
    'Live Activity update to activity ids without their users',
    {
      ...ok,
      to: { activityIds: ['order-1'] },
      apns: { pushType: 'liveactivity' },
      aps: { event: 'update', 'content-state': { eta: 5 } },
    },
    400,
    'ActivityOwnerRequired',
    /name the user of each activity/,
  ],
  [
    'Live Activity job with track',
    {
      ...ok,
      to: { activities: [{ userId: 'alice', activityId: 'order-1' }] },
      apns: { pushType: 'liveactivity' },
      aps: { event: 'update', 'content-state': { eta: 5 } },
      track: { receipts: true },
    },
    400,
    'InvalidRequest',
    /not tracked/,
  ],
  ['appId malformed', { ...ok, appId: 'not an app' }, 400, 'InvalidRequest'],
  ['to empty', { ...ok, to: {} }, 400, 'InvalidRequest'],
  [
    'to with both users and tokens',
    { ...ok, to: { userIds: ['a'], tokens: [token] } },
    400,
    'InvalidRequest',
  ],
  ['userIds empty', { ...ok, to: { userIds: [] } }, 400, 'InvalidRequest'],
  ['userIds not an array', { ...ok, to: { userIds: 'alice' } }, 400, 'InvalidRequest'],
  ['user id with spaces', { ...ok, to: { userIds: ['a b'] } }, 400, 'InvalidRequest'],
  ['user id too long', { ...ok, to: { userIds: ['u'.repeat(257)] } }, 400, 'InvalidRequest'],
  [
    'more than 50 000 users',
    { ...ok, to: { userIds: Array.from({ length: 50_001 }, (_, i) => `u${i}`) } },
    400,
    'InvalidRequest',
    /"to.userIds": A job names at most 50000 users/,
  ],
  [
    'more than 50 000 tokens',
    { ...ok, to: { tokens: Array.from({ length: 50_001 }, () => token) } },
    400,
    'InvalidRequest',
    /at most 50000 tokens/,
  ],
  ['userIds a string', { ...ok, to: { userIds: 'alice' } }, 400, 'InvalidRequest', /"to.userIds"/],
  ['user id with a slash', { ...ok, to: { userIds: ['tenant/alice'] } }, 400, 'InvalidRequest', /"\/"/],
  ['user id with a hash', { ...ok, to: { userIds: ['alice#2'] } }, 400, 'InvalidRequest'],
  ['user id with NUL', { ...ok, to: { userIds: ['alice\u0000'] } }, 400, 'InvalidRequest'],
  // nesting: refused before validation or serialisation can exhaust the stack
  ['data nested 2 200 levels deep', { ...ok, data: { deep: nested(2200) } }, 400, 'NestingTooDeep'],
  [
    'content-state nested 2 200 levels deep',
    { ...ok, aps: { event: 'update', 'content-state': { deep: nested(2200) } } },
    400,
    'NestingTooDeep',
  ],
  ['userIds nested 2 200 levels deep', { ...ok, to: { userIds: nested(2200) } }, 400, 'NestingTooDeep'],
  ['data nested 33 levels deep', { ...ok, data: { deep: nested(31) } }, 400, 'NestingTooDeep', /32 levels/],
  // header-bound strings
  [
    'collapse id with NUL',
    { ...ok, apns: { collapseId: 'order\u0000123' } },
    400,
    'InvalidRequest',
    /header/,
  ],
  ['collapse id with a line feed', { ...ok, apns: { collapseId: 'order\n123' } }, 400, 'InvalidRequest'],
  ['collapse id with CR LF', { ...ok, apns: { collapseId: 'a\r\nx-evil: 1' } }, 400, 'InvalidRequest'],
  ['collapse id with DEL', { ...ok, apns: { collapseId: 'order\u007f' } }, 400, 'InvalidRequest'],
  ['collapse id with a tab', { ...ok, apns: { collapseId: 'order\t1' } }, 400, 'InvalidRequest'],
  ['collapse id non-ASCII', { ...ok, apns: { collapseId: 'bestellung-ä' } }, 400, 'InvalidRequest'],
  ['collapse id an emoji', { ...ok, apns: { collapseId: '🎉' } }, 400, 'InvalidRequest'],
  ['collapse id with a leading space', { ...ok, apns: { collapseId: ' order' } }, 400, 'InvalidRequest'],
  ['collapse id empty', { ...ok, apns: { collapseId: '' } }, 400, 'InvalidRequest'],
  // __proto__ is a key like any other: refused where keys are fixed
  [
    '__proto__ at the top level',
    withProtoKey(
      `{"__proto__":{"x":1},"appId":"${TEST_APP_ID}","to":{"userIds":["a"]},"aps":{"alert":"Hi"}}`,
    ),
    400,
    'UnknownField',
    /"__proto__"/,
  ],
  [
    '__proto__ in aps',
    { ...ok, aps: withProtoKey('{"alert":"Hi","__proto__":{"badge":1}}') },
    400,
    'UnknownField',
    /"__proto__" in "aps"/,
  ],
  // tokens wrapped in whitespace or invisible characters
  ['token after a no-break space', { ...ok, to: { tokens: [`\u00a0${token}`] } }, 400, 'InvalidDeviceToken'],
  ['token after a byte order mark', { ...ok, to: { tokens: [`\ufeff${token}`] } }, 400, 'InvalidDeviceToken'],
  ['token before U+2028', { ...ok, to: { tokens: [`${token}\u2028`] } }, 400, 'InvalidDeviceToken'],
  ['token after a tab', { ...ok, to: { tokens: [`\t${token}`] } }, 400, 'InvalidDeviceToken'],
  ['token before a space', { ...ok, to: { tokens: [`${token} `] } }, 400, 'InvalidDeviceToken'],
  [
    'iOS 13 description token',
    { ...ok, to: { tokens: ['{length = 32, bytes = 0xab12 ... cd34 }'] } },
    400,
    'InvalidDeviceToken',
  ],
  ['non-hex token', { ...ok, to: { tokens: ['zz'.repeat(32)] } }, 400, 'InvalidDeviceToken'],
  ['badge a string', { ...ok, aps: { badge: '1' } }, 400, 'InvalidRequest'],
  ['badge negative', { ...ok, aps: { badge: -1 } }, 400, 'InvalidRequest'],
  ['interruption level unknown', { ...ok, aps: { 'interruption-level': 'urgent' } }, 400, 'InvalidRequest'],
  ['content-available 2', { ...ok, aps: { 'content-available': 2 } }, 400, 'InvalidRequest'],
  ['data reserves aps', { ...ok, data: { aps: {} } }, 400, 'InvalidRequest'],
  ['data reserves pushgate', { ...ok, data: { pushgate: 1 } }, 400, 'InvalidRequest'],
  ['push type unknown', { ...ok, apns: { pushType: 'silent' } }, 400, 'InvalidRequest'],
  [
    'Live Activity timestamp in milliseconds',
    {
      ...ok,
      to: { activities: [{ userId: 'alice', activityId: 'order-1' }] },
      apns: { pushType: 'liveactivity' },
      aps: { event: 'update', 'content-state': { eta: 5 }, timestamp: 1_800_000_000_000 },
    },
    400,
    'InvalidRequest',
    /seconds since 1970/,
  ],
  [
    'Live Activity attributes-type that is not a Swift type name (it would reach into another key)',
    {
      ...ok,
      apns: { pushType: 'liveactivity' },
      aps: {
        event: 'start',
        'attributes-type': 'DeliveryAttributes|auth0',
        attributes: {},
        'content-state': {},
        alert: { title: 'x' },
      },
    },
    400,
    'InvalidRequest',
    /Swift type name/,
  ],
  ...['voip', 'pushtotalk', 'fileprovider', 'complication', 'location', 'widgets', 'controls', 'mdm'].map(
    (pushType): [string, unknown, number, string, RegExp] => [
      `push type ${pushType}, whose tokens pushgate does not register`,
      { ...ok, apns: { pushType } },
      400,
      'UnsupportedPushType',
      /need their own tokens/,
    ],
  ),
  ['priority 7', { ...ok, apns: { priority: 7 } }, 400, 'InvalidRequest'],
  ['expiration negative', { ...ok, apns: { expiration: -1 } }, 400, 'InvalidRequest'],
  ['collapse id over 64 bytes', { ...ok, apns: { collapseId: 'c'.repeat(65) } }, 400, 'InvalidRequest'],
  [
    'background at priority 10',
    { ...ok, aps: { 'content-available': 1 }, apns: { pushType: 'background', priority: 10 } },
    400,
    'InvalidRequest',
  ],
  ['repush without receipts', { ...ok, track: { repushAfterSeconds: 60 } }, 400, 'InvalidRequest'],
  ['repush after 0 s', { ...ok, track: { receipts: true, repushAfterSeconds: 0 } }, 400, 'InvalidRequest'],
  ['notification id with a slash', { ...ok, notificationId: 'a/b' }, 400, 'InvalidRequest'],
  ['payload over 4 KB', { ...ok, data: { blob: 'x'.repeat(4100) } }, 413, 'PayloadTooLarge'],
  // a key twice in one object: JSON.parse would keep the last one, other readers the first
  [
    'appId twice, the last one configured',
    rawJob(`"appId":"evil","appId":"${TEST_APP_ID}",${to},"aps":{"alert":"Hi"}}`),
    400,
    'DuplicateKey',
    /"appId" twice/,
  ],
  [
    'to twice: tokens, then users',
    rawJob(`"appId":"${TEST_APP_ID}","to":{"tokens":["zz"]},${to},"aps":{"alert":"Hi"}}`),
    400,
    'DuplicateKey',
    /"to" twice/,
  ],
  [
    'userIds twice in to',
    rawJob(`"appId":"${TEST_APP_ID}","to":{"userIds":["a"],"userIds":["b"]},"aps":{"alert":"Hi"}}`),
    400,
    'DuplicateKey',
    /"userIds" in "to" twice/,
  ],
  [
    '"alert" and "\\u0061lert" in aps',
    rawJob(`"appId":"${TEST_APP_ID}",${to},"aps":{"alert":"Hi","\\u0061lert":"Ho"}}`),
    400,
    'DuplicateKey',
    /"alert" in "aps" twice/,
  ],
  [
    'a key twice in an object of a data array',
    rawJob(
      `"appId":"${TEST_APP_ID}",${to},"aps":{"alert":"Hi"},"data":{"items":[{"id":1},{"id":2,"id":3}]}}`,
    ),
    400,
    'DuplicateKey',
    /"id" in "data\.items\.1" twice/,
  ],
  [
    'a key twice 30 levels down the data',
    rawJob(
      `"appId":"${TEST_APP_ID}",${to},"aps":{"alert":"Hi"},"data":${'{"d":'.repeat(28)}{"k":1,"k":2}${'}'.repeat(28)}}`,
    ),
    400,
    'DuplicateKey',
  ],
  // bytes that are not UTF-8 (the handler gets them base64-encoded and decodes strictly)
  ['alert bytes a FF FE C3 b', alertBytes(0xff, 0xfe, 0xc3), 400, 'InvalidEncoding', /UTF-8/],
  ['an overlong "/" (C0 AF) in the alert', alertBytes(0xc0, 0xaf), 400, 'InvalidEncoding'],
  ['a surrogate encoded as UTF-8 (ED A0 80)', alertBytes(0xed, 0xa0, 0x80), 400, 'InvalidEncoding'],
  // strings that are not Unicode text: a lone surrogate, escaped (the JSON is valid)
  [
    'a lone surrogate in the alert',
    rawJob(`"appId":"${TEST_APP_ID}",${to},"aps":{"alert":"a\\ud800b"}}`),
    400,
    'InvalidUnicode',
    /"aps\.alert" holds a lone surrogate/,
  ],
  [
    'a lone low surrogate in data',
    { ...ok, data: { note: 'x\udfff' } },
    400,
    'InvalidUnicode',
    /"data\.note"/,
  ],
  ['a lone surrogate in a data key', { ...ok, data: { 'k\ud800': 1 } }, 400, 'InvalidUnicode', /key/],
  [
    'an android override with an unknown priority',
    { ...ok, android: { priority: 'URGENT' } },
    400,
    'InvalidAndroidConfig',
    /"android\.priority"/,
  ],
  [
    'an android override spelled in camelCase',
    { ...ok, android: { collapseKey: 'x' } },
    400,
    'InvalidAndroidConfig',
    /collapseKey/,
  ],
  ['a data key FCM reserves', { ...ok, data: { 'google.sent_time': 1 } }, 400, 'ReservedDataKey', /google/],
  [
    'a message over FCM’s limit though the APNs payload fits',
    { ...ok, data: { a: 'x'.repeat(3_900), n: 1 }, android: { notification: { body: 'y'.repeat(300) } } },
    413,
    'PayloadTooLarge',
    /FCM/,
  ],
  [
    'a lone surrogate in a user id',
    { ...ok, to: { userIds: ['alice', 'b\ud800'] } },
    400,
    'InvalidUnicode',
    /"to\.userIds\.1"/,
  ],
];

describe('bad send requests', () => {
  beforeAll(async () => {
    await sqs.send(new PurgeQueueCommand({ QueueUrl: sendQueueUrl() }));
  });

  it('every refusal of a JSON body the route documents has a case, each with its documented status', () => {
    // Refusals no parsed body causes alone (no body, not JSON, wrong media type, too many bytes, an id taken), tested on their own.
    const notFromBody = [
      'MissingBody',
      'MalformedJson',
      'UnsupportedMediaType',
      'RequestTooLarge',
      'NotificationIdConflict',
    ];
    const documented = (OPERATIONS['POST /v1/notifications']?.errors ?? []).filter(
      (code) => !notFromBody.includes(code),
    );
    const cases = new Set(badBodies.map(([, , status, code]) => `${status} ${code}`));
    expect([...cases].sort()).toEqual(documented.map((code) => `${ERROR_CODES[code][0]} ${code}`).sort());
  });

  it.each(badBodies)('%s → %i %s, nothing enqueued or stored', async (_name, body, status, code, message) => {
    const notificationId = `bad-${Math.random().toString(36).slice(2)}`;
    const withId =
      typeof body === 'object' && body !== null && !Array.isArray(body) ? { notificationId, ...body } : body;
    const sent = body instanceof RawBody ? { rawBody: body.make(notificationId) } : { body: withId };
    const answer = await api('POST', '/v1/notifications', { backend: true, ...sent });
    expect(answer.status).toBe(status);
    expect(answer.body.error.code).toBe(code);
    expect(answer.body.error.message.length).toBeGreaterThan(10);
    expect(answer.body.error.message).toMatch(message ?? /./);
    expect(await queued()).toBe(0);
    const record = await db.send(
      new GetCommand({
        TableName: process.env[ENVIRONMENT.notificationsTable],
        Key: { pk: `notification#${notificationId}`, sk: 'request' },
      }),
    );
    expect(record.Item).toBeUndefined();
  });

  it('refuses a body nested 100 000 levels deep (200 KB) with 400 NestingTooDeep', async () => {
    const rawBody = `{"appId":"${TEST_APP_ID}","to":{"userIds":["a"]},"aps":{"alert":"Hi"},"data":{"d":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`;
    const answer = await api('POST', '/v1/notifications', { backend: true, rawBody });
    expect([answer.status, answer.body.error.code]).toEqual([400, 'NestingTooDeep']);
    expect(await queued()).toBe(0);
  });

  it('refuses a query parameter the route does not read, before reading the job', async () => {
    const answer = await api('POST', '/v1/notifications?dryRun=true', { backend: true, body: ok });
    expect([answer.status, answer.body.error.code]).toEqual([400, 'UnknownQueryParameter']);
    expect(answer.body.error.message).toMatch(/"dryRun"; this route reads none/);
    expect(await queued()).toBe(0);
  });

  it('refuses a duplicate key in a 5 MB job of 50 000 users, at its very end', async () => {
    const userIds = Array.from({ length: 50_000 }, (_, i) => `user-${i}-${'x'.repeat(90)}`);
    const job = JSON.stringify({ ...ok, to: { userIds } });
    const rawBody = `${job.slice(0, -1)},"appId":"${TEST_APP_ID}"}`;
    expect(Buffer.byteLength(rawBody)).toBeGreaterThan(5_000_000);
    const answer = await api('POST', '/v1/notifications', { backend: true, rawBody });
    expect([answer.status, answer.body.error.code]).toEqual([400, 'DuplicateKey']);
    expect(await queued()).toBe(0);
  });

  it('refuses malformed JSON and a wrong content type the same way', async () => {
    const malformed = await api('POST', '/v1/notifications', { backend: true, rawBody: '{"appId":' });
    expect([malformed.status, malformed.body.error.code]).toEqual([400, 'MalformedJson']);
    const form = await api('POST', '/v1/notifications', {
      backend: true,
      body: ok,
      headers: { 'content-type': 'text/plain' },
    });
    expect([form.status, form.body.error.code]).toEqual([415, 'UnsupportedMediaType']);
    expect(await queued()).toBe(0);
  });

  it('refuses no body and a body over the byte limit, before reading it as a job', async () => {
    const empty = await api('POST', '/v1/notifications', { backend: true, rawBody: '' });
    expect([empty.status, empty.body.error.code]).toEqual([400, 'MissingBody']);
    const rawBody = JSON.stringify({ ...ok, data: { blob: 'x'.repeat(MAX_SEND_BODY_BYTES) } });
    const huge = await api('POST', '/v1/notifications', { backend: true, rawBody });
    expect([huge.status, huge.body.error.code]).toEqual([413, 'RequestTooLarge']);
    expect(await queued()).toBe(0);
  });
});
