import { describe, expect, it } from 'vitest';
import { asciiJson } from '../../lambda/adapters/secondary/send-queue';
import { compileApnsRequest, pushTypeOf } from '../../lambda/domain/apns-request';
import { PushgateError } from '../../lambda/domain/errors';
import { jobFingerprint, normalizeSendJob, type SendJob, sendJobSchema } from '../../lambda/domain/send-job';
import { userIdSchema } from '../../lambda/domain/user';
import { MAX_JSON_NESTING, parseWith } from '../../lambda/validation';

const ok = { appId: 'com.example.app', to: { userIds: ['alice'] }, aps: { alert: 'Hi' } };
const token = 'ab'.repeat(32);

const parseJob = (value: unknown): SendJob => normalizeSendJob(parseWith(sendJobSchema, value), 'n-1');
const parseJson = (json: string): SendJob => parseJob(JSON.parse(json));

function refusal(value: unknown): PushgateError {
  try {
    parseJob(value);
  } catch (error) {
    if (error instanceof PushgateError) return error;
    throw error;
  }
  throw new Error('accepted');
}

/** `levels` arrays around a string. */
function nested(levels: number): unknown {
  let value: unknown = 'x';
  for (let i = 0; i < levels; i++) value = [value];
  return value;
}

describe('nesting limit', () => {
  it(`accepts a job ${MAX_JSON_NESTING} levels deep and refuses one level more with NestingTooDeep`, () => {
    // The job is level 1 and data level 2: the arrays inside fill the rest.
    expect(() => parseJob({ ...ok, data: { deep: nested(MAX_JSON_NESTING - 2) } })).not.toThrow();
    const error = refusal({ ...ok, data: { deep: nested(MAX_JSON_NESTING - 1) } });
    expect([error.statusCode, error.code]).toEqual([400, 'NestingTooDeep']);
  });

  it('refuses 100 000 levels without exhausting the stack', () => {
    expect(refusal({ ...ok, data: { deep: nested(100_000) } }).code).toBe('NestingTooDeep');
  });

  it('names the subject it was given, e.g. a path parameter', () => {
    expect(() => parseWith(userIdSchema, 'a b', 'The path parameter "userId"')).toThrow(
      /^The path parameter "userId": /,
    );
  });
});

describe('messages for "to"', () => {
  it.each([
    ['50 001 users', { userIds: Array.from({ length: 50_001 }, (_, i) => `u${i}`) }, /at most 50000 users/],
    ['50 001 tokens', { tokens: Array.from({ length: 50_001 }, () => token) }, /at most 50000 tokens/],
    ['no users', { userIds: [] }, /at least one user/],
    ['userIds not an array', { userIds: 'alice' }, /^"to.userIds": /],
    ['an unknown key next to userIds', { userIds: ['a'], groups: ['g'] }, /Unknown field "groups" in "to"/],
    ['both forms', { userIds: ['a'], tokens: [token] }, /"to" is \{"userIds"/],
    ['neither form', {}, /"to" is \{"userIds"/],
  ])('%s: the message says what is wrong', (_name, to, message) => {
    expect(refusal({ ...ok, to }).message).toMatch(message);
  });
});

describe('unknown fields', () => {
  it('names at most five of them, however many there are', () => {
    const aps = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, 1]));
    const error = refusal({ ...ok, aps });
    expect(error.code).toBe('UnknownField');
    expect(error.message).toBe(
      'Unknown field "k0", "k1", "k2", "k3", "k4" and 9995 more in "aps"; only documented fields are accepted.',
    );
  });
});

describe('collapse id', () => {
  it.each([
    ['NUL', 'a\u0000b'],
    ['LF', 'a\nb'],
    ['CR', 'a\rb'],
    ['DEL', 'a\u007f'],
    ['tab', 'a\tb'],
    ['non-ASCII', 'bestellung-ä'],
    ['leading space', ' a'],
    ['trailing space', 'a '],
    ['empty', ''],
    ['65 bytes', 'c'.repeat(65)],
  ])('refuses %s', (_name, collapseId) => {
    expect(refusal({ ...ok, apns: { collapseId } }).code).toBe('InvalidRequest');
  });

  it('accepts printable ASCII with inner spaces up to 64 bytes and sends it as the header', () => {
    const collapseId = `order 1 ${'x'.repeat(56)}`;
    const job = parseJob({ ...ok, apns: { collapseId } });
    expect(compileApnsRequest(job, 'com.example.app').headers['apns-collapse-id']).toBe(collapseId);
  });
});

describe('user ids', () => {
  it.each(['tenant/alice', 'a?b', 'a#b', 'a b', 'a\u0000', 'é', 'u'.repeat(257), ''])('refuses %j', (id) => {
    expect(userIdSchema.safeParse(id).success).toBe(false);
  });

  it.each(['alice', 'p%41', '100%', 'auth0|5f1c', '001234.abcd.0987', 'u'.repeat(256)])(
    'accepts %j',
    (id) => {
      expect(userIdSchema.safeParse(id).success).toBe(true);
    },
  );
});

