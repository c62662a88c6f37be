import { classifyFcmAnswer, type RawFcmAnswer, readFcmAnswer } from '../../../domain/fcm-answer';
import { PushConnection, type PushProtocol } from '../http2/push-connection';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../http2/request-timeout';
import { AccessTokens, type ServiceAccountKey } from './access-tokens';

/**
 * The FCM gateway: FCM HTTP v1 (`POST /v1/projects/{projectId}/messages:send`, one
 * device per request) on the connection layer APNs uses (http2/push-connection.ts):
 * warm sessions in module scope, streams bounded by the server's limit, GOAWAY and
 * retirement handled the same way. FCM's own: the token travels in the body, the
 * server's stream limit applies at once (OAuth is checked per request, not per
 * connection), and a refused access token is dropped so the next request carries a
 * fresh one (docs/fcm.md).
 */

export interface FcmEndpoint {
  /** host[:port] — fcm.googleapis.com, or the simulator. */
  address: string;
  /** Extra CA to trust (the simulator's self-signed certificate), for FCM and the token endpoint. */
  ca?: string;
}

export const GOOGLE_FCM_ENDPOINT: FcmEndpoint = { address: 'fcm.googleapis.com' };

export interface FcmCredentials {
  projectId: string;
  serviceAccount: ServiceAccountKey;
}

function fcmProtocol(projectId: string): PushProtocol<RawFcmAnswer> {
  const path = `/v1/projects/${encodeURIComponent(projectId)}/messages:send`;
  return {
    path: () => path,
    read: ({ status, body, retryAfter }) =>
      status === 200
        ? { status }
        : readFcmAnswer({ status, body, ...(retryAfter === undefined ? {} : { retryAfter }) }),
    failure: (transportError) => ({ transportError }),
    review: (answer) => ({
      credentialsAccepted: true,
      endsSession: false,
      // A credential refusal may be a token revoked early: the next request gets a fresh one.
      authorizationRefused:
        answer.status !== undefined && classifyFcmAnswer(answer, 0).kind === 'credential-error',
    }),
  };
}

export class FcmConnection extends PushConnection<RawFcmAnswer> {
  constructor(
    credentials: FcmCredentials,
    endpoint: FcmEndpoint,
    requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
  ) {
    super({
      service: 'FCM',
      session: {
        address: endpoint.address,
        connectTimeoutMs: requestTimeoutMs,
        trustedFromStart: true,
        ...(endpoint.ca === undefined ? {} : { ca: endpoint.ca }),
      },
      protocol: fcmProtocol(credentials.projectId),
      authorization: new AccessTokens(credentials.serviceAccount, endpoint.ca, Date.now, requestTimeoutMs),
      requestTimeoutMs,
    });
  }
}

/** Module-scope connections, one per credential source and project, reused across invocations. */
const connections = new Map<string, { credentials: string; connection: FcmConnection }>();

export function fcmConnection(
  credentialId: string,
  credentials: FcmCredentials,
  endpoint: FcmEndpoint,
  requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
): FcmConnection {
  const key = `${credentialId}|${credentials.projectId}|${endpoint.address}`;
  const material = JSON.stringify(credentials);
  const existing = connections.get(key);
  if (existing?.credentials === material) return existing.connection;
  // A rotated key: new sessions with it; the old ones finish what they carry.
  void existing?.connection.close();
  const connection = new FcmConnection(credentials, endpoint, requestTimeoutMs);
  connections.set(key, { credentials: material, connection });
  return connection;
}

/** Closes every session (tests and the offline runtime's shutdown). */
export async function closeFcmConnections(): Promise<void> {
  const all = [...connections.values()];
  connections.clear();
  await Promise.all(all.map(({ connection }) => connection.close()));
}
