/**
 * The parts of @parse/node-apn 8.1 (pinned) that the gateway builds on: its Client,
 * composed as its index.js does (with our logger), for the session, credentials and
 * provider JWT; the gateway issues the requests itself.
 */
declare module '@parse/node-apn/lib/client.js' {
  const clientFactory: (
    dependencies: Record<string, unknown>,
  ) => new (
    options: Record<string, unknown>,
  ) => NodeApnClient;
  export default clientFactory;
}
declare module '@parse/node-apn/lib/config.js' {
  const configFactory: (
    dependencies: Record<string, unknown>,
  ) => (options: Record<string, unknown>) => unknown;
  export default configFactory;
}
declare module '@parse/node-apn/lib/credentials/index.js' {
  const credentialsFactory: (dependencies: Record<string, unknown>) => {
    certificate: unknown;
    token: unknown;
    ca: unknown;
  };
  export default credentialsFactory;
}

interface NodeApnClient {
  session?: import('node:http2').ClientHttp2Session | null;
  /** node-apn's prepared options; `token` is its provider-token generator (null with certificate auth). */
  config: {
    address: string;
    token: {
      generation: number;
      current: string;
      regenerate(generation: number): void;
      isExpired(validSeconds: number): boolean;
    } | null;
  };
  /** Opens the HTTP/2 session (TLS, GOAWAY/error/close handling, heartbeat PINGs). */
  connect(): Promise<void>;
  destroySession(session: unknown): void;
  shutdown(): Promise<void>;
}
