import { describe, expect, it } from 'vitest';
import { PushgateError } from '../../lambda/domain/errors';
import { sendJobSchema } from '../../lambda/domain/send-job';
import { parseStrictJson, scanJson } from '../../lambda/strict-json';
import { MAX_JSON_NESTING, parseWith } from '../../lambda/validation';

function refusal(action: () => unknown): PushgateError {
  try {
    action();
  } catch (error) {
    if (error instanceof PushgateError) return error;
    throw error;
  }
  throw new Error('accepted');
}

const findDuplicateKey = (text: string) => scanJson(text).duplicate;

describe('scanJson: the first key named twice', () => {
  it.each([
    ['an object', '{"appId":"com.example.app","to":{"userIds":["a","a"]},"aps":{"alert":"Hi"}}'],
    ['the same key in sibling objects', '{"a":{"id":1},"b":{"id":2},"c":[{"id":1},{"id":1}]}'],
    ['a value equal to a key', '{"a":"a","b":"a","c":["a","a"]}'],
    ['keys that differ in case only', '{"appId":1,"appid":2,"APPID":3}'],
    ['keys "1" and "01"', '{"1":1,"01":2,"1.0":3}'],
    [
      'strings holding quotes, brackets, commas and colons',
      '{"a":"x\\",\\"a\\":1,{[","b":"\\\\","c":"\\\\\\""}',
    ],
    ['a value that looks like a duplicate key', '{"k":"\\"k\\":2","j":1}'],
    ['keys ending in backslashes', '{"a\\\\":1,"a\\\\\\\\":2,"a":3}'],
    ['different lone surrogates', '{"\\ud800":1,"\\udc00":2}'],
    ['whitespace everywhere', ' { "a" : [ 1 , { "b" : 2 } ] , "b" : { } } '],
    ['a bare string', '"a"'],
    ['a number', '-1.5e3'],
    ['null', 'null'],
    ['an empty array', '[]'],
    ['empty objects in an array', '[{},{},{"k":1}]'],
  ])('finds none in %s', (_name, text) => {
    expect(() => JSON.parse(text)).not.toThrow();
    expect(findDuplicateKey(text)).toBeUndefined();
  });

  it.each<[string, string, (string | number)[]]>([
    ['at the top level', '{"appId":"evil","appId":"com.example.app"}', ['appId']],
    ['"to" twice with other recipients', '{"to":{"tokens":["zz"]},"to":{"userIds":["a"]}}', ['to']],
    ['nested', '{"aps":{"alert":{"title":"a","body":"b","title":"c"}}}', ['aps', 'alert', 'title']],
    [
      'in an object inside an array',
      '{"data":{"items":[{"id":1},{"id":2,"x":0,"id":3}]}}',
      ['data', 'items', 1, 'id'],
    ],
    ['after an empty object', '{"a":{},"a":1}', ['a']],
    ['after an empty array', '{"a":[],"b":[[]],"a":1}', ['a']],
    ['in the third element of a top-level array', '[{}, "x", {"k":1,"k":2}]', [2, 'k']],
    ['"a" and "\\u0061"', '{"a":1,"\\u0061":2}', ['a']],
    ['"/" and "\\/"', '{"/":1,"\\/":2}', ['/']],
    ['a raw and an escaped non-ASCII key', '{"ключ":1,"\\u043a\\u043b\\u044e\\u0447":2}', ['ключ']],
    ['an emoji and its surrogate pair escape', '{"😀":1,"\\ud83d\\ude00":2}', ['😀']],
    ['"__proto__"', '{"__proto__":{},"__proto__":[]}', ['__proto__']],
    ['keys with escaped quotes', '{"a\\"b":1,"a\\u0022b":2}', ['a"b']],
    ['the empty key', '{"":1,"":2}', ['']],
    ['after whitespace', '{ "a" : 1 ,\n\t"a" : 2 }', ['a']],
  ])('finds one %s', (_name, text, path) => {
    expect(() => JSON.parse(text)).not.toThrow();
    expect(findDuplicateKey(text)).toEqual(path);
  });

  it('walks 100 000 levels without recursion, and finds a duplicate at the bottom', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(findDuplicateKey(deep)).toBeUndefined();
    const bottom = `${'{"k":'.repeat(10_000)}{"x":1,"x":2}${'}'.repeat(10_000)}`;
    expect(findDuplicateKey(bottom)).toEqual([...Array.from({ length: 10_000 }, () => 'k'), 'x']);
  });

  it('reads a 5 MB body of 50 000 user ids, and finds one repeated key at its very end', () => {
    const userIds = Array.from({ length: 50_000 }, (_, i) => `user-${i}-${'x'.repeat(90)}`);
    const text = JSON.stringify({ appId: 'com.example.app', to: { userIds }, aps: { alert: 'Hi' } });
    expect(text.length).toBeGreaterThan(5_000_000);
    expect(findDuplicateKey(text)).toBeUndefined();
    expect(findDuplicateKey(`${text.slice(0, -1)},"aps":{}}`)).toEqual(['aps']);
  });

  it('tells apart 50 000 keys of one object, and finds the one repeated among them', () => {
    const keys = Array.from({ length: 50_000 }, (_, i) => `"key-${i}":${i}`);
    expect(findDuplicateKey(`{${keys.join(',')}}`)).toBeUndefined();
    expect(findDuplicateKey(`{${keys.join(',')},"key-\\u0034\\u0032":0}`)).toEqual(['key-42']);
  });
});

