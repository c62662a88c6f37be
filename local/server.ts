import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { findRoute, invokeRoute } from './http-dispatch';
import type { Caller } from './lambda-events';
import { refuseForeignRequest } from './local-guard';
import { handleLocalRoute } from './local-routes';
import type { LocalIssuer } from './oidc';
import { sendJson } from './respond';
import { isSigV4, verifySigV4 } from './sigv4';
import type { LocalStack } from './stack';

/** API Gateway's own payload limit. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const DASHBOARD = join(import.meta.dirname, 'dashboard', 'index.html');

export interface LocalServerOptions {
  adminKey: string;
  issuer: LocalIssuer;
  stack: LocalStack;
  appId: string;
}

/**
 * The offline API Gateway: verifies the caller the way the deployed authorizers
 * do (JWT for app routes; IAM for backend routes — a SigV4 signature made with the
 * local credentials, or the admin key as a shortcut),
 * answers their refusals with API Gateway's own bodies, and hands everything else
 * to the route's Lambda handler as a v2.0 event. Also serves the dashboard page and
 * hands `/_local/*` to local-routes.ts; both exist only offline.
 */
export function createLocalServer(options: LocalServerOptions): Server {
  return createServer((request, response) => {
    handle(options, request, response).catch((error) => {
      console.error('offline server error', error);
      sendJson(response, 500, { message: 'Internal Server Error' });
    });
  });
}

async function handle(options: LocalServerOptions, request: IncomingMessage, response: ServerResponse) {
  let url: URL;
  try {
    url = new URL(request.url ?? '/', 'http://localhost');
  } catch {
    // A request target no URL parser can read (`//[`, `http://[::1`): API Gateway answers 400 too.
    return sendJson(response, 400, { message: 'Bad Request' });
  }
  const method = request.method ?? 'GET';
  const raw = await readBody(request);
  if (raw === undefined) return sendJson(response, 413, { message: 'Request Entity Too Large' });
  const body = raw.toString('utf8');

  if (isOfflineOnly(url.pathname)) {
    if (refuseForeignRequest(request, response)) return;
    if (url.pathname.startsWith('/_local/')) return handleLocalRoute(options, method, url, body, response);
    if (method !== 'GET') return sendJson(response, 405, { message: 'Method Not Allowed' });
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    return response.end(readFileSync(DASHBOARD));
  }

  const found = findRoute(method, url.pathname);
  if (found === undefined) return sendJson(response, 404, { message: 'Not Found' });
  const headers = Object.fromEntries(
    Object.entries(request.headers).map(([name, value]) => [
      name,
      Array.isArray(value) ? value.join(',') : (value ?? ''),
    ]),
  );
  let caller: Caller;
  if (found.route.auth === 'jwt') {
    const claims = await options.issuer.verify(headers.authorization);
    if (claims === undefined) {
      response.setHeader('www-authenticate', 'Bearer');
      return sendJson(response, 401, { message: 'Unauthorized' });
    }
    caller = { jwt: claims };
  } else if (headers.authorization === `Bearer ${options.adminKey}`) {
    caller = { iam: { userArn: 'arn:aws:iam::000000000000:user/local-admin' } };
  } else if (isSigV4(headers.authorization)) {
    const verdict = verifySigV4({ method, url: request.url ?? '/', headers: request.headers, body: raw });
    if (!verdict.ok) {
      response.setHeader('x-amzn-ErrorType', verdict.errorType);
      return sendJson(response, 403, { message: verdict.message });
    }
    caller = { iam: { userArn: `arn:aws:iam::000000000000:user/${verdict.accessKeyId}` } };
  } else {
    return sendJson(response, 403, { message: 'Forbidden' });
  }
  // The bytes as received: the event carries them as API Gateway would (text or base64).
  const result = await invokeRoute(
    found.route,
    found.params,
    { method, url: request.url ?? '/', headers, body: raw },
    caller,
  );
  response.writeHead(result.statusCode, result.headers);
  response.end(result.body);
}

/** The dashboard page and the `/_local` routes: offline only, guarded against web pages (local-guard.ts). */
function isOfflineOnly(pathname: string): boolean {
  return pathname === '/' || pathname.startsWith('/_local/');
}

async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
