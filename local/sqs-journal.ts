import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { FauxqsQueue, FauxqsStore } from './fauxqs-store';
import { PidLock } from './pid-lock';
import { type JournalRecord, type JournalState, queueRecord, replayJournal } from './sqs-journal-records';

/**
 * A write-ahead journal under fauxqs, which keeps its queues only in memory. Every
 * change a client can cause — a message put on a queue (SendMessage, SendMessageBatch,
 * a DLQ redrive), received (its receive count), deleted, a queue created, changed,
 * purged or deleted — is appended to one file with a synchronous write *inside* the
 * fauxqs action, so it is in the file before the HTTP answer leaves: a client never
 * hears "sent" or "deleted" for something the journal does not know. A process
 * crash (Ctrl-C, `kill -9`) loses nothing acknowledged; the write is not fsynced,
 * so a power cut may lose the last seconds, as with the dynalite store beside it.
 *
 * At start the journal is replayed into fauxqs's store: every message not deleted
 * comes back with its id, body, attributes, receive count and remaining delay.
 * Messages that were in flight come back visible at once: the receipt handles died
 * with the process that held them (the offline sender), so waiting out the
 * visibility timeout would only delay the retry. Then the journal is rewritten as
 * just the live state (compaction), and again whenever it has grown by more than
 * twice its compacted size plus 8 MiB, so it stays proportional to what is queued.
 *
 * The record format and its replay are in sqs-journal-records.ts; the fauxqs objects
 * it hooks are described in fauxqs-store.ts. This module is the journal's life: the
 * one-writer lock, the hooks, appending and compaction.
 */

const COMPACTION_SLACK_BYTES = 8 * 1024 * 1024;

export class SqsJournal {
  /**
   * What the journal held when it was opened. `inFlight`: messages a consumer had
   * received whose visibility timeout had not run out yet — released early, at start.
   */
  readonly restored: { queues: number; messages: number; inFlight: number; unreadable: number };
  private fd: number | undefined;
  private store: FauxqsStore | undefined;
  private compactedBytes = 0;
  private fileBytes = 0;
  private compactionScheduled = false;

  private constructor(
    private readonly file: string,
    private readonly replayed: JournalState,
    private readonly lock: PidLock,
  ) {
    this.restored = {
      queues: replayed.queues.size,
      messages: replayed.messages.size,
      inFlight: [...replayed.messages.values()].filter(({ hiddenUntil = 0 }) => hiddenUntil > Date.now())
        .length,
      unreadable: replayed.unreadable,
    };
  }