describe('pushTypeOf', () => {
  const withAps = (aps: Record<string, unknown>, apns?: Record<string, unknown>) =>
    parseJob({ ...ok, aps, ...(apns === undefined ? {} : { apns }) });

  it('infers background at priority 5 when aps holds only content-available', () => {
    const job = withAps({ 'content-available': 1 });
    expect(pushTypeOf(job)).toBe('background');
    expect(compileApnsRequest(job, 'com.example.app').headers).toMatchObject({
      'apns-push-type': 'background',
      'apns-priority': '5',
    });
  });

  it.each([
    ['an alert besides content-available', { 'content-available': 1, alert: 'Hi' }, undefined, 'alert'],
    ['a badge besides content-available', { 'content-available': 1, badge: 2 }, undefined, 'alert'],
    ['an explicit push type', { 'content-available': 1 }, { pushType: 'alert' }, 'alert'],
    ['an explicit priority 10', { 'content-available': 1 }, { priority: 10 }, 'alert'],
    ['priority 1', { 'content-available': 1 }, { priority: 1 }, 'background'],
    ['no content-available', { alert: 'Hi' }, undefined, 'alert'],
  ])('with %s: %s', (_name, aps, apns, expected) => {
    expect(pushTypeOf(withAps(aps, apns))).toBe(expected);
  });
});

describe('__proto__ in data', () => {
  it('is kept at every depth and reaches the payload', () => {
    const job = parseJson(
      '{"appId":"com.example.app","to":{"userIds":["a"]},"aps":{"alert":"Hi"},"data":{"__proto__":{"x":1},"k":{"__proto__":2}}}',
    );
    expect(compileApnsRequest(job, 'com.example.app').body).toBe(
      '{"__proto__":{"x":1},"k":{"__proto__":2},"aps":{"alert":"Hi"},"pushgate":{"id":"n-1"}}',
    );
  });

  it('an own "pushgate" key in data is still refused as reserved', () => {
    expect(
      refusal(JSON.parse('{"appId":"com.example.app","to":{"userIds":["a"]},"aps":{},"data":{"pushgate":1}}'))
        .code,
    ).toBe('InvalidRequest');
  });
});

describe('jobFingerprint', () => {
  const base = parseJob({ ...ok, notificationId: 'n-1', data: { a: 1, b: [1, 2] } });

  it('is the same for the same job written in another key order or token case', () => {
    const reordered = parseJson(
      '{"data":{"b":[1,2],"a":1},"aps":{"alert":"Hi"},"to":{"userIds":["alice"]},"appId":"com.example.app","notificationId":"n-1"}',
    );
    expect(jobFingerprint(reordered)).toBe(jobFingerprint(base));
    const byToken = (spelled: string) => jobFingerprint(parseJob({ ...ok, to: { tokens: [spelled] } }));
    expect(byToken(token.toUpperCase())).toBe(byToken(token));
  });

  it.each([
    ['recipients', { to: { userIds: ['bob'] } }],
    ['recipient order', { to: { userIds: ['alice', 'bob'] } }],
    ['content', { aps: { alert: 'Ho' } }],
    ['data', { data: { a: 2, b: [1, 2] } }],
    ['array order in data', { data: { a: 1, b: [2, 1] } }],
    ['options', { apns: { priority: 5 } }],
    ['tracking', { track: { receipts: true } }],
  ])('differs when the %s differ', (_name, change) => {
    expect(
      jobFingerprint(parseJob({ ...ok, notificationId: 'n-1', data: { a: 1, b: [1, 2] }, ...change })),
    ).not.toBe(jobFingerprint(base));
  });

  it('counts a "__proto__" key like any other', () => {
    const json = (data: string) =>
      `{"appId":"com.example.app","to":{"userIds":["alice"]},"aps":{"alert":"Hi"},"data":${data}}`;
    expect(jobFingerprint(parseJson(json('{"__proto__":{"x":1}}')))).not.toBe(
      jobFingerprint(parseJson(json('{"__proto__":{"x":2}}'))),
    );
  });
});

describe('asciiJson', () => {
  const texts = {
    emoji: '🎉 👍🏽 👨‍👩‍👧',
    accents: 'Grüße, ñ, 東京',
    noncharacters: '\ufffe\uffff',
    loneSurrogates: '\ud800 \udfff',
    del: '\u007f',
    lineSeparator: '\u2028',
  };

  it('is plain printable ASCII and parses back to the same value', () => {
    const json = JSON.stringify({ texts, [texts.emoji]: 'key' });
    const ascii = asciiJson(json);
    expect(ascii).toMatch(/^[\x20-\x7e]*$/);
    expect(JSON.parse(ascii)).toEqual(JSON.parse(json));
  });

  it('leaves ASCII JSON untouched', () => {
    const json = JSON.stringify({ a: 'plain "quoted" \\ text', n: [1, 2.5, null, true] });
    expect(asciiJson(json)).toBe(json);
  });
});
