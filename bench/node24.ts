import { execFileSync } from 'node:child_process';

/** The path of a Node 24 binary (the Lambda runtime's major), from the npm registry's `node` package. */
export function node24Path(): string {
  if (process.versions.node.startsWith('24.')) return process.execPath;
  return execFileSync('npx', ['-y', '-p', 'node@24', 'node', '-p', 'process.execPath'], {
    encoding: 'utf8',
  }).trim();
}
