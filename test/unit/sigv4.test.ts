import { describe, expect, it } from 'vitest';
import { type SignedRequest, verifySigV4 } from '../../local/sigv4';
import { type RequestToSign, signRequest } from '../support/sigv4-signer';

const host = '127.0.0.1:3000';
const body = JSON.stringify({ appId: 'com.example.app', to: { userIds: ['alice'] }, aps: { alert: 'Hi' } });
const post: RequestToSign = {
  method: 'POST',
  host,
  path: '/v1/notifications',
  headers: { 'content-type': 'application/json' },
  body,
};

/** What node:http hands the server for a request sent with these headers. */
function received(request: RequestToSign, headers: Record<string, string>, sentBody = request.body ?? '') {
  const query = new URLSearchParams(request.query ?? {}).toString();
  return {
    method: request.method,
    url: `${request.path}${query ? `?${query}` : ''}`,
    headers: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value])),
    body: Buffer.from(sentBody),
  } satisfies SignedRequest;
}

describe('SigV4 verification (offline IAM authorizer)', () => {
  it('accepts a request signed by the AWS SDK signer with the local credentials', async () => {
    const headers = await signRequest(post);
    expect(verifySigV4(received(post, headers))).toEqual({ ok: true, accessKeyId: 'local' });
  });

  it('accepts encoded path segments and a query string, as the SDK signs them', async () => {
    const get: RequestToSign = {
      method: 'GET',
      host,
      path: '/v1/users/alice%40example.com/devices',
      query: { b: '2 3', a: "it's" },
    };
    const headers = await signRequest(get);
    const request = {
      ...received(get, headers),
      url: `/v1/users/alice%40example.com/devices?b=2%203&a=it's`,
    };
    expect(verifySigV4(request)).toEqual({ ok: true, accessKeyId: 'local' });
  });

  it('refuses a tampered signature with API Gateway signature-mismatch message', async () => {
    const headers = await signRequest(post);
    const authorization = headers.authorization ?? '';
    const last = authorization.at(-1) === '0' ? '1' : '0';
    const verdict = verifySigV4(
      received(post, { ...headers, authorization: `${authorization.slice(0, -1)}${last}` }),
    );
    expect(verdict).toMatchObject({ ok: false, errorType: 'InvalidSignatureException' });
    expect(verdict.ok || verdict.message).toMatch(/^The request signature we calculated does not match/);
  });

  it('refuses a body changed after signing', async () => {
    const headers = await signRequest(post);
    const verdict = verifySigV4(received(post, headers, body.replace('alice', 'mallory')));
    expect(verdict).toMatchObject({ ok: false, errorType: 'InvalidSignatureException' });
  });

  it('refuses a header changed after signing, and the wrong secret', async () => {
    const headers = await signRequest(post);
    expect(verifySigV4(received(post, { ...headers, host: '127.0.0.1:3001' })).ok).toBe(false);
    const wrongSecret = await signRequest(post, { secretAccessKey: 'not-local' });
    expect(verifySigV4(received(post, wrongSecret)).ok).toBe(false);
  });

  it('refuses a date more than 15 minutes old or ahead, and accepts within it', async () => {
    const now = new Date();
    const stale = await signRequest(post, { signingDate: new Date(now.getTime() - 16 * 60_000) });
    expect(verifySigV4(received(post, stale), now)).toMatchObject({
      ok: false,
      errorType: 'InvalidSignatureException',
      message: expect.stringMatching(
        /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/,
      ),
    });
    const ahead = await signRequest(post, { signingDate: new Date(now.getTime() + 16 * 60_000) });
    expect(verifySigV4(received(post, ahead), now)).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^Signature not yet current/),
    });
    const skewed = await signRequest(post, { signingDate: new Date(now.getTime() - 14 * 60_000) });
    expect(verifySigV4(received(post, skewed), now).ok).toBe(true);
  });

  it('refuses an unknown access key, another region, and a credential scope for another service', async () => {
    const unknown = await signRequest(post, { accessKeyId: 'AKIAEXAMPLE' });
    expect(verifySigV4(received(post, unknown))).toEqual({
      ok: false,
      errorType: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    });
    const region = await signRequest(post, { region: 'eu-west-1' });
    expect(verifySigV4(received(post, region))).toMatchObject({
      ok: false,
      errorType: 'InvalidSignatureException',
    });
    const headers = await signRequest(post);
    const s3 = (headers.authorization ?? '').replace('/execute-api/', '/s3/');
    expect(verifySigV4(received(post, { ...headers, authorization: s3 }))).toMatchObject({
      ok: false,
      message: "Credential should be scoped to correct service: 'execute-api'.",
    });
  });

  it('insists that host and x-amz-date are signed', async () => {
    const headers = await signRequest(post);
    const authorization = headers.authorization ?? '';
    const withoutHost = authorization.replace(
      /SignedHeaders=([^,]*)/,
      (_, list: string) =>
        `SignedHeaders=${list
          .split(';')
          .filter((name) => name !== 'host')
          .join(';')}`,
    );
    expect(verifySigV4(received(post, { ...headers, authorization: withoutHost }))).toMatchObject({
      ok: false,
      message: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    });
    const withoutDate = authorization.replace(
      /SignedHeaders=([^,]*)/,
      (_, list: string) =>
        `SignedHeaders=${list
          .split(';')
          .filter((name) => name !== 'x-amz-date')
          .join(';')}`,
    );
    expect(verifySigV4(received(post, { ...headers, authorization: withoutDate }))).toMatchObject({
      ok: false,
    });
    const { 'x-amz-date': _, ...undated } = headers;
    expect(verifySigV4(received(post, undated))).toMatchObject({ ok: false });
  });

  it('refuses, without throwing, SignedHeaders naming an Object.prototype property and a signature with a non-ASCII byte', async () => {
    const headers = await signRequest(post);
    const authorization = headers.authorization ?? '';
    for (const name of ['constructor', '__proto__', 'toString']) {
      const forged = authorization.replace(/SignedHeaders=([^,]*)/, `SignedHeaders=$1;${name}`);
      expect(verifySigV4(received(post, { ...headers, authorization: forged }))).toMatchObject({
        ok: false,
        errorType: 'InvalidSignatureException',
      });
    }
    // 64 characters like a real signature, but 65 bytes in UTF-8.
    const nonAscii = authorization.replace(/Signature=[0-9a-f]{64}$/, `Signature=${'0'.repeat(63)}é`);
    expect(nonAscii).not.toBe(authorization);
    expect(verifySigV4(received(post, { ...headers, authorization: nonAscii }))).toMatchObject({
      ok: false,
      errorType: 'InvalidSignatureException',
    });
  });

  it('explains an incomplete Authorization header', () => {
    const verdict = verifySigV4(received(post, { host, authorization: 'AWS4-HMAC-SHA256 Credential=local' }));
    expect(verdict).toMatchObject({ ok: false, errorType: 'IncompleteSignatureException' });
    expect(verdict.ok || verdict.message).toContain("requires 'Signature' parameter");
  });
});
