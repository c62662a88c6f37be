import { APIGatewayProxyEventV2Schema, SqsSchema } from '@aws-lambda-powertools/parser/schemas';
import { describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../infra/api-routes';
import { findRoute } from '../../local/http-dispatch';
import { apiGatewayEvent, decodeRequestPath, matchRoute } from '../../local/lambda-events';
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
