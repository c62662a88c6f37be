import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildApp } from 'fauxqs';
import type { FauxqsStore } from './fauxqs-store';
import { SqsJournal } from './sqs-journal';

export interface EmbeddedSqs {
  /** `http://127.0.0.1:<port>`; queue URLs are `<endpoint>/000000000000/<name>`. */
  endpoint: string;
  /** What the journal brought back at start (persistent mode only). */
  restored?: SqsJournal['restored'];
  stop(): Promise<void>;
}

export interface SqsOptions {
  /** Fixed port (offline mode: stable across restarts); a random free port when absent. */
  port?: number;
  /** Journal file that makes the queues survive restarts and crashes; in memory only when absent. */
  journalFile?: string;
}

/**
 * fauxqs, the SQS API in-process (JSON protocol, delays, visibility timeouts, DLQ
 * redrive), on 127.0.0.1 only — optionally persisted by a write-ahead journal.
 */
export async function startSqs(options: SqsOptions = {}): Promise<EmbeddedSqs> {
  const store = await createStore();
  // Queue URLs take the host a client used (127.0.0.1:<port>), which resolves everywhere,
  // not fauxqs's default sqs.<region>.localhost name.
  store.host = '';
  // buildApp makes its own SNS and S3 stores when only the SQS store is given.
  const app = buildApp({ logger: false, stores: { sqsStore: store } as never });
  const journal = options.journalFile === undefined ? undefined : SqsJournal.open(options.journalFile);
  // The port is bound before the journal is replayed into the store (queue URLs name the
  // port): until then a client that already knows the stable endpoint gets a retryable
  // 503 instead of a store without its queues, or a message the journal never records.
  let ready = false;
  app.addHook('onRequest', async (_request: unknown, reply: NotReadyReply) => {
    if (!ready) await reply.code(503).header('retry-after', '1').send({ __type: 'ServiceUnavailable' });
  });
  try {
    await app.listen({ port: options.port ?? 0, host: '127.0.0.1' });
  } catch (error) {
    journal?.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : Number(options.port);
  journal?.attach(store, port);
  ready = true;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    ...(journal === undefined ? {} : { restored: journal.restored }),
    async stop() {
      await app.close();
      journal?.close();
    },
  };
}

/** What the not-ready hook uses of fastify's reply (fauxqs's types do not carry fastify's). */
interface NotReadyReply {
  code(status: number): NotReadyReply;
  header(name: string, value: string): NotReadyReply;
  send(body: unknown): unknown;
}

/**
 * fauxqs's own SQS store class. Its package exports only the server entry, so the
 * module is found the way Node finds packages (the node_modules directories up from
 * here) and loaded by file URL — the same module instance the server uses.
 */
async function createStore(): Promise<FauxqsStore> {
  const directories = createRequire(import.meta.url).resolve.paths('fauxqs') ?? [];
  const file = directories
    .map((directory) => join(directory, 'fauxqs', 'dist', 'sqs', 'sqsStore.js'))
    .find((candidate) => existsSync(candidate));
  if (file === undefined) throw new Error('fauxqs is not installed: run npm install');
  const { SqsStore } = (await import(pathToFileURL(file).href)) as { SqsStore: new () => FauxqsStore };
  return new SqsStore();
}
