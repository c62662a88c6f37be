import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../infra/api-routes';
import { findRoute } from '../../local/http-dispatch';
import { ERROR_CODES, type ErrorCode } from '../../scripts/api-error-codes';
import { routeErrors } from '../../scripts/api-operations';
import { operationKey } from '../../scripts/openapi';
import { api, jwtWithClaims, newToken, newUser } from '../support/api';
import { TEST_APP_ID, TEST_APP_WITHOUT_FCM } from '../support/embedded-services';

const db = new DynamoDBClient({});
const tableName = () => process.env.DEVICES_TABLE_NAME ?? '';
/** Counts every item of the table: a bad request must leave it exactly as it was. */
async function tableSize(): Promise<number> {
  let count = 0;
  let start: Record<string, never> | undefined;
  do {
    const page = await db.send(
      new ScanCommand({ TableName: tableName(), Select: 'COUNT', ExclusiveStartKey: start }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey as typeof start;
  } while (start);
  return count;
}

const token = newToken();
const ok = { appId: TEST_APP_ID, environment: 'production' };

interface BadRequest {
  name: string;
  method?: string;
  path?: string;
  body?: unknown;
  rawBody?: string | Uint8Array;
  headers?: Record<string, string>;
  /** The caller's verified JWT claims, when not a fresh valid user. */
  claims?: Record<string, string | number | boolean | string[]>;
  status: number;
  code: string;
  /** What the message must say, beyond being a sentence. */
  message?: RegExp;
}

/** What API Gateway passes on for a token whose `sub` has this JSON value, and the token itself. */
function callerWithSub(sub: unknown): Pick<BadRequest, 'claims' | 'headers'> {
  const passedOn = Array.isArray(sub) ? `[${sub.join(' ')}]` : String(sub);
  return {
    claims: { sub: passedOn, iss: 'https://issuer.test', aud: 'pushgate' },
    headers: {
      authorization: `Bearer ${jwtWithClaims({ sub, iss: 'https://issuer.test', aud: 'pushgate' })}`,
    },
  };
}

/** 32 bytes of "a": a double-decoded `%2561…` would register exactly this token. */
const aaaToken = 'a'.repeat(64);
/** A registration whose appVersion holds these bytes after "1.", sent with `Content-Type: application/json`. */
const appVersionBytes = (...bytes: number[]) =>
  Buffer.concat([
    Buffer.from(`{"appId":"${TEST_APP_ID}","environment":"production","appVersion":"1.`),
    Buffer.from(bytes),
    Buffer.from('"}'),
  ]);
const deepLocale = `{"appId":"${TEST_APP_ID}","environment":"production","locale":${'['.repeat(1000)}${']'.repeat(1000)}}`;

const badRequests: BadRequest[] = [
  // the body itself
  { name: 'no body', status: 400, code: 'MissingBody' },
  { name: 'empty body', rawBody: '', status: 400, code: 'MissingBody' },
  { name: 'truncated JSON', rawBody: '{"appId": "com.example.app"', status: 400, code: 'MalformedJson' },
  { name: 'not JSON at all', rawBody: 'appId=com.example.app', status: 400, code: 'MalformedJson' },
  {
    name: 'JSON with a trailing comma',
    rawBody: '{"appId":"com.example.app",}',
    status: 400,
    code: 'MalformedJson',
  },
  { name: 'a JSON array', body: [ok], status: 400, code: 'InvalidRequest' },
  { name: 'a JSON string', body: 'com.example.app', status: 400, code: 'InvalidRequest' },
  { name: 'JSON null', rawBody: 'null', status: 400, code: 'InvalidRequest' },
  {
    name: 'form content type',
    body: ok,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 415,
    code: 'UnsupportedMediaType',
  },
  {
    name: 'text content type',
    body: ok,
    headers: { 'content-type': 'text/plain' },
    status: 415,
    code: 'UnsupportedMediaType',
  },
  {
    name: 'a body over 4 KiB',
    body: { ...ok, appVersion: 'x'.repeat(5000) },
    status: 413,
    code: 'RequestTooLarge',
  },
  // fields
  { name: 'unknown field', body: { ...ok, userId: 'someone-else' }, status: 400, code: 'UnknownField' },
  { name: 'unknown field token in body', body: { ...ok, token }, status: 400, code: 'UnknownField' },
  { name: 'missing appId', body: { environment: 'sandbox' }, status: 400, code: 'InvalidRequest' },
  {
    name: 'an Android registration naming an environment',
    path: '/v1/devices/fMEP0vJqS0:APA91bHq-X3_mF',
    body: { appId: TEST_APP_ID, platform: 'android', environment: 'production' },
    status: 400,
    code: 'EnvironmentNotForAndroid',
  },
  {
    name: 'an Android registration for an app without FCM',
    path: '/v1/devices/fMEP0vJqS0:APA91bHq-X3_mF',
    body: { appId: TEST_APP_WITHOUT_FCM, platform: 'android' },
    status: 400,
    code: 'FcmNotConfigured',
  },
  { name: 'missing environment', body: { appId: TEST_APP_ID }, status: 400, code: 'InvalidRequest' },
  { name: 'empty object', body: {}, status: 400, code: 'InvalidRequest' },
  { name: 'appId a number', body: { ...ok, appId: 42 }, status: 400, code: 'InvalidRequest' },
  { name: 'appId without a dot', body: { ...ok, appId: 'myapp' }, status: 400, code: 'InvalidRequest' },
  {
    name: 'appId oversized',
    body: { ...ok, appId: `com.${'a'.repeat(160)}` },
    status: 400,
    code: 'InvalidRequest',
  },
  {
    name: 'appId not configured',
    body: { ...ok, appId: 'com.unknown.app' },
    status: 400,
    code: 'UnknownApp',
  },
  {
    name: 'environment development',
    body: { ...ok, environment: 'development' },
    status: 400,
    code: 'InvalidRequest',
  },
  {
    name: 'environment upper case',
    body: { ...ok, environment: 'SANDBOX' },
    status: 400,
    code: 'InvalidRequest',
  },
  { name: 'environment boolean', body: { ...ok, environment: true }, status: 400, code: 'InvalidRequest' },
  { name: 'locale with underscore', body: { ...ok, locale: 'en_US' }, status: 400, code: 'InvalidRequest' },
  {
    name: 'locale oversized',
    body: { ...ok, locale: `en-${'abcdefgh-'.repeat(5)}x` },
    status: 400,
    code: 'InvalidRequest',
  },
  { name: 'locale a number', body: { ...ok, locale: 1 }, status: 400, code: 'InvalidRequest' },
  { name: 'locale null', body: { ...ok, locale: null }, status: 400, code: 'InvalidRequest' },
  { name: 'appVersion empty', body: { ...ok, appVersion: '' }, status: 400, code: 'InvalidRequest' },
  {
    name: 'appVersion oversized',
    body: { ...ok, appVersion: '1.'.repeat(20) },
    status: 400,
    code: 'InvalidRequest',
  },
  {
    name: 'appVersion with control characters',
    body: { ...ok, appVersion: '1.0\n<script>' },
    status: 400,
    code: 'InvalidRequest',
  },
  // the token in the path
  {
    name: 'iOS 13 description token',
    path: `/v1/devices/${encodeURIComponent(`{length = 32, bytes = 0x${token.slice(0, 8)} ... ${token.slice(-8)} }`)}`,
    body: ok,
    status: 400,
    code: 'InvalidDeviceToken',
  },
  {
    name: 'token with non-hex characters',
    path: `/v1/devices/${token.slice(0, 62)}zz`,
    body: ok,
    status: 400,
    code: 'InvalidDeviceToken',
  },
  {
    name: 'token of odd length',
    path: `/v1/devices/${token}a`,
    body: ok,
    status: 400,
    code: 'InvalidDeviceToken',
  },
  {
    name: 'token too short',
    path: `/v1/devices/${newToken(15)}`,
    body: ok,
    status: 400,
    code: 'InvalidDeviceToken',
  },
  {
    name: 'token too long',
    path: `/v1/devices/${newToken(201)}`,
    body: ok,
    status: 400,
    code: 'InvalidDeviceToken',
  },
  {
    name: 'token base64 encoded',
    path: `/v1/devices/${encodeURIComponent(Buffer.from('ab'.repeat(32), 'hex').toString('base64'))}`,
    body: ok,
    status: 400,
    code: 'InvalidDeviceToken',
  },
  {
    name: 'token with dashes',
    path: `/v1/devices/${token.match(/.{8}/g)?.join('-')}`,
    body: ok,
    status: 400,
    code: 'InvalidDeviceToken',
  },
  {
    // An escape that is not UTF-8 reaches the handler as it was, and is no hex.
    name: 'token with broken URL encoding',
    path: '/v1/devices/%E0%A4%A',
    body: ok,
    status: 400,
    code: 'InvalidDeviceToken',
  },
  {
    name: 'token double-encoded (%2561… is "%61…", never "aa…")',
    path: `/v1/devices/%2561${aaaToken.slice(2)}`,
    body: ok,
    status: 400,
    code: 'InvalidDeviceToken',
  },
  {
    name: 'token after a no-break space',
    path: `/v1/devices/%C2%A0${token}`,
    body: ok,
    status: 400,
    code: 'InvalidDeviceToken',
    message: /whitespace/,
  },
  {
    name: 'token after a byte order mark',
    path: `/v1/devices/%EF%BB%BF${token}`,
    body: ok,
    status: 400,
    code: 'InvalidDeviceToken',
  },
  {
    name: 'token before a line separator (U+2028)',
    path: `/v1/devices/${token}%E2%80%A8`,
    body: ok,
    status: 400,
    code: 'InvalidDeviceToken',
  },
  {
    name: 'token after a tab',
    path: `/v1/devices/%09${token}`,
    body: ok,
    status: 400,
    code: 'InvalidDeviceToken',
  },
  {
    name: 'token before a space',
    path: `/v1/devices/${token}%20`,
    body: ok,
    status: 400,
    code: 'InvalidDeviceToken',
  },
  // nesting
  { name: 'a body nested 1 000 levels deep', rawBody: deepLocale, status: 400, code: 'NestingTooDeep' },
  // a key twice: JSON.parse would keep the last one, other readers the first
  {
    name: 'environment twice',
    rawBody: `{"appId":"${TEST_APP_ID}","environment":"sandbox","environment":"production"}`,
    status: 400,
    code: 'DuplicateKey',
    message: /"environment" twice/,
  },
  {
    name: 'appId twice, once escaped ("\\u0061ppId")',
    rawBody: `{"appId":"com.other.app","environment":"sandbox","\\u0061ppId":"${TEST_APP_ID}"}`,
    status: 400,
    code: 'DuplicateKey',
    message: /"appId" twice/,
  },
  // bytes that are not UTF-8, and strings that are not Unicode text
  {
    name: 'appVersion bytes FF FE C3',
    rawBody: appVersionBytes(0xff, 0xfe, 0xc3),
    status: 400,
    code: 'InvalidEncoding',
    message: /UTF-8/,
  },
  {
    name: 'appVersion with a UTF-8 encoded surrogate',
    rawBody: appVersionBytes(0xed, 0xb0, 0x80),
    status: 400,
    code: 'InvalidEncoding',
  },
  {
    name: 'appVersion with a lone surrogate',
    rawBody: `{"appId":"${TEST_APP_ID}","environment":"production","appVersion":"1.0\\udc00"}`,
    status: 400,
    code: 'InvalidUnicode',
    message: /"appVersion"/,
  },
  // query parameters no route reads: refused, never ignored
  {
    name: "GET /v1/devices?userId=bob (never bob's list, nor the caller's)",
    method: 'GET',
    path: '/v1/devices?userId=bob',
    status: 400,
    code: 'UnknownQueryParameter',
    message: /^Unknown query parameter "userId"; this route reads none\.$/,
  },
  {
    name: 'PUT with ?userId=',
    path: `/v1/devices/${token}?userId=bob`,
    body: ok,
    status: 400,
    code: 'UnknownQueryParameter',
  },
  {
    name: 'backend list with ?limit=',
    method: 'GET',
    path: '/v1/users/alice/devices?limit=10',
    status: 400,
    code: 'UnknownQueryParameter',
  },
  // the caller's identity (the JWT's sub claim)
  {
    name: 'sub with a space',
    body: ok,
    ...callerWithSub('alice smith'),
    status: 403,
    code: 'InvalidSubject',
  },
  { name: 'sub with NUL', body: ok, ...callerWithSub('alice\u0000'), status: 403, code: 'InvalidSubject' },
  {
    name: 'sub of 5 000 characters',
    body: ok,
    ...callerWithSub('u'.repeat(5000)),
    status: 403,
    code: 'InvalidSubject',
    message: /at most 256/,
  },
  {
    name: 'sub with a slash',
    body: ok,
    ...callerWithSub('tenant/alice'),
    status: 403,
    code: 'InvalidSubject',
  },
  { name: 'sub non-ASCII', body: ok, ...callerWithSub('alicé'), status: 403, code: 'InvalidSubject' },
  {
    name: 'sub a number',
    body: ok,
    ...callerWithSub(12345),
    status: 403,
    code: 'InvalidSubject',
    message: /not a string/,
  },
  { name: 'sub an array', body: ok, ...callerWithSub(['alice']), status: 403, code: 'InvalidSubject' },
  { name: 'sub a boolean', body: ok, ...callerWithSub(true), status: 403, code: 'InvalidSubject' },
  {
    name: 'no sub claim',
    body: ok,
    claims: { iss: 'https://issuer.test', aud: 'pushgate' },
    status: 401,
    code: 'Unauthorized',
  },
  { name: 'empty sub', body: ok, ...callerWithSub(''), status: 401, code: 'Unauthorized' },
  {
    name: 'GET /v1/devices with a sub with spaces',
    method: 'GET',
    path: '/v1/devices',
    ...callerWithSub('a b'),
    status: 403,
    code: 'InvalidSubject',
  },
  {
    name: 'DELETE /v1/devices/{token} with a numeric sub',
    method: 'DELETE',
    path: `/v1/devices/${token}`,
    ...callerWithSub(7),
    status: 403,
    code: 'InvalidSubject',
  },
  {
    name: 'unbalanced NSData brackets',
    path: `/v1/devices/${encodeURIComponent(`<${token}`)}`,
    body: ok,
    status: 400,
    code: 'InvalidDeviceToken',
  },
  // other routes
  {
    name: 'DELETE with an invalid token',
    method: 'DELETE',
    path: '/v1/devices/nothex',
    status: 400,
    code: 'InvalidDeviceToken',
  },
  {
    name: 'backend list with an oversized user id',
    method: 'GET',
    path: `/v1/users/${'u'.repeat(300)}/devices`,
    status: 400,
    code: 'InvalidRequest',
    message: /^The path parameter "userId": /,
  },
  {
    name: 'backend list with a user id holding an encoded "?"',
    method: 'GET',
    path: '/v1/users/a%3Fb/devices',
    status: 400,
    code: 'InvalidRequest',
    message: /path parameter/,
  },
  {
    name: 'backend erase with an empty-looking user id (a decoded tab)',
    method: 'DELETE',
    path: '/v1/users/%09/devices',
    status: 400,
    code: 'InvalidRequest',
    message: /path parameter/,
  },
  {
    name: 'backend erase with a user id with spaces',
    method: 'DELETE',
    path: `/v1/users/${encodeURIComponent('a b')}/devices`,
    status: 400,
    code: 'InvalidRequest',
  },
];

describe('bad device requests', () => {
  it('every refusal PUT /v1/devices/{token} documents has a case, and each case expects a code its route documents, with its status', () => {
    const registerRefusals = new Set<string>();
    for (const bad of badRequests) {
      const method = bad.method ?? 'PUT';
      const found = findRoute(method, (bad.path ?? `/v1/devices/${token}`).split('?')[0] ?? '');
      const key = found === undefined ? `no route for ${bad.name}` : operationKey(found.route);
      expect(routeErrors(key), bad.name).toContain(bad.code);
      expect(ERROR_CODES[bad.code as ErrorCode][0], bad.name).toBe(bad.status);
      if (key === 'PUT /v1/devices/{token}') registerRefusals.add(bad.code);
    }
    expect([...registerRefusals].sort()).toEqual(
      routeErrors('PUT /v1/devices/{token}')
        // RegistrationConflict answers a burst of registrations, not a bad request:
        // device-registration-bursts.test.ts.
        .filter((code) => code !== 'InternalError' && code !== 'RegistrationConflict')
        .sort(),
    );
  });

  it.each(badRequests)('$name → $status $code, and nothing is written', async (bad) => {
    const before = await tableSize();
    const method = bad.method ?? 'PUT';
    const answer = await api(method, bad.path ?? `/v1/devices/${token}`, {
      as: newUser(),
      ...(bad.claims === undefined ? {} : { claims: bad.claims }),
      backend: bad.path?.startsWith('/v1/users/') ?? false,
      ...(bad.rawBody === undefined ? {} : { rawBody: bad.rawBody }),
      ...(bad.body === undefined ? {} : { body: bad.body }),
      ...(bad.headers === undefined ? {} : { headers: bad.headers }),
    });
    expect(answer.status).toBe(bad.status);
    expect(answer.body.error.code).toBe(bad.code);
    expect(answer.body.error.message).toMatch(/^[A-Z"].{10,}/);
    expect(answer.body.error.message).toMatch(bad.message ?? /./);
    expect(Object.keys(answer.body)).toEqual(['error']);
    expect(await tableSize()).toBe(before);
  });
});

describe('query parameters on every route', () => {
  const values: Record<string, string> = { token, userId: 'alice', id: 'n-1', activityId: 'order-1' };
  it.each(API_ROUTES.map((route) => [operationKey(route), route] as const))(
    '%s?debug=1 → 400 UnknownQueryParameter, and nothing is written',
    async (_key, route) => {
      const before = await tableSize();
      const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? name);
      const answer = await api(route.method, `${path}?debug=1`, {
        as: newUser(),
        backend: route.auth === 'iam',
        ...(route.method === 'PUT' || route.method === 'POST' ? { body: ok } : {}),
      });
      expect([answer.status, answer.body.error?.code]).toEqual([400, 'UnknownQueryParameter']);
      expect(answer.body.error.message).toMatch(/^Unknown query parameter "debug"; /);
      expect(await tableSize()).toBe(before);
    },
  );
});
