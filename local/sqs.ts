import { startFauxqs } from 'fauxqs';

export interface EmbeddedSqs {
  endpoint: string;
  stop(): Promise<void>;
}

/** fauxqs, the SQS API in-process (JSON protocol, delays, visibility timeouts, DLQ redrive). */
export async function startSqs(options: { port?: number } = {}): Promise<EmbeddedSqs> {
  const server = await startFauxqs({ port: options.port ?? 0, logger: false });
  return { endpoint: server.address, stop: () => server.stop() };
}
