import { readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The layers of lambda/ as docs/architecture.md draws them, checked on the real import
 * graph. Every file is parsed with the TypeScript compiler, so every way of naming a
 * module counts however it is spelled: `import`/`export … from`, `import x = require()`,
 * `require()`, `import()` and `import('…')` types. The arrows point inward — primary
 * adapters → use cases → ports and domain ← secondary adapters — and only the
 * composition modules know both ends. The inner layers are checked transitively: what a
 * use case reaches through a file it may import (the logger) counts as its own import.
 * A failure lists each offending `file → import (why)`, with the chain that led there.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const LAMBDA = join(ROOT, 'lambda');

/** Every extension a module of lambda/ could be written with: a file the check skipped would be a way around it. */
const SOURCE_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'];
/** What a compiled-style specifier names in the source tree (`./a.js` is `a.ts`). */
const COMPILED_TO_SOURCE: Record<string, string> = { '.js': '.ts', '.mjs': '.mts', '.cjs': '.cts' };

type Layer = 'domain' | 'ports' | 'use-cases' | 'primary' | 'secondary' | 'composition' | 'runtime';

/** Which layer a file under lambda/ is in (path relative to lambda/). */
function layerOf(file: string): Layer {
  if (file.startsWith('domain/')) return 'domain';
  if (file.startsWith('use-cases/ports/')) return 'ports';
  if (file.startsWith('use-cases/')) return 'use-cases';
  if (file.startsWith('adapters/primary/')) return 'primary';
  if (file.startsWith('adapters/secondary/')) return 'secondary';
  if (file.startsWith('composition/')) return 'composition';
  // The top-level modules: config (the one reader of the environment), clients, the
  // logger, metrics and what they share — the runtime the adapters run in.
  return 'runtime';
}

/**
 * Packages the domain may use: pure libraries, no I/O, no AWS — validation (zod),
 * hashing (node:crypto), and deflate for packing tracking records (node:zlib, in memory).
 */
const DOMAIN_PACKAGES = new Set(['zod', 'zod/mini', 'node:crypto', 'node:zlib']);
/** Packages the use cases may use besides the domain's: none that talks to the world. */
const USE_CASE_PACKAGES = new Set([...DOMAIN_PACKAGES]);

/**
 * Packages no file of lambda/ imports: each loads or runs code by a name this check
 * cannot read (`createRequire`, `vm`, a worker's or child's script).
 */
const CODE_LOADERS = new Set(
  ['module', 'vm', 'worker_threads', 'child_process'].flatMap((name) => [name, `node:${name}`]),
);

/** A `file:` or `data:` URL (anything with a scheme but a built-in's `node:`). */
const URL_SPECIFIER = /^(?!node:)[a-z][a-z0-9+.-]*:/i;

/**
 * Globals that reach the world without an import. The inner layers name none of them:
 * the environment, the network and code loading go through ports. (`getBuiltinModule`
 * is refused everywhere in lambda/: it is an import the check could not see.)
 */
const INNER_GLOBALS = new Set([
  'process',
  'globalThis',
  'global',
  'fetch',
  'WebSocket',
  'eval',
  'Function',
  'require',
  'module',
]);

interface Rule {
  /** The layers whose files it may import. */
  layers: readonly Layer[];
  /**
   * When `runtime` is among the layers, the runtime files it may import, each with the
   * packages it may bring along; absent, any.
   */
  runtime?: ReadonlyMap<string, ReadonlySet<string>>;
  /** The packages it may import; absent, any. */
  packages?: ReadonlySet<string>;
  /**
   * The layers whose files, once reached, are held to this rule too: what a file reaches
   * through them is what it imports. A layer not listed is checked by its own rule only.
   */
  follow: readonly Layer[];
  /** Why it may not import a file of another layer. */
  why: string;
}

/**
 * What each layer may import. The runtime files the inner layers may reach, each for a
 * reason:
 * - observability.ts — the logger: structured lines to stdout, no I/O a test would
 *   have to fake, and a use case's log line (a device evicted, a job split) is part of
 *   what it does. Passing it as a port would put a logger argument on every function
 *   of the pipeline and change nothing a test can observe. Its package comes with it.
 * A handler reaches config, clients and metrics only through composition/, which picks
 * them; of the runtime it imports the logger and the request parsing the HTTP helpers
 * and the queue message reader share (strict-json.ts, validation.ts: pure, no I/O).
 */
const RULES: Record<Layer, Rule> = {
  domain: {
    layers: ['domain'],
    packages: DOMAIN_PACKAGES,
    follow: ['domain'],
    why: 'the domain is rules and types only',
  },
  ports: {
    layers: ['ports', 'domain'],
    packages: USE_CASE_PACKAGES,
    follow: ['ports', 'domain'],
    why: 'a port names what a use case needs, in the domain’s types',
  },
  'use-cases': {
    layers: ['use-cases', 'ports', 'domain', 'runtime'],
    runtime: new Map([['observability.ts', new Set(['@aws-lambda-powertools/logger'])]]),
    packages: USE_CASE_PACKAGES,
    follow: ['use-cases', 'ports', 'domain', 'runtime'],
    why: 'a use case reaches the world through its ports only',
  },
  primary: {
    layers: ['primary', 'use-cases', 'composition', 'domain', 'runtime'],
    runtime: new Map(
      ['observability.ts', 'strict-json.ts', 'validation.ts'].map((file) => [file, new Set()]),
    ),
    follow: ['runtime'],
    why: 'a handler reaches the world through the ports composition/ builds',
  },
  // A secondary adapter implements a port (its types) on the runtime's clients and config.
  secondary: {
    layers: ['secondary', 'ports', 'domain', 'runtime'],
    follow: [],
    why: 'an adapter never calls back into a use case or a handler',
  },
  composition: {
    layers: ['composition', 'secondary', 'ports', 'domain', 'runtime'],
    follow: [],
    why: 'composition picks adapters; it runs no use case',
  },
  runtime: {
    layers: ['runtime', 'domain'],
    follow: [],
    why: 'the runtime serves every layer and depends on none but the domain',
  },
};

function isSource(path: string): boolean {
  return SOURCE_EXTENSIONS.includes(extname(path));
}

/** Every file under lambda/, by absolute path, with its text (empty for a file that is not a module). */
function lambdaFiles(dir = LAMBDA): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) for (const [file, text] of lambdaFiles(path)) files.set(file, text);
    else files.set(path, isSource(path) ? readFileSync(path, 'utf8') : '');
  }
  return files;
}

