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
  refuseHostileValues(value, subject);
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

/** The refusal of a value nesting objects and arrays past MAX_JSON_NESTING levels. */
export function nestingTooDeep(subject: string): InvalidRequestError {
  return new InvalidRequestError(
    `${subject} nests objects and arrays more than ${MAX_JSON_NESTING} levels deep.`,
    'NestingTooDeep',
  );
}

/** An object or array waiting to be walked, and where it sits: its parent and its key there. */
interface Pending {
  node: object;
  depth: number;
  parent: Pending | undefined;
  key: string | number;
}

/**
 * Walks the value without recursion and refuses it past MAX_JSON_NESTING levels, or
 * when a string in it — a value or a key — is not well-formed Unicode: a lone
 * surrogate (`"\ud800"` is valid JSON, but no UTF-8 text holds it, so APNs, the app
 * and DynamoDB would each read it their own way). U+FFFE and U+FFFF are characters
 * like any other and pass.
 */
function refuseHostileValues(value: unknown, subject: string): void {
  if (typeof value === 'string' && !value.isWellFormed()) throw notUnicode(subject);
  if (typeof value !== 'object' || value === null) return;
  const pending: Pending[] = [{ node: value, depth: 0, parent: undefined, key: '' }];
  for (let entry = pending.pop(); entry !== undefined; entry = pending.pop()) {
    if (entry.depth >= MAX_JSON_NESTING) throw nestingTooDeep(subject);
    const { node } = entry;
    if (Array.isArray(node)) {
      for (let index = 0; index < node.length; index++) visit(pending, entry, index, node[index]);
      continue;
    }
    for (const key of Object.keys(node)) {
      if (!key.isWellFormed()) {
        const where = entry.parent === undefined ? '' : ` in "${keyPath(pathOf(entry))}"`;
        throw notUnicode(`The key ${JSON.stringify(keyPath([key]))}${where}`);
      }
      visit(pending, entry, key, Reflect.get(node, key));
    }
  }
}

/** Refuses a string child that is not well-formed; queues an object or array child. */
function visit(pending: Pending[], parent: Pending, key: string | number, child: unknown): void {
  if (typeof child === 'string') {
    if (!child.isWellFormed()) throw notUnicode(`"${keyPath([...pathOf(parent), key])}"`);
  } else if (typeof child === 'object' && child !== null) {
    pending.push({ node: child, depth: parent.depth + 1, parent, key });
  }
}

/** The keys and indices from the walked value down to `entry`. */
function pathOf(entry: Pending): (string | number)[] {
  const keys: (string | number)[] = [];
  for (let at: Pending = entry; at.parent !== undefined; at = at.parent) keys.unshift(at.key);
  return keys;
}

/**
 * A path of keys and indices as messages show it (`to.userIds.3`), each key cut to 64
 * characters: a hostile body must not make the answer as large as itself.
 */
export function keyPath(path: readonly (string | number)[]): string {
  return path.map((key) => (String(key).length > 64 ? `${String(key).slice(0, 64)}…` : key)).join('.');
}

function notUnicode(where: string): InvalidRequestError {
  return new InvalidRequestError(
    `${where} holds a lone surrogate (an unpaired \\ud800–\\udfff), which is not Unicode text; send the character itself, or both halves of its surrogate pair.`,
    'InvalidUnicode',
  );
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
