import type { FauxqsMessage, FauxqsQueue } from './fauxqs-store';

/**
 * The SQS journal's file format — one JSON record per line: a queue created or
 * changed, dropped or purged, a message put, received or deleted — and what a journal
 * says is queued once replayed. Both the writer (sqs-journal.ts, appending and
 * compacting) and the reader (replay at start) go through these types, so the format
 * changes here alone.
 */

export interface QueueRecord {
  name: string;
  arn: string;
  attributes: Record<string, string>;
  tags: Record<string, string>;
}

export type JournalRecord =
  | ({ t: 'queue' } & QueueRecord)
  | { t: 'drop'; arn: string }
  /** `hiddenUntil`: in flight until then (compaction keeps it); a new put is visible or delayed. */
  | { t: 'put'; arn: string; message: FauxqsMessage; hiddenUntil?: number }
  /** Receives: [messageId, approximateReceiveCount, approximateFirstReceiveTimestamp, visibility deadline]. */
  | { t: 'recv'; r: [string, number, number, number][] }
  | { t: 'del'; id: string }
  | { t: 'purge'; arn: string };

/** What a journal says is queued: queues by ARN, live messages by id, in the order they were put. */
export interface JournalState {
  queues: Map<string, QueueRecord>;
  messages: Map<string, { arn: string; message: FauxqsMessage; hiddenUntil?: number }>;
  /** Lines that could not be read (a torn last line after a crash is normal). */
  unreadable: number;
}

/** Replays a journal into the state it describes (line by line: a journal may outgrow a string). */
export function replayJournal(data: Buffer): JournalState {
  const state: JournalState = { queues: new Map(), messages: new Map(), unreadable: 0 };
  for (let start = 0; start < data.length; ) {
    const newline = data.indexOf(0x0a, start);
    const end = newline === -1 ? data.length : newline;
    const line = data.toString('utf8', start, end);
    start = end + 1;
    if (line === '') continue;
    let record: JournalRecord;
    try {
      record = JSON.parse(line) as JournalRecord;
    } catch {
      state.unreadable++;
      continue;
    }
    applyRecord(state, record);
  }
  return state;
}

function applyRecord(state: JournalState, record: JournalRecord): void {
  switch (record.t) {
    case 'queue': {
      const { t: _, ...queue } = record;
      state.queues.set(queue.arn, queue);
      return;
    }
    case 'drop':
    case 'purge':
      if (record.t === 'drop') state.queues.delete(record.arn);
      for (const [id, entry] of state.messages) if (entry.arn === record.arn) state.messages.delete(id);
      return;
    case 'put':
      // A redrive puts the same message on the DLQ: it moves, keeping its id.
      state.messages.delete(record.message.messageId);
      state.messages.set(record.message.messageId, {
        arn: record.arn,
        message: record.message,
        ...(record.hiddenUntil === undefined ? {} : { hiddenUntil: record.hiddenUntil }),
      });
      return;
    case 'recv':
      for (const [id, count, first, hiddenUntil] of record.r) {
        const entry = state.messages.get(id);
        if (entry === undefined) continue;
        entry.message.approximateReceiveCount = count;
        if (first > 0) entry.message.approximateFirstReceiveTimestamp = first;
        entry.hiddenUntil = hiddenUntil;
      }
      return;
    case 'del':
      state.messages.delete(record.id);
      return;
  }
}

/** The record of a queue as it is now. */
export function queueRecord(queue: FauxqsQueue): QueueRecord {
  return {
    name: queue.name,
    arn: queue.arn,
    attributes: { ...queue.attributes },
    tags: Object.fromEntries(queue.tags),
  };
}