/** One module a file names, as written — or a form that names one the check cannot read. */
interface ModuleReference {
  specifier: string;
  /** Set when the reference is refused whatever it names. */
  refused?: string;
}

/** A `require` call, however it is reached: `require(…)`, `module.require(…)`. */
function isRequire(callee: ts.Expression): boolean {
  if (ts.isIdentifier(callee)) return callee.text === 'require';
  return ts.isPropertyAccessExpression(callee) && callee.name.text === 'require';
}

/** An identifier that names a variable, not a property or a member being declared. */
function isVariableReference(node: ts.Identifier): boolean {
  const parent = node.parent;
  if (ts.isPropertyAccessExpression(parent)) return parent.expression === node;
  if (ts.isQualifiedName(parent)) return parent.left === node;
  if (
    ts.isPropertyAssignment(parent) ||
    ts.isPropertyDeclaration(parent) ||
    ts.isPropertySignature(parent) ||
    ts.isMethodDeclaration(parent) ||
    ts.isMethodSignature(parent) ||
    ts.isGetAccessor(parent) ||
    ts.isSetAccessor(parent) ||
    ts.isEnumMember(parent)
  )
    return parent.name !== node;
  if (ts.isBindingElement(parent)) return parent.propertyName !== node;
  return !ts.isImportSpecifier(parent) && !ts.isExportSpecifier(parent);
}