  /**
   * Takes the journal for this process (one writer: a second pushgate on the same
   * directory would fork the queues) and reads it (none yet: empty). Nothing is
   * written until `attach`.
   */
  static open(file: string): SqsJournal {
    mkdirSync(dirname(file), { recursive: true });
    const lock = PidLock.take(
      `${file}.lock`,
      (pid) =>
        `Another pushgate (pid ${pid}) is using ${dirname(file)}. Stop it, or give this one its own PUSHGATE_HOME.`,
    );
    try {
      rmSync(`${file}.tmp`, { force: true });
      const data = existsSync(file) ? readFileSync(file) : Buffer.alloc(0);
      return new SqsJournal(file, replayJournal(data), lock);
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  /**
   * Puts the replayed queues and messages into a fresh fauxqs store, hooks the store
   * so every later change is journaled, and compacts. Call right after fauxqs listens
   * on `port` (queue URLs name it), before any client is told the endpoint.
   */
  attach(store: FauxqsStore, port: number): void {
    for (const queue of this.replayed.queues.values()) {
      const region = queue.arn.split(':')[3] ?? 'us-east-1';
      const url = store.buildQueueUrl(queue.name, String(port), `127.0.0.1:${port}`, region);
      store.createQueue(queue.name, url, queue.arn, queue.attributes, queue.tags);
    }
    const byArn = new Map([...store.queues.values()].map((queue) => [queue.arn, queue]));
    for (const { arn, message } of this.replayed.messages.values()) byArn.get(arn)?.enqueue(message);
    this.replayed.queues.clear();
    this.replayed.messages.clear();

    for (const queue of store.queues.values()) this.hookQueue(queue);
    const createQueue = store.createQueue.bind(store);
    store.createQueue = (name, url, arn, attributes, tags) => {
      const queue = createQueue(name, url, arn, attributes, tags);
      this.hookQueue(queue);
      this.append({ t: 'queue', ...queueRecord(queue) });
      return queue;
    };
    const deleteQueue = store.deleteQueue.bind(store);
    store.deleteQueue = (url) => {
      const arn = store.queues.get(url)?.arn;
      const deleted = deleteQueue(url);
      if (deleted && arn !== undefined) this.append({ t: 'drop', arn });
      return deleted;
    };
    this.store = store;
    this.compact();
  }

  /** Stops journaling and lets another process take the journal. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.store = undefined;
    this.lock.release();
  }

  private hookQueue(queue: FauxqsQueue): void {
    const enqueue = queue.enqueue.bind(queue);
    queue.enqueue = (message) => {
      this.append({ t: 'put', arn: queue.arn, message });
      enqueue(message);
    };
    const dequeue = queue.dequeue.bind(queue);
    queue.dequeue = (maxCount, visibilityTimeout, dlqResolver) => {
      const received = dequeue(maxCount, visibilityTimeout, dlqResolver);
      if (received.length > 0) {
        this.append({
          t: 'recv',
          r: received.map(({ MessageId, ReceiptHandle }) => {
            const entry = queue.inflightMessages.get(ReceiptHandle);
            return [
              MessageId,
              entry?.message.approximateReceiveCount ?? 1,
              entry?.message.approximateFirstReceiveTimestamp ?? 0,
              entry?.visibilityDeadline ?? 0,
            ];
          }),
        });
      }
      return received;
    };
    const deleteMessage = queue.deleteMessage.bind(queue);
    queue.deleteMessage = (receiptHandle) => {
      const id = queue.inflightMessages.get(receiptHandle)?.message.messageId;
      const deleted = deleteMessage(receiptHandle);
      if (deleted && id !== undefined) this.append({ t: 'del', id });
      return deleted;
    };
    const purge = queue.purge.bind(queue);
    queue.purge = () => {
      purge();
      this.append({ t: 'purge', arn: queue.arn });
    };
    const setAttributes = queue.setAttributes.bind(queue);
    queue.setAttributes = (attributes) => {
      setAttributes(attributes);
      this.append({ t: 'queue', ...queueRecord(queue) });
    };
  }

  private append(record: JournalRecord): void {
    if (this.fd === undefined) throw new Error('the SQS journal is closed');
    const line = Buffer.from(`${JSON.stringify(record)}\n`);
    const written = writeSync(this.fd, line);
    // A short write (disk full) must fail the SQS call, not pass for durable.
    if (written !== line.length) throw new Error(`the SQS journal wrote ${written} of ${line.length} bytes`);
    this.fileBytes += line.length;
    // Compacting costs the live size; waiting until the file is twice that (plus slack) keeps it amortized.
    if (this.fileBytes > 2 * this.compactedBytes + COMPACTION_SLACK_BYTES && !this.compactionScheduled) {
      // Not here: the action that wrote this record has not finished changing the store.
      this.compactionScheduled = true;
      setImmediate(() => {
        this.compactionScheduled = false;
        try {
          if (this.store !== undefined) this.compact();
        } catch (error) {
          // The journal as it is stays valid (the rewrite goes to a separate file): keep appending.
          console.error('could not compact the SQS journal; it keeps growing until the next start:', error);
        }
      });
    }
  }

  /** Rewrites the journal as the store's live state: a new file, fsynced, renamed over the old one. */
  private compact(): void {
    const store = this.store;
    if (store === undefined) return;
    const tmp = `${this.file}.tmp`;
    const out = openSync(tmp, 'w');
    let written = 0;
    let pending: string[] = [];
    let pendingBytes = 0;
    const flush = () => {
      const chunk = Buffer.from(pending.join(''));
      if (writeSync(out, chunk) !== chunk.length) throw new Error('short write compacting the SQS journal');
      written += chunk.length;
      pending = [];
      pendingBytes = 0;
    };
    const write = (record: JournalRecord) => {
      const line = `${JSON.stringify(record)}\n`;
      pending.push(line);
      pendingBytes += line.length;
      if (pendingBytes > 1024 * 1024) flush();
    };
    try {
      for (const queue of store.queues.values()) write({ t: 'queue', ...queueRecord(queue) });
      for (const queue of store.queues.values()) {
        const { ready, delayed, inflight } = queue.inspectMessages();
        // In-flight first: they were received before anything still waiting.
        for (const { message, visibilityDeadline } of inflight) {
          write({ t: 'put', arn: queue.arn, message, hiddenUntil: visibilityDeadline });
        }
        for (const message of [...ready, ...delayed]) write({ t: 'put', arn: queue.arn, message });
      }
      flush();
      fsyncSync(out);
    } finally {
      closeSync(out);
    }
    renameSync(tmp, this.file);
    // The old descriptor now writes to an unlinked file: never append through it again.
    const old = this.fd;
    this.fd = undefined;
    if (old !== undefined) closeSync(old);
    syncDirectory(dirname(this.file));
    this.fd = openSync(this.file, 'a');
    this.compactedBytes = written;
    this.fileBytes = written;
  }
}

/** Makes a rename durable (the directory entry), where the platform allows it. */
function syncDirectory(path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    fsyncSync(fd);
  } catch {
    // Some platforms cannot fsync a directory; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
