import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { promisify } from 'node:util';
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../support/sigv4-signer';
import { APP_ID, call, readInbox, waitFor } from './offline-client';
import { type Offline, startOffline } from './offline-process';

/** Sends exactly these headers and body (fetch would add or refuse some, e.g. host). */
function send(
  offline: Offline,
  method: string,
  path: string,
  headers: Record<string, string>,
  body = '',
): Promise<{ status: number; errorType?: string; body: { message?: string; notificationId?: string } }> {
  const { hostname, port } = new URL(offline.base);
  return new Promise((resolve, reject) => {
    const outgoing = request({ hostname, port, method, path, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const errorType = response.headers['x-amzn-errortype'];
        resolve({
          status: response.statusCode ?? 0,
          ...(typeof errorType === 'string' ? { errorType } : {}),
          body: text ? JSON.parse(text) : {},
        });
      });
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** Backends reach `npm start` the way they reach AWS: SQS through the SDK, the API signed with SigV4. */
describe('backends against npm start', () => {
  let offline: Offline;
  let daveToken: string;

  const deliveredTo = (token: string, id: string) =>
    waitFor(`delivery of ${id}`, async () => {
      const { notifications } = await readInbox(offline);
      return notifications.find((entry) => entry.token === token && entry.payload.pushgate?.id === id);
    });

  beforeAll(async () => {
    offline = await startOffline();
    const dave = (await call(offline, 'POST', '/_local/tokens', { body: { sub: 'dave' } })).body.token;
    daveToken = randomBytes(32).toString('hex');
    const registered = await call(offline, 'PUT', `/v1/devices/${daveToken}`, {
      bearer: dave,
      body: { appId: APP_ID, environment: 'sandbox' },
    });
    expect(registered.status).toBe(201);
  }, 120_000);

  afterAll(async () => {
    await offline?.stop();
  });

  it('publishes a send job with the SDK SQS client to the printed endpoint, and it is delivered', async () => {
    const queues = (await call(offline, 'GET', '/_local/queues')).body;
    expect(queues.endpoint).toBe(`http://127.0.0.1:${offline.sqsPort}`);
    expect(offline.output()).toContain(`SQS endpoint        ${queues.endpoint}`);
    expect(offline.output()).toContain(`aws sqs send-message --region us-east-1`);
    const sqs = new SQSClient({
      endpoint: queues.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const notificationId = `sqs-${randomBytes(6).toString('hex')}`;
    try {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queues.sendQueueUrl,
          MessageBody: JSON.stringify({
            notificationId,
            appId: APP_ID,
            to: { userIds: ['dave'] },
            aps: { alert: 'Published to SQS' },
          }),
        }),
      );
    } finally {
      sqs.destroy();
    }
    const entry = await deliveredTo(daveToken, notificationId);
    expect(entry.payload).toMatchObject({ aps: { alert: 'Published to SQS' } });
  });

  it('accepts POST /v1/notifications signed with SigV4 by the SDK signer; refuses tampering, a stale date and a changed body', async () => {
    const host = new URL(offline.base).host;
    const body = JSON.stringify({ appId: APP_ID, to: { userIds: ['dave'] }, aps: { alert: 'Signed' } });
    const toSign = {
      method: 'POST',
      host,
      path: '/v1/notifications',
      headers: { 'content-type': 'application/json' },
      body,
    };
    const signed = await signRequest(toSign);
    const accepted = await send(offline, 'POST', '/v1/notifications', signed, body);
    expect(accepted.status).toBe(202);
    await deliveredTo(daveToken, accepted.body.notificationId ?? '');

    const authorization = signed.authorization ?? '';
    const tampered = `${authorization.slice(0, -1)}${authorization.endsWith('0') ? '1' : '0'}`;
    const refused = await send(
      offline,
      'POST',
      '/v1/notifications',
      { ...signed, authorization: tampered },
      body,
    );
    expect(refused.status).toBe(403);
    expect(refused.errorType).toBe('InvalidSignatureException');
    expect(refused.body.message).toMatch(/^The request signature we calculated does not match the signature/);

    const stale = await signRequest(toSign, { signingDate: new Date(Date.now() - 20 * 60_000) });
    const expired = await send(offline, 'POST', '/v1/notifications', stale, body);
    expect(expired.status).toBe(403);
    expect(expired.body.message).toMatch(/^Signature expired: /);

    const changed = body.replace('Signed', 'Changed');
    const unsignedChange = await send(offline, 'POST', '/v1/notifications', signed, changed);
    expect(unsignedChange.status).toBe(403);
    expect(unsignedChange.errorType).toBe('InvalidSignatureException');

    // A signed GET (empty body) reads the report; the admin key still works as the shortcut.
    const path = `/v1/notifications/${accepted.body.notificationId}`;
    const read = await send(offline, 'GET', path, await signRequest({ method: 'GET', host, path }));
    expect(read.status).toBe(200);
    expect((await call(offline, 'GET', path, { bearer: offline.adminKey })).status).toBe(200);
    expect((await send(offline, 'GET', path, { authorization: 'Bearer wrong' })).body).toEqual({
      message: 'Forbidden',
    });
  });

  it('pages the inbox: total, seq from 1, after/limit, next; a bad limit is a 400; DELETE empties it', async () => {
    const { total } = await readInbox(offline);
    expect(total).toBeGreaterThanOrEqual(2);
    const first = (await call(offline, 'GET', '/_local/apns/inbox?limit=1')).body;
    expect(first).toMatchObject({ total, next: 1 });
    expect(first.notifications.map((entry: { seq: number }) => entry.seq)).toEqual([1]);
    expect(Object.keys(first.notifications[0]).sort()).toEqual(
      ['headers', 'payload', 'receivedAt', 'seq', 'token', 'topic'].sort(),
    );
    const second = (await call(offline, 'GET', '/_local/apns/inbox?after=1&limit=1')).body;
    expect(second.notifications[0].seq).toBe(2);
    const bad = await call(offline, 'GET', '/_local/apns/inbox?limit=10001');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('InvalidRequest');
    expect((await call(offline, 'DELETE', '/_local/apns/inbox')).status).toBe(204);
    expect((await call(offline, 'GET', '/_local/apns/inbox')).body).toEqual({ total: 0, notifications: [] });
  });

  it('npm run redrive against npm start: --dry-run lists and keeps a dead-lettered job, a redrive delivers it', async () => {
    const queues = (await call(offline, 'GET', '/_local/queues')).body;
    const sqs = new SQSClient({
      endpoint: queues.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const deadLetters = async () => {
      const { Attributes = {} } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queues.deadLetterQueueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return (
        Number(Attributes.ApproximateNumberOfMessages) +
        Number(Attributes.ApproximateNumberOfMessagesNotVisible)
      );
    };
    const notificationId = `redrive-${randomBytes(6).toString('hex')}`;
    // As the sender dead-letters a job: the job's body, the reason as a message attribute.
    try {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queues.deadLetterQueueUrl,
          MessageBody: JSON.stringify({
            notificationId,
            appId: APP_ID,
            to: { userIds: ['dave'] },
            aps: { alert: 'Redriven' },
          }),
          MessageAttributes: {
            'pushgate-failure-reason': { DataType: 'String', StringValue: 'CredentialsUnavailable' },
          },
        }),
      );
      expect(await deadLetters()).toBe(1);
      const redrive = (...args: string[]) =>
        promisify(execFile)(
          process.execPath,
          [
            'node_modules/tsx/dist/cli.mjs',
            'scripts/redrive.ts',
            '--endpoint-url',
            queues.endpoint,
            '--send-queue-url',
            queues.sendQueueUrl,
            '--dead-letter-queue-url',
            queues.deadLetterQueueUrl,
            '--json',
            ...args,
          ],
          { env: { ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' } },
        );
      const listed = JSON.parse((await redrive('--dry-run')).stdout);
      expect(listed.byReason.CredentialsUnavailable?.notificationIds).toEqual([notificationId]);
      await waitFor('the listed job visible again in the DLQ', async () =>
        (await deadLetters()) === 1 ? true : undefined,
      );
      const { notifications } = await readInbox(offline);
      expect(notifications.some((entry) => entry.payload.pushgate?.id === notificationId)).toBe(false);

      await redrive();
      const entry = await deliveredTo(daveToken, notificationId);
      expect(entry.payload).toMatchObject({ aps: { alert: 'Redriven' } });
      expect(await deadLetters()).toBe(0);
    } finally {
      sqs.destroy();
    }
  });
});
