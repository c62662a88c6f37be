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

/**
 * How deep objects and arrays may nest in anything we validate. A push payload is
 * at most 4 KB, so real jobs stay far below; the cap keeps recursive validation and
 * serialisation from exhausting the stack on a hostile body (`[[[[…]]]]`).
 */
export const MAX_JSON_NESTING = 32;

type Issue = z.core.$ZodIssue;

/**
 * Validates a value, turning the first zod issue into a sentence that names the
 * field. `subject` names the whole value in messages: "The body" for request
 * bodies, `The path parameter "userId"` for a path parameter.
 */
export function parseWith<Schema extends z.ZodMiniType>(
  schema: Schema,
  value: unknown,
  subject = 'The body',
): z.output<Schema> {
  refuseDeepNesting(value, subject);
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const first = result.error.issues.find((issue) => ownCode(issue) !== undefined) ?? result.error.issues[0];
  if (first === undefined) throw new InvalidRequestError(`${subject} is invalid.`);
  const issue = explainUnion(first, value);
  const where = issue.path.length ? `"${issue.path.join('.')}"` : subject;
  const code = ownCode(issue);
  if (code !== undefined) throw new InvalidRequestError(`${where}: ${issue.message}`, code);
  if (issue.code === 'unrecognized_keys') {
    const named = issue.keys.slice(0, 5).map((key) => `"${key}"`);
    const more = issue.keys.length - named.length;
    const fields = `${named.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
    const at = issue.path.length ? ` in ${where}` : '';
    throw new InvalidRequestError(
      `Unknown field ${fields}${at}; only documented fields are accepted.`,
      'UnknownField',
    );
  }
  throw new InvalidRequestError(`${where}: ${issue.message}`);
}

/**
 * A refinement that has its own stable error code names it in `params.code`; such
 * an issue is reported first, with that code, whatever else is wrong.
 */
function ownCode(issue: Issue): string | undefined {
  const code: unknown = issue.code === 'custom' ? issue.params?.code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** Walks the value without recursion and refuses it past MAX_JSON_NESTING levels. */
function refuseDeepNesting(value: unknown, subject: string): void {
  const pending: [unknown, number][] = [[value, 0]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [node, depth] = next;
    if (typeof node !== 'object' || node === null) continue;
    if (depth >= MAX_JSON_NESTING) {
      throw new InvalidRequestError(
        `${subject} nests objects and arrays more than ${MAX_JSON_NESTING} levels deep.`,
        'NestingTooDeep',
      );
    }
    for (const child of Object.values(node)) {
      if (typeof child === 'object' && child !== null) pending.push([child, depth + 1]);
    }
  }
}

/**
 * When no branch of a union matched, zod reports only "invalid union". If exactly
 * one branch fits the value's shape — its type, and every key it requires is
 * present — that branch's own first issue says what is wrong (e.g. 50 001 user ids
 * exceed the limit) far better than the union's summary.
 */
function explainUnion(issue: Issue, value: unknown): Issue {
  if (issue.code !== 'invalid_union') return issue;
  const at = issue.path.reduce<unknown>(
    (node, key) => (typeof node === 'object' && node !== null ? Reflect.get(node, key) : undefined),
    value,
  );
  const has = (key: PropertyKey | undefined) =>
    typeof at === 'object' && at !== null && key !== undefined && Object.hasOwn(at, key);
  const fitting = issue.errors.filter((branch) =>
    branch.every(
      (inner) =>
        inner.code !== 'invalid_type' ||
        (inner.path.length > 0 && (inner.path.length > 1 || has(inner.path[0]))),
    ),
  );
  const [only] = fitting;
  const first = only?.[0];
  if (fitting.length !== 1 || first === undefined) return issue;
  return explainUnion({ ...first, path: [...issue.path, ...first.path] } as Issue, value);
}
