import { describe, expect, it } from 'vitest';
import { API_ROUTES, type ApiRoute } from '../../infra/api-routes';
import { findRoute, loadRouteHandler } from '../../local/http-dispatch';

/** A request path for a route, every {parameter} filled with a sample value. */
function samplePath(route: ApiRoute): string {
  return route.path.replace(/\{(\w+)\}/g, (_, name: string) => `sample-${name}`);
}

/**
 * Loading a handler module compiles it and everything it imports on first use: a few
 * hundred ms on a quiet machine, over 5 s (the unit default) on a busy CI machine.
 */
const IMPORT_TIMEOUT_MS = 60_000;

describe('offline mode serves every deployed route', () => {
  it.each(API_ROUTES.map((route) => [`${route.method} ${route.path}`, route] as const))(
    '%s has a handler module offline, and requests reach it',
    async (_name, route) => {
      expect(typeof (await loadRouteHandler(route))).toBe('function');
      const found = findRoute(route.method, samplePath(route));
      expect(found?.route).toBe(route);
    },
    IMPORT_TIMEOUT_MS,
  );

  it('a route whose handler module is missing is refused with its name, not served by another', async () => {
    const route: ApiRoute = {
      method: 'GET',
      path: '/v1/nothing',
      auth: 'iam',
      name: 'no-such-route',
      devices: {},
    };
    await expect(loadRouteHandler(route)).rejects.toThrow();
  });
});
