/**
 * The send queue's message rules, shared by the queue adapter (which writes
 * messages) and the job part rules (which cut parts to fit one).
 */

/** SQS caps one message — its body plus every attribute's name, type and value — at 1 MiB. */
export const MAX_SQS_MESSAGE_BYTES = 1024 * 1024;

/**
 * A JSON text with every non-ASCII character escaped as `\uXXXX`: the same JSON
 * value, in plain ASCII. SQS implementations differ in the Unicode they take (AWS
 * refuses U+FFFE, U+FFFF and lone surrogates; fauxqs anything above U+FFFF, emoji
 * included); escaped, any text travels. Safe because a JSON text has non-ASCII
 * characters only inside strings, where an escape means the same character.
 */
export function asciiJson(json: string): string {
  return json.replace(/[\u007f-\uffff]/g, escapeChar);
}

export function escapeChar(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** The bytes a JSON text takes on the queue once written as asciiJson (without building it). */
export function queuedBytes(json: string): number {
  let escaped = 0;
  for (let i = 0; i < json.length; i++) if (json.charCodeAt(i) >= 0x7f) escaped++;
  // Each escaped UTF-16 unit becomes six ASCII bytes in place of one character.
  return json.length + escaped * 5;
}