describe('scanJson: nesting', () => {
  const nested = (levels: number) => `${'[{"k":'.repeat(levels / 2)}0${'}]'.repeat(levels / 2)}`;

  it(`counts levels as the validation walk does: ${MAX_JSON_NESTING} pass, ${MAX_JSON_NESTING + 2} do not`, () => {
    expect(scanJson(nested(MAX_JSON_NESTING), MAX_JSON_NESTING).tooDeep).toBe(false);
    expect(() => parseWith(sendJobSchema, JSON.parse(nested(MAX_JSON_NESTING)))).not.toThrow(/deep/);
    expect(scanJson(nested(MAX_JSON_NESTING + 2), MAX_JSON_NESTING).tooDeep).toBe(true);
    expect(scanJson(`[${nested(MAX_JSON_NESTING)}]`, MAX_JSON_NESTING).tooDeep).toBe(true);
  });

  it('ignores brackets inside strings', () => {
    const text = `{"a":"${'[{'.repeat(100)}","b":["\\"[[["]}`;
    expect(() => JSON.parse(text)).not.toThrow();
    expect(scanJson(text, 3)).toEqual({ tooDeep: false });
  });

  it('stops at the first level too deep, whatever follows (valid or not)', () => {
    expect(scanJson(`${'['.repeat(5_000_000)}`, MAX_JSON_NESTING)).toEqual({ tooDeep: true });
  });

  it('still sees a level too deep after a duplicate key, and reports both', () => {
    const text = `{"a":1,"a":2,"b":${'['.repeat(40)}${']'.repeat(40)}}`;
    expect(scanJson(text, MAX_JSON_NESTING)).toEqual({ duplicate: ['a'], tooDeep: true });
  });
});

describe('parseStrictJson', () => {
  it('refuses nesting past 32 levels before parsing: even an unterminated text is NestingTooDeep', () => {
    const error = refusal(() => parseStrictJson('['.repeat(100_000), 'The request body'));
    expect([error.statusCode, error.code, error.message]).toEqual([
      400,
      'NestingTooDeep',
      `The request body nests objects and arrays more than ${MAX_JSON_NESTING} levels deep.`,
    ]);
  });

  it('answers the value JSON.parse does when every key is unique', () => {
    const text = '{"a":[1,{"b":"\\u00e9"}],"c":null}';
    expect(parseStrictJson(text, 'The request body')).toEqual(JSON.parse(text));
  });

  it('refuses what is not JSON with MalformedJson, naming the subject', () => {
    const error = refusal(() => parseStrictJson('{"a":1,}', 'The message body'));
    expect([error.statusCode, error.code, error.message]).toEqual([
      400,
      'MalformedJson',
      'The message body is not valid JSON.',
    ]);
  });

  it('refuses a repeated key with DuplicateKey, naming the key and where it is', () => {
    const top = refusal(() => parseStrictJson('{"appId":"a","appId":"b"}', 'The request body'));
    expect([top.statusCode, top.code]).toEqual([400, 'DuplicateKey']);
    expect(top.message).toBe(
      'The request body names the key "appId" twice; each key may appear once per object.',
    );
    const nested = refusal(() => parseStrictJson('{"data":{"items":[{"id":1,"\\u0069d":2}]}}', 'The body'));
    expect(nested.message).toMatch(/^The body names the key "id" in "data\.items\.0" twice/);
  });

  it('cuts a long key in the message, so a hostile body cannot make the answer as large as itself', () => {
    const key = 'k'.repeat(100_000);
    const error = refusal(() => parseStrictJson(`{"${key}":1,"${key}":2}`, 'The request body'));
    expect(error.message.length).toBeLessThan(200);
    expect(error.message).toContain(`"${'k'.repeat(64)}…"`);
  });
});

describe('well-formed Unicode (parseWith)', () => {
  const ok = { appId: 'com.example.app', to: { userIds: ['alice'] }, aps: { alert: 'Hi' } };

  it.each<[string, unknown, RegExp]>([
    ['in an alert', { ...ok, aps: { alert: 'a\ud800b' } }, /^"aps\.alert" holds a lone surrogate/],
    ['a low half alone', { ...ok, aps: { alert: { body: 'x\udfff' } } }, /^"aps\.alert\.body"/],
    ['halves in the wrong order', { ...ok, data: { note: '\ude00\ud83d' } }, /^"data\.note"/],
    ['in an array of data', { ...ok, data: { list: ['ok', '\ud800'] } }, /^"data\.list\.1"/],
    ['in a key of data', { ...ok, data: { 'k\ud800': 1 } }, /^The key "k\\ud800" in "data" holds/],
    ['in a user id', { ...ok, to: { userIds: ['alice', 'b\udc00'] } }, /^"to\.userIds\.1"/],
  ])('refuses a lone surrogate %s with InvalidUnicode, naming where', (_name, job, message) => {
    const error = refusal(() => parseWith(sendJobSchema, job));
    expect([error.statusCode, error.code]).toEqual([400, 'InvalidUnicode']);
    expect(error.message).toMatch(message);
  });

  it('refuses a value that is itself a string with a lone surrogate, naming the subject', () => {
    const error = refusal(() => parseWith(sendJobSchema, '\ud800', 'The path parameter "id"'));
    expect(error.message).toMatch(/^The path parameter "id" holds a lone surrogate/);
  });

  it('lets surrogate pairs, U+FFFE, U+FFFF and U+FFFD through', () => {
    const data = { emoji: '😀 \ud83d\ude00', noncharacters: 'a\ufffeb\uffffc', replacement: '\ufffd' };
    expect(parseWith(sendJobSchema, { ...ok, data }).data).toEqual(data);
  });
});
