import { InvalidRequestError } from './domain/errors';
import { keyPath, MAX_JSON_NESTING, nestingTooDeep } from './validation';

/**
 * Parses a JSON text that must mean one thing to every reader: valid JSON (RFC 8259)
 * whose objects name each key once. `JSON.parse` keeps the last of two equal keys,
 * other parsers the first or both, so `{"to":{"tokens":[…]},"to":{"userIds":[…]}}`
 * could be checked as one job and sent as another. Keys are compared as the
 * strings they decode to: `"a"` and `"\u0061"` are the same key.
 *
 * A text nesting objects and arrays past MAX_JSON_NESTING is refused before it is
 * parsed: a 5 MB `[[[[…` would cost `JSON.parse` seconds and a hundred megabytes.
 *
 * Every JSON body the API reads and every job the sender takes from the queue go
 * through here. `subject` names the text in messages ("The request body");
 * `maxDepth` is raised only for a text that wraps a value in envelopes of its own
 * (a job part on the send queue).
 */
export function parseStrictJson(text: string, subject: string, maxDepth = MAX_JSON_NESTING): unknown {
  const scan = scanJson(text, maxDepth);
  if (scan.tooDeep) throw nestingTooDeep(subject);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidRequestError(`${subject} is not valid JSON.`, 'MalformedJson');
  }
  const { duplicate } = scan;
  if (duplicate !== undefined) {
    const key = keyPath(duplicate.slice(-1));
    const where = duplicate.length > 1 ? ` in "${keyPath(duplicate.slice(0, -1))}"` : '';
    throw new InvalidRequestError(
      `${subject} names the key "${key}"${where} twice; each key may appear once per object.`,
      'DuplicateKey',
    );
  }
  return value;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** An open object (the keys it has named so far) or array (the index of its current element). */
interface Container {
  keys: Set<string> | undefined;
  /** The key or index the scan is in. */
  at: string | number;
}

export interface JsonScan {
  /** The path to the first key an object names a second time: parent keys and array indices, then the key. */
  duplicate?: (string | number)[];
  /** Objects and arrays nest deeper than `maxDepth` levels: the scan stopped there. */
  tooDeep: boolean;
}

/**
 * Finds the first key an object of `text` names a second time, or that objects and
 * arrays nest more than `maxDepth` levels deep. The scan only tracks where objects,
 * arrays and strings begin and end: linear, iterative (no recursion), string ends
 * found with `indexOf`, a key decoded only when it holds an escape. Its `duplicate`
 * is meaningful for valid JSON only (the caller parses the text too); `tooDeep` for
 * any text, brackets in strings aside.
 */
export function scanJson(text: string, maxDepth = Number.POSITIVE_INFINITY): JsonScan {
  const open: Container[] = [];
  let expectingKey = false;
  let duplicate: (string | number)[] | undefined;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (char === QUOTE) {
      const end = endOfString(text, i);
      const top = open.at(-1);
      if (expectingKey && top?.keys !== undefined) {
        const raw = text.slice(i + 1, end);
        const key = raw.includes('\\') ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
        top.at = key;
        // After the first duplicate only the depth counts: keys are no longer collected.
        if (duplicate === undefined && top.keys.has(key)) duplicate = open.map((container) => container.at);
        if (duplicate === undefined) top.keys.add(key);
        expectingKey = false;
      }
      i = end;
    } else if (char === 0x7b /* { */ || char === 0x5b /* [ */) {
      if (open.length >= maxDepth)
        return { ...(duplicate === undefined ? {} : { duplicate }), tooDeep: true };
      const object = char === 0x7b;
      open.push(
        object
          ? { keys: duplicate === undefined ? new Set() : undefined, at: '' }
          : { keys: undefined, at: 0 },
      );
      expectingKey = object;
    } else if (char === 0x7d /* } */ || char === 0x5d /* ] */) {
      open.pop();
      expectingKey = false;
    } else if (char === 0x2c /* , */) {
      const top = open.at(-1);
      if (top?.keys === undefined && typeof top?.at === 'number') top.at += 1;
      else expectingKey = true;
    }
  }
  return { ...(duplicate === undefined ? {} : { duplicate }), tooDeep: false };
}

/**
 * The index of the quote that closes the string opening at `start`: the first one not
 * escaped (the end of the text for an unterminated string, which valid JSON never has).
 */
function endOfString(text: string, start: number): number {
  let quote = text.indexOf('"', start + 1);
  for (;;) {
    if (quote === -1) return text.length;
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
    quote = text.indexOf('"', quote + 1);
  }
}
