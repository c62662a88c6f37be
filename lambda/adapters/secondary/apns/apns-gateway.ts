import { createSecureContext } from 'node:tls';
import { endsSession, type RawApnsAnswer, readApnsAnswer } from '../../../domain/apns-answer';
import type { ApnsEnvironment } from '../../../domain/device';
import { logger } from '../../../observability';
import { type Authorization, PushConnection, type PushProtocol } from '../http2/push-connection';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../http2/request-timeout';
import { providerTokenTable } from '../provider-token-table';
import { ProviderTokens } from './provider-token';

/**
 * The APNs gateway: warm HTTP/2 connections to APNs on the shared connection layer
 * (http2/push-connection.ts; docs/apns.md says why pushgate owns it rather than use
 * @parse/node-apn's). What is APNs's own:
 * - one stream per session until it has answered once (APNs allows one before the
 *   first valid JWT); then the server's limit;
 * - answers read as Apple documents them (readApnsAnswer), `apns-id` kept;
 * - IdleTimeout and Shutdown answers retire the session;
 * - the provider token is the fleet's shared one (provider-token.ts), never older
 *   than its renewal age on the wire, dropped when APNs calls it expired.
 * Connections live in module scope, one per credential and environment, so warm
 * invocations reuse them.
 */

export type ApnsCredentials =
  | { kind: 'token'; keyId: string; teamId: string; key: string }
  | { kind: 'certificate'; cert: string; key: string; passphrase?: string };

export interface ApnsEndpoint {
  /** host[:port] — Apple's hosts, or the simulator. */
  address: string;
  /** Extra CA to trust (the simulator's self-signed certificate). */
  ca?: string;
}

export const APPLE_ENDPOINTS: Record<ApnsEnvironment, ApnsEndpoint> = {
  production: { address: 'api.push.apple.com' },
  sandbox: { address: 'api.sandbox.push.apple.com' },
};

export interface ApnsConnectionOptions {
  requestTimeoutMs?: number;
  /** The shared provider token (token auth); required with token credentials. */
  tokens?: ProviderTokens;
}

const APNS_PROTOCOL: PushProtocol<RawApnsAnswer> = {
  path: (token) => `/3/device/${token}`,
  idHeader: 'apns-id',
  read: ({ status, body, id, retryAfter }) =>
    status === 200
      ? id === undefined
        ? { status }
        : { status, apnsId: id }
      : readApnsAnswer({
          status,
          body,
          ...(id === undefined ? {} : { apnsId: id }),
          ...(retryAfter === undefined ? {} : { retryAfter }),
        }),
  failure: (transportError) => ({ transportError }),
  review: (answer) => ({
    // APNs allows one stream until it has seen a valid provider token.
    credentialsAccepted: answer.status !== 403 && answer.reason !== 'TooManyProviderTokenUpdates',
    endsSession: endsSession(answer),
    authorizationRefused: answer.status === 403 && answer.reason === 'ExpiredProviderToken',
  }),
};

/** The shared provider token as the `authorization` header. */
function providerAuthorization(tokens: ProviderTokens): Authorization {
  return {
    usable: () => {
      const token = tokens.usable();
      return token === undefined ? undefined : `bearer ${token.jwt}`;
    },
    current: () => tokens.current(),
    refused: (value) => tokens.expired(value.slice('bearer '.length)),
    unavailable: 'ProviderTokenUnavailable',
  };
}

export class ApnsConnection extends PushConnection<RawApnsAnswer> {
  constructor(
    credentials: ApnsCredentials,
    environment: ApnsEnvironment,
    endpoint: ApnsEndpoint,
    options: ApnsConnectionOptions = {},
  ) {
    const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const session = {
      address: endpoint.address,
      connectTimeoutMs: requestTimeoutMs,
      ...(endpoint.ca === undefined ? {} : { ca: endpoint.ca }),
    };
    if (credentials.kind === 'token') {
      if (options.tokens === undefined) throw new Error('token credentials need a provider token source');
      super({
        service: 'APNs',
        session,
        protocol: APNS_PROTOCOL,
        authorization: providerAuthorization(options.tokens),
        requestTimeoutMs,
      });
    } else {
      const tls = {
        cert: credentials.cert,
        key: credentials.key,
        ...(credentials.passphrase === undefined ? {} : { passphrase: credentials.passphrase }),
      };
      // Refuse a certificate or key TLS cannot use now, where the caller can report it.
      createSecureContext(tls);
      super({ service: 'APNs', session: { ...session, ...tls }, protocol: APNS_PROTOCOL, requestTimeoutMs });
    }
    logger.debug('APNs connection configured', { environment, address: endpoint.address });
  }
}

/** Module-scope connections, one per credential and environment, reused across invocations. */
const connections = new Map<string, { credentials: string; connection: ApnsConnection }>();
/** One shared-token view per provider key, for both environments' connections. */
const providerTokens = new Map<string, ProviderTokens>();

export function apnsConnection(
  credentialId: string,
  credentials: ApnsCredentials,
  environment: ApnsEnvironment,
  endpoint: ApnsEndpoint,
  requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
): ApnsConnection {
  const key = `${credentialId}|${environment}|${endpoint.address}`;
  const material = JSON.stringify(credentials);
  const existing = connections.get(key);
  if (existing?.credentials === material) return existing.connection;
  // A rotated key or certificate: new sessions with it; the old ones finish what they carry.
  void existing?.connection.close();
  let tokens: ProviderTokens | undefined;
  if (credentials.kind === 'token') {
    const tokenKey = `${credentials.teamId}|${credentials.keyId}|${credentials.key}`;
    tokens = providerTokens.get(tokenKey) ?? new ProviderTokens(credentials, providerTokenTable);
    providerTokens.set(tokenKey, tokens);
  }
  const connection = new ApnsConnection(credentials, environment, endpoint, {
    requestTimeoutMs,
    ...(tokens === undefined ? {} : { tokens }),
  });
  connections.set(key, { credentials: material, connection });
  return connection;
}

/** Closes every session (tests and the offline runtime's shutdown). */
export async function closeApnsConnections(): Promise<void> {
  const all = [...connections.values()];
  connections.clear();
  providerTokens.clear();
  await Promise.all(all.map(({ connection }) => connection.close()));
}
