import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The pushgate folder, found from this module's own location — not the current
 * directory, so a CDK app elsewhere that imports the construct bundles the same
 * handlers (esbuild runs there, with this folder's node_modules and lock file).
 */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A path in the pushgate folder, absolute, from a path relative to it (`lambda/…/handler.ts`). */
export function projectPath(relative: string): string {
  return join(PROJECT_ROOT, relative);
}

/** The lock file that pins the bundled dependencies (a copy without one still bundles, by package.json). */
export const DEPS_LOCK_FILE = existsSync(projectPath('package-lock.json'))
  ? projectPath('package-lock.json')
  : projectPath('package.json');

/**
 * How every Lambda is bundled: local esbuild (never Docker), ESM for Node 24,
 * minified with source maps. The AWS SDK v3 is left to the nodejs24.x runtime,
 * which ships it; everything else is bundled. Shared by the CDK construct and the
 * bundle-size benchmark so both measure the same artefact.
 */
export const LAMBDA_BUNDLING = {
  target: 'node24',
  format: 'esm',
  minify: true,
  sourceMap: true,
  externalModules: ['@aws-sdk/*'],
  mainFields: ['module', 'main'],
  /**
   * CommonJS dependencies bundled into an ES module (google-auth-library and what it pulls
   * in, for FCM) still call require() for Node's built-in modules.
   */
  banner:
    "import { createRequire as __pushgateCreateRequire } from 'node:module'; const require = __pushgateCreateRequire(import.meta.url);",
} as const;
