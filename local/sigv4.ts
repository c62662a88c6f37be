import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The offline stand-in for API Gateway's IAM authorization: verifies AWS Signature
 * Version 4 the way the service does — the credential scope (known access key,
 * region, service `execute-api`, date), the date within 15 minutes of now, `host`
 * and `x-amz-date` among the signed headers, and the signature itself, recomputed
 * over the canonical request including the body's hash. One identity exists offline:
 * the credentials below. A refusal carries API Gateway's error type and message.
 */
export const SIGV4_CREDENTIALS = {
  accessKeyId: 'local',
  secretAccessKey: 'local',
  region: 'us-east-1',
  service: 'execute-api',
} as const;

const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_SKEW_MS = 15 * 60 * 1000;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

export interface SignedRequest {
  method: string;
  /** Path and query exactly as received on the wire. */
  url: string;
  /** Lower-case names, as node:http gives them. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export type SigV4Verdict =
  | { ok: true; accessKeyId: string }
  | { ok: false; errorType: string; message: string };

/** True when the request claims a SigV4 signature (so a refusal should explain why). */
export function isSigV4(authorization: string | undefined): boolean {
  return authorization?.startsWith(`${ALGORITHM} `) ?? false;
}

export function verifySigV4(request: SignedRequest, now = new Date()): SigV4Verdict {
  const header = headerValue(request.headers, 'authorization') ?? '';
  const fields = new Map<string, string>();
  for (const part of header.slice(ALGORITHM.length).split(',')) {
    const [name, ...rest] = part.trim().split('=');
    if (name) fields.set(name, rest.join('='));
  }
  const credential = fields.get('Credential');
  const signedHeaderList = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  const missing = [
    ['Credential', credential],
    ['Signature', signature],
    ['SignedHeaders', signedHeaderList],
  ].flatMap(([name, value]) => (value ? [] : [`Authorization header requires '${name}' parameter.`]));
  if (missing.length > 0 || !credential || !signedHeaderList || !signature) {
    return refuse('IncompleteSignatureException', `${missing.join(' ')} Authorization=${header}`);
  }

  const [accessKeyId, scopeDate, region, service, terminator, ...extra] = credential.split('/');
  if (extra.length > 0 || terminator === undefined) {
    return refuse('IncompleteSignatureException', `Credential is malformed: ${credential}`);
  }
  if (accessKeyId !== SIGV4_CREDENTIALS.accessKeyId) {
    return refuse('UnrecognizedClientException', 'The security token included in the request is invalid.');
  }
  if (terminator !== 'aws4_request') {
    return refuse(
      'InvalidSignatureException',
      `Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator}'.`,
    );
  }
  if (service !== SIGV4_CREDENTIALS.service) {
    return refuse(
      'InvalidSignatureException',
      `Credential should be scoped to correct service: '${SIGV4_CREDENTIALS.service}'.`,
    );
  }
  if (region !== SIGV4_CREDENTIALS.region) {
    return refuse(
      'InvalidSignatureException',
      `Credential should be scoped to a valid region, not '${region}'.`,
    );
  }

  const signedHeaders = signedHeaderList.split(';');
  if (!signedHeaders.includes('host')) {
    return refuse(
      'InvalidSignatureException',
      "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    );
  }
  const amzDate = headerValue(request.headers, 'x-amz-date');
  if (amzDate === undefined || !signedHeaders.includes('x-amz-date')) {
    return refuse(
      'IncompleteSignatureException',
      "Authorization header requires existence of a signed 'X-Amz-Date' header.",
    );
  }
  const signedAt = parseAmzDate(amzDate);
  if (signedAt === undefined) {
    return refuse(
      'IncompleteSignatureException',
      `Date must be in ISO-8601 'basic format'. Got '${amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`,
    );
  }
  if (scopeDate !== amzDate.slice(0, 8)) {
    return refuse(
      'InvalidSignatureException',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    );
  }
  if (signedAt.getTime() < now.getTime() - MAX_SKEW_MS) {
    return refuse(
      'InvalidSignatureException',
      `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(new Date(now.getTime() - MAX_SKEW_MS))} (${formatAmzDate(now)} - 15 min.)`,
    );
  }
  if (signedAt.getTime() > now.getTime() + MAX_SKEW_MS) {
    return refuse(
      'InvalidSignatureException',
      `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(new Date(now.getTime() + MAX_SKEW_MS))} (${formatAmzDate(now)} + 15 min.)`,
    );
  }

  const canonicalRequest = [
    request.method,
    canonicalPath(request.url.split('?')[0] ?? '/'),
    canonicalQuery(request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : ''),
    ...signedHeaders.map((name) => `${name}:${canonicalHeaderValue(ownHeader(request.headers, name))}`),
    '',
    signedHeaderList,
    sha256Hex(request.body),
  ].join('\n');
  const scope = `${scopeDate}/${region}/${service}/aws4_request`;
  const stringToSign = [ALGORITHM, amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  let key: Buffer = hmac(`AWS4${SIGV4_CREDENTIALS.secretAccessKey}`, scopeDate);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  const expected = Buffer.from(hmac(key, stringToSign).toString('hex'));
  // Compared as bytes: a signature of 64 characters with a non-ASCII one is longer in UTF-8.
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return refuse(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\n' +
        `The Canonical String for this request should have been\n'${canonicalRequest}'\n\n` +
        `The String-to-Sign should have been\n'${stringToSign}'\n`,
    );
  }
  return { ok: true, accessKeyId };
}

function refuse(errorType: string, message: string): SigV4Verdict {
  return { ok: false, errorType, message };
}

function headerValue(headers: SignedRequest['headers'], name: string): string | undefined {
  const value = ownHeader(headers, name);
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * A header the request carries, by a name the caller chose (`SignedHeaders`): only
 * the object's own keys, so `constructor` or `__proto__` is a header never sent, not
 * a property of Object.prototype.
 */
function ownHeader(headers: SignedRequest['headers'], name: string): string | string[] | undefined {
  return Object.hasOwn(headers, name) ? headers[name] : undefined;
}

function canonicalHeaderValue(value: string | string[] | undefined): string {
  const joined = Array.isArray(value) ? value.join(',') : (value ?? '');
  return joined
    .replace(/[\r\n]/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .trim();
}

/** Each segment of the path as sent, URI-encoded again (SigV4 for every service but S3); dot segments resolved. */
function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  if (segments.length === 0) return '/';
  return `/${segments.map(escapeUri).join('/')}${path.endsWith('/') ? '/' : ''}`;
}

function canonicalQuery(query: string): string {
  if (query === '') return '';
  return query
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const [name = '', ...rest] = pair.split('=');
      return [escapeUri(safeDecode(name)), escapeUri(safeDecode(rest.join('=')))] as const;
    })
    .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : av > bv ? 1 : 0) : a < b ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

function escapeUri(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function parseAmzDate(value: string): Date | undefined {
  const match = AMZ_DATE.exec(value);
  if (match === null) return undefined;
  const [, year, month, day, hour, minute, second] = match;
  const date = new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}Z`);
  // Date accepts some impossible dates (Feb 30) by rolling over: insist it reads back the same.
  return !Number.isNaN(date.getTime()) && formatAmzDate(date) === value ? date : undefined;
}

function formatAmzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}
