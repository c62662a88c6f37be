import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { InvalidRequestError } from './domain/errors';

/**
 * Runtime code validates with `zod/mini`, whose functions tree-shake (the classic
 * API bundles ~450 KB per function, every locale included). mini ships no messages;
 * this loads the English ones for the rare errors our schemas do not word
 * themselves. Parse with parseWith(), which also words the first issue as a
 * sentence naming the field.
 */
z.config(en());

/** Validates a value, turning the first zod issue into a sentence that names the field. */
export function parseWith<Schema extends z.ZodMiniType>(schema: Schema, value: unknown): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue === undefined) throw new InvalidRequestError('The request body is invalid.');
  const where = issue.path.length ? `"${issue.path.join('.')}"` : 'The body';
  if (issue.code === 'unrecognized_keys') {
    const fields = issue.keys.map((key) => `"${key}"`).join(', ');
    const at = issue.path.length ? ` in ${where}` : '';
    throw new InvalidRequestError(
      `Unknown field ${fields}${at}; only documented fields are accepted.`,
      'UnknownField',
    );
  }
  throw new InvalidRequestError(`${where}: ${issue.message}`);
}
