import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

/**
 * `engines` in package.json is a promise: on every Node version it admits, `npm install`
 * prints no EBADENGINE. The lowest release of each line it admits (20.19, 22.13, 24.0 —
 * 24 is the Lambda runtime) must satisfy every locked package's own `engines.node`.
 */
const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as {
  packages: Record<string, { engines?: { node?: string } | string[] }>;
};

const admitted = manifest.engines.node.split('||').map((range) => semver.minVersion(range.trim())?.version);

describe('the Node versions package.json admits', () => {
  it('are the lowest release of each supported line', () => {
    expect(admitted).toEqual(['20.19.0', '22.13.0', '24.0.0']);
  });

  it.each(admitted)('%s satisfies the engines of every locked package', (version) => {
    const refusing = Object.entries(lock.packages).flatMap(([path, entry]) => {
      const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      return range !== undefined && !semver.satisfies(String(version), range) ? [`${path} (${range})`] : [];
    });
    expect(refusing).toEqual([]);
  });
});
