import { buildSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { API_ROUTES, handlerEntry } from '../../infra/api-routes';

/**
 * The routes' composition (lambda/composition/api.ts) keeps the push services out of
 * every route's bundle: only the sender talks to APNs and FCM. An import that reaches
 * the HTTP/2 layer from a route — even for one constant — loads `node:http2` at every
 * route's cold start; this reads each route's bundle graph as esbuild builds it.
 */
describe("the routes' bundles", () => {
  it.each(API_ROUTES.map((route) => [route.name]))('%s carries no HTTP/2, APNs or FCM code', (name) => {
    const { metafile } = buildSync({
      entryPoints: [handlerEntry(name)],
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      metafile: true,
      external: ['@aws-sdk/*'],
    });
    const inputs = Object.keys(metafile.inputs);
    const imports = Object.values(metafile.inputs).flatMap((input) => input.imports.map(({ path }) => path));
    // The request timeout's default is the one file of http2/ a route may read (settings).
    const pushCode = inputs.filter(
      (path) =>
        /adapters\/secondary\/(http2|apns|fcm)\//.test(path) && !path.endsWith('http2/request-timeout.ts'),
    );
    expect(pushCode).toEqual([]);
    expect(imports).not.toContain('node:http2');
  });
});
