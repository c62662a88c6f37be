import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from './respond';

/**
 * Keeps web pages out of the offline-only routes (`/_local/*`) and the dashboard.
 * They have no authentication — they hold every user's raw tokens and can send
 * notifications (to the real APNs sandbox when credentials are configured) — so a
 * page open in the developer's browser must not reach them:
 *
 * - `Host` must name the loopback address this server listens on (127.0.0.1,
 *   localhost or [::1], with its port): a DNS-rebinding page sends its own host name.
 *   A request target in absolute form (`GET http://host/path`, what a client sends
 *   to a proxy) names the host that counts, so it must name one of those too.
 * - `Origin`, when sent, must be that same loopback origin; `Sec-Fetch-Site`, when
 *   sent, must say same-origin or none (anything else — cross-site, same-site, a
 *   list of values — is refused). Browsers send them; curl and SDKs
 *   send neither, and pass.
 * - A write (POST, PUT, PATCH) must be `application/json`: a cross-site page can only
 *   send `text/plain`, form or multipart bodies without a CORS preflight, and this
 *   server answers no preflight. DELETE is never a "simple" request, so a browser
 *   preflights it cross-site, and the preflight fails.
 *
 * So the dashboard's own calls (same origin, JSON) need no token of their own. The
 * API routes are not guarded here: they need a JWT, the admin key or a signature,
 * and backends call them without `Origin`.
 */
export function refuseForeignRequest(request: IncomingMessage, response: ServerResponse): boolean {
  const port = request.socket.localPort;
  const allowedHosts = LOOPBACK_HOSTS.map((host) => `${host}:${port}`);
  const refuse = (status: number, code: string, message: string) => {
    sendJson(response, status, { error: { code, message } });
    return true;
  };
  const host = (request.headers.host ?? '').toLowerCase();
  const target = targetAuthority(request.url);
  const foreign = !allowedHosts.includes(host)
    ? `Host was "${host}"`
    : target !== undefined && !allowedHosts.includes(target)
      ? `the request target named "${target}"`
      : undefined;
  if (foreign !== undefined) {
    return refuse(
      403,
      'ForeignHost',
      `Offline routes answer only requests for ${allowedHosts.join(', ')} (${foreign.slice(0, 140)}).`,
    );
  }
  const origin = request.headers.origin;
  const site = request.headers['sec-fetch-site']?.toLowerCase();
  if (
    (origin !== undefined && !allowedHosts.some((allowed) => origin.toLowerCase() === `http://${allowed}`)) ||
    (site !== undefined && !SITES_ALLOWED.has(site))
  ) {
    return refuse(403, 'ForeignOrigin', 'Offline routes refuse requests from other web pages.');
  }
  const method = request.method ?? 'GET';
  const mediaType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (WRITES.has(method) && mediaType !== 'application/json') {
    return refuse(
      415,
      'JsonRequired',
      `${method} to an offline route needs "content-type: application/json".`,
    );
  }
  return false;
}

/**
 * The authority of an absolute-form request target (`http://evil.test/_local/state`),
 * lowercased; undefined for the usual origin form (`/_local/state`). A target that
 * is absolute but has no readable authority gives "", which no allowed host matches.
 */
function targetAuthority(target: string | undefined): string | undefined {
  if (target === undefined || target.startsWith('/')) return undefined;
  try {
    return new URL(target).host.toLowerCase();
  } catch {
    return '';
  }
}

/** The loopback names a request to this server may carry in `Host`. */
const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'];

/** `Sec-Fetch-Site` values of the dashboard's own requests and of a typed-in address. */
const SITES_ALLOWED = new Set(['same-origin', 'none']);

const WRITES = new Set(['POST', 'PUT', 'PATCH']);
