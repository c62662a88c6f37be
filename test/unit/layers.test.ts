import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The layers of lambda/ as docs/architecture.md draws them, checked on the real import
 * graph: every `from '…'`, `import '…'` and `import('…')` of every file, relative ones
 * resolved to the file they name. The arrows point inward — primary adapters → use
 * cases → ports and domain ← secondary adapters — and only the composition modules
 * know both ends. A failure lists each offending `file → import`.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const LAMBDA = join(ROOT, 'lambda');

type Layer = 'domain' | 'ports' | 'use-cases' | 'primary' | 'secondary' | 'composition' | 'runtime';

/** Which layer a file under lambda/ is in (path relative to lambda/, with `.ts`). */
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
 * Runtime modules a use case may import, each for a reason:
 * - observability.ts — the logger: structured lines to stdout, no I/O a test would
 *   have to fake, and a use case's log line (a device evicted, a job split) is part of
 *   what it does. Passing it as a port would put a logger argument on every function
 *   of the pipeline and change nothing a test can observe.
 */
const USE_CASE_RUNTIME_ALLOWED = new Set(['observability.ts']);

/**
 * Packages the domain may use: pure libraries, no I/O, no AWS — validation (zod),
 * hashing (node:crypto), and deflate for packing tracking records (node:zlib, in memory).
 */
const DOMAIN_PACKAGES = new Set(['zod', 'zod/mini', 'node:crypto', 'node:zlib']);
/** Packages the use cases may use besides the domain's: none that talks to the world. */
const USE_CASE_PACKAGES = new Set([...DOMAIN_PACKAGES]);

/** What each layer may import from lambda/, by layer. */
const ALLOWED: Record<Layer, readonly Layer[]> = {
  domain: ['domain'],
  ports: ['ports', 'domain'],
  'use-cases': ['use-cases', 'ports', 'domain'],
  // A secondary adapter implements a port (its types) on the runtime's clients and config.
  secondary: ['secondary', 'ports', 'domain', 'runtime'],
  // A handler: its use case, the composed ports, the domain's types and errors, its HTTP helpers.
  primary: ['primary', 'use-cases', 'composition', 'domain', 'runtime'],
  composition: ['composition', 'secondary', 'ports', 'domain', 'runtime'],
  runtime: ['runtime', 'domain'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const SPECIFIER = /(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;

/** Every import of a file: a package name, or a relative specifier resolved to a path from the repository root. */
function importsOf(file: string, source: string): { specifier: string; target: string }[] {
  return [...source.matchAll(SPECIFIER)].map((match) => {
    const specifier = match[1] as string;
    if (!specifier.startsWith('.')) return { specifier, target: specifier };
    const resolved = resolve(dirname(file), specifier);
    const path = resolved.endsWith('.ts')
      ? resolved
      : existsSync(join(resolved, 'index.ts'))
        ? join(resolved, 'index.ts')
        : `${resolved}.ts`;
    return { specifier, target: relative(ROOT, path) };
  });
}

/** The import-graph violations of lambda/, as `file → import (why)`. */
function violations(): string[] {
  const found: string[] = [];
  for (const path of sourceFiles(LAMBDA)) {
    const file = relative(LAMBDA, path);
    const layer = layerOf(file);
    for (const { specifier, target } of importsOf(path, readFileSync(path, 'utf8'))) {
      const report = (why: string) => found.push(`lambda/${file} → ${specifier} (${why})`);
      if (!specifier.startsWith('.')) {
        if (layer === 'domain' && !DOMAIN_PACKAGES.has(specifier))
          report('the domain uses no package but pure ones');
        if ((layer === 'use-cases' || layer === 'ports') && !USE_CASE_PACKAGES.has(specifier))
          report('a use case reaches the world through its ports only');
        continue;
      }
      if (!target.startsWith('lambda/')) {
        report('lambda/ never imports infra/, local/ or anything outside it');
        continue;
      }
      const to = target.slice('lambda/'.length);
      const toLayer = layerOf(to);
      if (layer === 'use-cases' && toLayer === 'runtime' && USE_CASE_RUNTIME_ALLOWED.has(to)) continue;
      if (!ALLOWED[layer].includes(toLayer)) report(`${layer} may not import ${toLayer}`);
    }
  }
  return found.sort();
}

describe('the layers of lambda/', () => {
  it('every import points inward: domain ← ports ← use cases ← primary adapters; secondary adapters → ports and domain; only composition picks adapters', () => {
    expect(violations()).toEqual([]);
  });

  it('reads the imports it checks (a specifier of each form, resolved)', () => {
    const file = join(LAMBDA, 'use-cases/example.ts');
    const source = [
      "import { a } from '../adapters/secondary/devices-table';",
      "import type { B } from './ports';",
      "import './side-effect';",
      "const c = await import('../config');",
      "import * as z from 'zod/mini';",
    ].join('\n');
    expect(importsOf(file, source).map(({ target }) => target)).toEqual([
      'lambda/adapters/secondary/devices-table.ts',
      'lambda/use-cases/ports/index.ts',
      'lambda/use-cases/side-effect.ts',
      'lambda/config.ts',
      'zod/mini',
    ]);
  });

  it('every layer of the drawing has files: a renamed folder cannot empty a rule', () => {
    const layers = new Set(sourceFiles(LAMBDA).map((path) => layerOf(relative(LAMBDA, path))));
    expect([...layers].sort()).toEqual(
      ['composition', 'domain', 'ports', 'primary', 'runtime', 'secondary', 'use-cases'].sort(),
    );
  });
});