const scriptKinds: Record<string, ts.ScriptKind> = {
  '.ts': ts.ScriptKind.TS,
  '.mts': ts.ScriptKind.TS,
  '.cts': ts.ScriptKind.TS,
  '.js': ts.ScriptKind.JS,
  '.mjs': ts.ScriptKind.JS,
  '.cjs': ts.ScriptKind.JS,
};

/**
 * Every module a file names, read from its syntax tree. `inner` also reports the
 * globals that reach the world without an import (the domain, ports and use cases).
 */
function referencesOf(path: string, source: string, inner = false): ModuleReference[] {
  const file = ts.createSourceFile(path, source, ts.ScriptTarget.Latest, true, scriptKinds[extname(path)]);
  const found: ModuleReference[] = [];
  const named = (form: 'import' | 'require', argument: ts.Expression | undefined) => {
    if (argument && ts.isStringLiteralLike(argument)) found.push({ specifier: argument.text });
    else
      found.push({
        specifier: `${form}(${argument?.getText(file) ?? ''})`,
        refused: `${form}() of anything but a string literal: the check cannot tell what it loads`,
      });
  };
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      named('import', node.moduleSpecifier);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      named('require', node.moduleReference.expression);
    } else if (ts.isImportTypeNode(node)) {
      const literal = ts.isLiteralTypeNode(node.argument) ? node.argument.literal : undefined;
      named('import', literal && ts.isStringLiteral(literal) ? literal : undefined);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      named('import', node.arguments[0]);
    } else if (ts.isCallExpression(node) && isRequire(node.expression)) {
      named('require', node.arguments[0]);
      // The callee is read: do not report its `require` again as a global.
      for (const argument of node.arguments) visit(argument);
      return;
    } else if ((ts.isIdentifier(node) || ts.isStringLiteralLike(node)) && node.text === 'getBuiltinModule') {
      found.push({
        specifier: 'getBuiltinModule',
        refused: 'loads a built-in module without an import the check can see',
      });
    } else if (inner && ts.isIdentifier(node) && INNER_GLOBALS.has(node.text) && isVariableReference(node)) {
      found.push({
        specifier: node.text,
        refused: 'a global that reaches the world; the inner layers use ports',
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/** The file under lambda/ a relative specifier names, if there is one. */
function resolveIn(files: ReadonlyMap<string, string>, from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier);
  const compiled = COMPILED_TO_SOURCE[extname(base)];
  const candidates = [
    base,
    ...SOURCE_EXTENSIONS.map((extension) => `${base}${extension}`),
    ...(compiled ? [`${base.slice(0, -extname(base).length)}${compiled}`] : []),
    ...SOURCE_EXTENSIONS.map((extension) => join(base, `index${extension}`)),
  ];
  return candidates.find((candidate) => files.has(candidate));
}

const isInner = (layer: Layer) => layer === 'domain' || layer === 'ports' || layer === 'use-cases';

/**
 * The import-graph violations of lambda/ (or of the files given), as
 * `file → import (why)`; a violation reached through other files shows the chain,
 * `file → file → import (why)`, once, by its shortest chain.
 */
function violations(files: ReadonlyMap<string, string> = lambdaFiles()): string[] {
  const name = (path: string) => relative(LAMBDA, path);
  const references = new Map<string, ModuleReference[]>();
  const referencesFrom = (path: string) => {
    let found = references.get(path);
    if (!found) {
      const source = files.get(path) ?? '';
      found = isSource(path) ? referencesOf(path, source, isInner(layerOf(name(path)))) : [];
      references.set(path, found);
    }
    return found;
  };

  const found = new Map<string, string>();
  const report = (key: string, chain: readonly string[], specifier: string, why: string) => {
    const line = `${[...chain.map((path) => `lambda/${name(path)}`), specifier].join(' → ')} (${why})`;
    const earlier = found.get(key);
    // The shortest chain, and of those the first in order, so a report reads the same every run.
    if (!earlier || line.length < earlier.length || (line.length === earlier.length && line < earlier))
      found.set(key, line);
  };

  for (const start of files.keys()) {
    const layer = layerOf(name(start));
    const rule = RULES[layer];
    // Breadth first, so the first chain to a file is a shortest one.
    const queue: string[][] = [[start]];
    const seen = new Set([start]);
    for (let chain = queue.shift(); chain; chain = queue.shift()) {
      const from = chain.at(-1) as string;
      const fromRuntime = layerOf(name(from)) === 'runtime' ? rule.runtime?.get(name(from)) : undefined;
      for (const { specifier, refused } of referencesFrom(from)) {
        const flag = (why: string) => report(`${layer}:${from}:${specifier}`, chain, specifier, why);
        // Refused whoever reaches the file: reported once, from the file itself.
        const refuse = (why: string) => report(`${from}:${specifier}`, chain, specifier, why);
        if (refused) {
          refuse(refused);
          continue;
        }
        if (URL_SPECIFIER.test(specifier)) {
          refuse('a URL names a module the check does not read');
          continue;
        }
        if (!specifier.startsWith('.') && !specifier.startsWith('/')) {
          if (CODE_LOADERS.has(specifier)) refuse('loads code by a name the check cannot read');
          else if (rule.packages && !rule.packages.has(specifier) && !fromRuntime?.has(specifier))
            flag(`${layer} may not use ${specifier}: ${rule.why}`);
          continue;
        }
        const target = resolveIn(files, from, specifier);
        if (!target) {
          flag('names no module in lambda/: lambda/ never imports infra/, local/ or anything outside it');
          continue;
        }
        const to = name(target);
        const toLayer = layerOf(to);
        const reach = chain.length === 1 ? 'import' : 'reach';
        if (!rule.layers.includes(toLayer)) {
          flag(`${layer} may not ${reach} ${toLayer}: ${rule.why}`);
          continue;
        }
        if (toLayer === 'runtime' && rule.runtime && !rule.runtime.has(to)) {
          flag(
            `${layer} may ${reach} only ${[...rule.runtime.keys()].join(', ')} of the runtime: ${rule.why}`,
          );
          continue;
        }
        if (rule.follow.includes(toLayer) && !seen.has(target)) {
          seen.add(target);
          queue.push([...chain, target]);
        }
      }
    }
  }
  return [...found.values()].sort();
}

/** lambda/ with some files added or replaced (paths relative to lambda/). */
function lambdaWith(changes: Record<string, string>): Map<string, string> {
  const files = lambdaFiles();
  for (const [file, source] of Object.entries(changes)) files.set(join(LAMBDA, file), source);
  return files;
}

describe('the layers of lambda/', () => {
  it('every import points inward: domain ← ports ← use cases ← primary adapters; secondary adapters → ports and domain; only composition picks adapters', () => {
    expect(violations()).toEqual([]);
  });

  it('reads the imports it checks, in every form and spelling', () => {
    const source = [
      "import { a } from '../adapters/secondary/devices-table';",
      "import type { B } from './ports';",
      "import './side-effect';",
      "import{config}from'../config';",
      "import { publishTally } from /* a port? */ '../metrics';",
      "export { c } from './c';",
      "export * from './d';",
      "import e = require('./e');",
      "type F = import('./f').F;",
      "const g = await import('../g');",
      'const h = await import(`../clients`);',
      "const i = await import(/* lazy */ '../adapters/secondary/i');",
      "const j = require('../adapters/secondary/send-queue');",
      "const k = module.require('./k');",
      "import * as z from 'zod/mini';",
    ].join('\n');
    expect(
      referencesOf(join(LAMBDA, 'use-cases/example.ts'), source).map(({ specifier }) => specifier),
    ).toEqual([
      '../adapters/secondary/devices-table',
      './ports',
      './side-effect',
      '../config',
      '../metrics',
      './c',
      './d',
      './e',
      './f',
      '../g',
      '../clients',
      '../adapters/secondary/i',
      '../adapters/secondary/send-queue',
      './k',
      'zod/mini',
    ]);
  });

  it('refuses the forms it cannot follow: a computed specifier, getBuiltinModule, an indirect require, a global in an inner layer', () => {
    const source = [
      "const where = '../config';",
      'await import(where);',
      "require('../' + where);",
      "process.getBuiltinModule('node:http2');",
      "const { getBuiltinModule: load } = process; process['getBuiltinModule'];",
      'const load2 = require;',
      "fetch('https://example.com');",
      'const ok = { process: 1, fetch: 2 }; ok.process;',
    ].join('\n');
    const refused = (inner: boolean) =>
      referencesOf(join(LAMBDA, 'use-cases/example.ts'), source, inner)
        .filter(({ refused }) => refused)
        .map(({ specifier }) => specifier);
    expect(refused(false)).toEqual([
      'import(where)',
      "require('../' + where)",
      'getBuiltinModule',
      'getBuiltinModule',
      'getBuiltinModule',
    ]);
    expect(refused(true)).toEqual([
      'import(where)',
      "require('../' + where)",
      'process',
      'getBuiltinModule',
      'getBuiltinModule',
      'process',
      'process',
      'getBuiltinModule',
      'require',
      'fetch',
    ]);
  });

  // Each of these once left the check green; each is a real file's worth of evasion.
  const useCase = 'use-cases/evasion.ts';
  const evasions: [string, Record<string, string>, ...(string | RegExp)[]][] = [
    [
      'no whitespace after from',
      { [useCase]: "import{config}from'../config';" },
      'lambda/use-cases/evasion.ts → ../config (use-cases may import only observability.ts of the runtime: a use case reaches the world through its ports only)',
    ],
    [
      'a comment between from and the path',
      { [useCase]: "import { publishTally } from /* a port? */ '../metrics';" },
      'lambda/use-cases/evasion.ts → ../metrics (use-cases may import only observability.ts of the runtime: a use case reaches the world through its ports only)',
    ],
    [
      'a template literal in import()',
      { [useCase]: 'export const clients = await import(`../clients`);' },
      'lambda/use-cases/evasion.ts → ../clients (use-cases may import only observability.ts of the runtime: a use case reaches the world through its ports only)',
    ],
    [
      'a comment inside import()',
      { [useCase]: "export const table = await import(/* lazy */ '../adapters/secondary/devices-table');" },
      'lambda/use-cases/evasion.ts → ../adapters/secondary/devices-table (use-cases may not import secondary: a use case reaches the world through its ports only)',
    ],
    [
      'require()',
      { [useCase]: "export const queue = require('../adapters/secondary/send-queue');" },
      'lambda/use-cases/evasion.ts → ../adapters/secondary/send-queue (use-cases may not import secondary: a use case reaches the world through its ports only)',
    ],
    [
      'a computed specifier',
      { [useCase]: "const where = '../config';\nexport const config = await import(where);" },
      'lambda/use-cases/evasion.ts → import(where) (import() of anything but a string literal: the check cannot tell what it loads)',
    ],
    [
      'getBuiltinModule, in a layer allowed any package',
      { 'adapters/secondary/evasion.ts': "export const http2 = process.getBuiltinModule('node:http2');" },
      'lambda/adapters/secondary/evasion.ts → getBuiltinModule (loads a built-in module without an import the check can see)',
    ],
    [
      'a .mts file',
      { 'use-cases/evasion.mts': "export { deviceRegistry } from '../composition/api';" },
      'lambda/use-cases/evasion.mts → ../composition/api (use-cases may not import composition: a use case reaches the world through its ports only)',
    ],
    [
      'laundering through the logger',
      {
        'observability.ts': `${readFileSync(join(LAMBDA, 'observability.ts'), 'utf8')}\nexport { config } from './config';\n`,
        [useCase]: "export { config } from '../observability';",
      },
      // Once per offending import, by the shortest chain: any use case or handler that logs.
      /^lambda\/adapters\/primary\/\S+ → lambda\/observability\.ts → \.\/config \(primary may reach only observability\.ts, strict-json\.ts, validation\.ts of the runtime: /,
      /^lambda\/use-cases\/\S+ → lambda\/observability\.ts → \.\/config \(use-cases may reach only observability\.ts of the runtime: /,
    ],
    [
      'a handler importing config directly',
      { 'adapters/primary/evasion/handler.ts': "export { config } from '../../../config';" },
      'lambda/adapters/primary/evasion/handler.ts → ../../../config (primary may import only observability.ts, strict-json.ts, validation.ts of the runtime: a handler reaches the world through the ports composition/ builds)',
    ],
    [
      'a handler importing clients directly',
      { 'adapters/primary/evasion/handler.ts': "import { documentClient } from '../../../clients';" },
      'lambda/adapters/primary/evasion/handler.ts → ../../../clients (primary may import only observability.ts, strict-json.ts, validation.ts of the runtime: a handler reaches the world through the ports composition/ builds)',
    ],
    [
      'a use case reaching an adapter through another use case',
      {
        [useCase]: "export { config } from './evasion-helper.js';",
        'use-cases/evasion-helper.ts': "export { config } from '../config';",
      },
      'lambda/use-cases/evasion-helper.ts → ../config (use-cases may import only observability.ts of the runtime: a use case reaches the world through its ports only)',
    ],
    [
      'a global that does I/O in a use case',
      { [useCase]: "export const answer = await fetch('https://example.com');" },
      'lambda/use-cases/evasion.ts → fetch (a global that reaches the world; the inner layers use ports)',
    ],
    [
      'getBuiltinModule imported',
      { 'adapters/secondary/evasion.ts': "import { getBuiltinModule } from 'node:process';" },
      'lambda/adapters/secondary/evasion.ts → getBuiltinModule (loads a built-in module without an import the check can see)',
    ],
    [
      'getBuiltinModule in the logger the use cases and handlers import',
      {
        'observability.ts': `${readFileSync(join(LAMBDA, 'observability.ts'), 'utf8')}\nprocess.getBuiltinModule('node:http2');\n`,
      },
      'lambda/observability.ts → getBuiltinModule (loads a built-in module without an import the check can see)',
    ],
    [
      'a file: URL',
      { 'adapters/primary/evasion/handler.ts': `export { config } from 'file://${LAMBDA}/config.ts';` },
      `lambda/adapters/primary/evasion/handler.ts → file://${LAMBDA}/config.ts (a URL names a module the check does not read)`,
    ],
    [
      'a code loader',
      { 'adapters/secondary/evasion.ts': "import { createRequire } from 'node:module';" },
      'lambda/adapters/secondary/evasion.ts → node:module (loads code by a name the check cannot read)',
    ],
  ];

  it.each(evasions)('reports each way around it: %s', (_, changes, ...reported) => {
    const lines = reported.map((line) => (typeof line === 'string' ? line : expect.stringMatching(line)));
    expect(violations(lambdaWith(changes))).toEqual(lines);
  });

  it('every layer of the drawing has files: a renamed folder cannot empty a rule', () => {
    const layers = new Set([...lambdaFiles().keys()].map((path) => layerOf(relative(LAMBDA, path))));
    expect([...layers].sort()).toEqual(
      ['composition', 'domain', 'ports', 'primary', 'runtime', 'secondary', 'use-cases'].sort(),
    );
  });
});
