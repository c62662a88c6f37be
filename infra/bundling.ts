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
  /** CommonJS dependencies (node-apn, middy internals) still call require() inside an ES module. */
  banner:
    "import { createRequire as __pushgateCreateRequire } from 'node:module'; const require = __pushgateCreateRequire(import.meta.url);",
} as const;
