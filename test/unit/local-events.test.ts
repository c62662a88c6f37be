import { APIGatewayProxyEventV2Schema, SqsSchema } from '@aws-lambda-powertools/parser/schemas';
import { describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../infra/api-routes';
import { findRoute } from '../../local/http-dispatch';
import { apiGatewayEvent, decodeRequestPath, eventBody, matchRoute } from '../../local/lambda-events';
import { sqsRecord } from '../../local/sqs-event-source';

const route = (name: string) => API_ROUTES.find((r) => r.name === name) ?? (undefined as never);

describe('offline events have the shape AWS delivers (Powertools parser schemas)', () => {
  it('API Gateway v2.0 event with a JWT authorizer', () => {
    const register = route('register-device');
    const params = matchRoute(register, 'PUT', `/v1/devices/${'ab'.repeat(32)}`) ?? {};
    const event = apiGatewayEvent(
      register,
      {
        method: 'PUT',
        url: `/v1/devices/${'ab'.repeat(32)}?x=1`,
        headers: { 'Content-Type': 'application/json' },
        body: '{}',
      },
      params,
      { jwt: { sub: 'alice', iss: 'https://issuer', aud: 'pushgate' } },
    );
    const parsed = APIGatewayProxyEventV2Schema.parse(event);
    expect(parsed.routeKey).toBe('PUT /v1/devices/{token}');
    expect(parsed.pathParameters).toEqual({ token: 'ab'.repeat(32) });
    expect(parsed.requestContext.authorizer?.jwt?.claims.sub).toBe('alice');
    expect(parsed.headers?.['content-type']).toBe('application/json');
  });

  it('API Gateway v2.0 event with the IAM authorizer and no body', () => {
    const list = route('list-user-devices');
    const event = apiGatewayEvent(
      list,
      { method: 'GET', url: '/v1/users/alice/devices', headers: {} },
      { userId: 'alice' },
      {
        iam: { userArn: 'arn:aws:iam::000000000000:role/backend' },
      },
    );
    const parsed = APIGatewayProxyEventV2Schema.parse(event);
    expect(parsed.requestContext.authorizer?.iam?.userArn).toBe('arn:aws:iam::000000000000:role/backend');
    expect(parsed.body).toBeUndefined();
  });

  it('SQS event from the event source', () => {
    const record = sqsRecord(
      {
        MessageId: '059f36b4-87a3-44ab-83d2-661975830a7d',
        ReceiptHandle: 'AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a',
        Body: '{"appId":"com.example.app"}',
        MD5OfBody: 'e4e68fb7bd0e697a0ae8f1bb342846b3',
        Attributes: {
          ApproximateReceiveCount: '2',
          SentTimestamp: '1545082649183',
          SenderId: 'AIDAIENQZJOLO23YVJ4VO',
        },
        MessageAttributes: { 'pushgate-failure-reason': { DataType: 'String', StringValue: 'InvalidJob' } },
      },
      'arn:aws:sqs:us-east-1:000000000000:pushgate-send',
    );
    const parsed = SqsSchema.parse({ Records: [record] });
    expect(parsed.Records[0]?.attributes.ApproximateReceiveCount).toBe('2');
    expect(parsed.Records[0]?.awsRegion).toBe('us-east-1');
  });
});

describe('the offline gateway passes a body the way the HTTP API does', () => {
  const bytes = (...values: number[]) => Uint8Array.from(values);
  const jsonBytes = Buffer.from('{"alert":"Grüße 😀"}', 'utf8');

  it.each(['application/json', 'application/json; charset=utf-8', 'text/plain', 'application/xml'])(
    'UTF-8 bytes with %s: as text',
    (contentType) => {
      expect(eventBody(jsonBytes, contentType)).toEqual({
        body: '{"alert":"Grüße 😀"}',
        isBase64Encoded: false,
      });
    },
  );

  it.each([
    ['application/octet-stream'],
    ['application/vnd.example+json'],
    ['application/x-www-form-urlencoded'],
    [undefined],
  ])('any bytes with %s: base64-encoded', (contentType) => {
    expect(eventBody(jsonBytes, contentType)).toEqual({
      body: jsonBytes.toString('base64'),
      isBase64Encoded: true,
    });
  });

  it.each([
    ['a FF FE C3 b', bytes(0x61, 0xff, 0xfe, 0xc3, 0x62)],
    ['an overlong "/" (C0 AF)', bytes(0x22, 0xc0, 0xaf, 0x22)],
    ['an encoded surrogate (ED A0 80)', bytes(0x22, 0xed, 0xa0, 0x80, 0x22)],
    ['a truncated sequence at the end', bytes(0x22, 0x61, 0x22, 0xe2, 0x82)],
  ])('bytes that are not UTF-8 under a textual type (%s): base64, never U+FFFD', (_name, body) => {
    const passed = eventBody(body, 'application/json');
    expect(passed.isBase64Encoded).toBe(true);
    expect(Buffer.from(passed.body ?? '', 'base64')).toEqual(Buffer.from(body));
  });

  it('a string (an in-process caller) stands for its UTF-8 bytes; no body is no body', () => {
    expect(eventBody('{"a":"é"}', 'application/json')).toEqual({ body: '{"a":"é"}', isBase64Encoded: false });
    expect(eventBody('{"a":"é"}', 'application/problem+json')).toEqual({
      body: Buffer.from('{"a":"é"}').toString('base64'),
      isBase64Encoded: true,
    });
    expect(eventBody(undefined, 'application/json')).toEqual({ isBase64Encoded: false });
    expect(eventBody(new Uint8Array(), 'application/octet-stream')).toEqual({ isBase64Encoded: false });
  });

  it('the event with a base64 body has the shape AWS delivers', () => {
    const event = apiGatewayEvent(
      route('send-notification'),
      {
        method: 'POST',
        url: '/v1/notifications',
        headers: { 'content-type': 'application/json' },
        body: bytes(0x61, 0xff),
      },
      {},
      { iam: { userArn: 'arn:aws:iam::000000000000:role/backend' } },
    );
    const parsed = APIGatewayProxyEventV2Schema.parse(event);
    expect([parsed.body, parsed.isBase64Encoded]).toEqual([
      Buffer.from([0x61, 0xff]).toString('base64'),
      true,
    ]);
  });
});

describe('the offline gateway passes query parameters the way the HTTP API does', () => {
  const query = (url: string) =>
    apiGatewayEvent(
      route('get-notification'),
      { method: 'GET', url, headers: {} },
      { id: 'n-1' },
      { iam: { userArn: 'arn:aws:iam::000000000000:role/backend' } },
    ).queryStringParameters;

  it('decodes them, and joins the values of a repeated name with commas', () => {
    expect(query('/v1/notifications/n-1?limit=5&limit=6&nextToken=a%2Bb')).toEqual({
      limit: '5,6',
      nextToken: 'a+b',
    });
  });

  it('a name like "__proto__" is a parameter like any other; no query is none', () => {
    const parameters = query('/v1/notifications/n-1?__proto__=1');
    expect(Object.keys(parameters ?? {})).toEqual(['__proto__']);
    expect(query('/v1/notifications/n-1')).toBeUndefined();
  });
});

describe('the offline gateway decodes the path once, like the HTTP API', () => {
  it.each([
    ['/v1/users/p%2541/devices', '/v1/users/p%41/devices'],
    ['/v1/users/100%25/devices', '/v1/users/100%/devices'],
    ['/v1/devices/%2561bc', '/v1/devices/%61bc'],
    ['/v1/users/a%2Fb/devices', '/v1/users/a/b/devices'],
    ['/v1/users/caf%C3%A9/devices', '/v1/users/café/devices'],
    ['/v1/users/100%/devices', '/v1/users/100%/devices'],
    ['/v1/devices/%E0%A4%A', '/v1/devices/%E0%A4%A'],
    ['/v1/users/%41%E0/devices', '/v1/users/A%E0/devices'],
  ])('%s → %s', (encoded, decoded) => {
    expect(decodeRequestPath(encoded)).toBe(decoded);
  });

  it('hands the handler the decoded parameter, and rawPath decoded as AWS does', () => {
    const found = findRoute('DELETE', '/v1/users/p%2541/devices');
    expect(found?.params).toEqual({ userId: 'p%41' });
    const event = apiGatewayEvent(
      route('erase-user-devices'),
      { method: 'DELETE', url: '/v1/users/p%2541/devices?x=%41', headers: {} },
      found?.params ?? {},
      { iam: { userArn: 'arn:aws:iam::000000000000:role/backend' } },
    );
    expect([event.rawPath, event.requestContext.http.path]).toEqual([
      '/v1/users/p%41/devices',
      '/v1/users/p%41/devices',
    ]);
    expect(event.rawQueryString).toBe('x=%41');
  });

  it('an encoded slash separates segments: no route matches', () => {
    expect(findRoute('GET', '/v1/users/a%2Fb/devices')).toBeUndefined();
  });
});

describe('offline routing of the Live Activity routes', () => {
  const token = 'ab'.repeat(32);
  it('push-to-start and update-token paths reach their own handlers with their parameters', () => {
    for (const method of ['PUT', 'DELETE']) {
      const start = findRoute(method, `/v1/live-activities/push-to-start/${token}`);
      expect(start?.route.name).toBe(`${method === 'PUT' ? '' : 'un'}register-push-to-start-token`);
      expect(start?.params).toEqual({ token });
      const update = findRoute(method, `/v1/live-activities/order-123/tokens/${token}`);
      expect(update?.route.name).toBe(`${method === 'PUT' ? '' : 'un'}register-activity-token`);
      expect(update?.params).toEqual({ activityId: 'order-123', token });
    }
    expect(findRoute('GET', `/v1/live-activities/push-to-start/${token}`)).toBeUndefined();
  });
});
