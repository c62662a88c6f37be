import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_ROUTES, type ApiRoute } from '../../infra/api-routes';
import { QUERY_PARAMETERS } from '../../lambda/adapters/primary/http/request';
import { ERROR_CODES } from '../../scripts/api-error-codes';
import { OPERATIONS, routeErrors } from '../../scripts/api-operations';
import { serialise } from '../../scripts/json-schemas';
import { openApiDocument, operationKey } from '../../scripts/openapi';

type Operation = {
  security: Record<string, unknown>[];
  parameters?: { name: string; in: string }[];
  requestBody?: unknown;
  responses: Record<string, { description: string }>;
};
const published = JSON.parse(readFileSync('schema/openapi.json', 'utf8')) as {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
};
const publishedOperation = (route: ApiRoute): Operation | undefined =>
  published.paths[route.path]?.[route.method.toLowerCase()];

describe('OpenAPI description of the HTTP API (schema/openapi.json)', () => {
  it('is what npm run schema:generate writes from api-routes.ts and the zod schemas', () => {
    expect(readFileSync('schema/openapi.json', 'utf8')).toBe(serialise(openApiDocument()));
    expect(published.openapi).toBe('3.1.0');
  });

  it('lists exactly the routes api-routes.ts deploys', () => {
    const listed = Object.entries(published.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(listed.sort()).toEqual(API_ROUTES.map(operationKey).sort());
  });

  it.each(API_ROUTES.map((route) => [operationKey(route), route] as const))(
    '%s: the auth the stack deploys, its path and query parameters, an error answer for every code it lists',
    (key, route) => {
      const operation = publishedOperation(route);
      expect(operation?.security).toEqual([route.auth === 'jwt' ? { appJwt: [] } : { backendIam: [] }]);
      const pathNames = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => name);
      const queryNames = (OPERATIONS[key]?.query ?? []).map(({ name }) => name);
      expect(operation?.parameters?.map(({ name }) => name) ?? []).toEqual([...pathNames, ...queryNames]);
      expect(queryNames).toEqual(QUERY_PARAMETERS[key] ?? []);
      for (const code of routeErrors(key)) {
        const [status] = ERROR_CODES[code];
        expect(operation?.responses[String(status)]?.description).toContain(`\`${code}\``);
      }
      expect(operation?.responses['500']).toBeDefined();
      expect(operation?.responses['400']?.description).toContain('`UnknownQueryParameter`');
      // API Gateway's own refusal: 401 from the JWT authorizer, 403 for a missing or refused SigV4 signature.
      expect(operation?.responses[route.auth === 'jwt' ? '401' : '403']?.description).toContain(
        'API Gateway',
      );
    },
  );

  it('a route added to api-routes.ts without an OpenAPI entry fails the generation', () => {
    const added: ApiRoute = {
      method: 'GET',
      path: '/v1/devices/{token}',
      auth: 'jwt',
      name: 'get-device',
      devices: {},
    };
    expect(() => openApiDocument([...API_ROUTES, added])).toThrow(/GET \/v1\/devices\/\{token\}.*no entry/);
  });

  it('query parameters other than the ones the handlers read fail the generation', () => {
    const key = 'GET /v1/notifications/{id}';
    const reads = { ...QUERY_PARAMETERS, [key]: ['limit'] };
    expect(() => openApiDocument(API_ROUTES, OPERATIONS, reads)).toThrow(
      /GET \/v1\/notifications\/\{id\} documents the query parameters \[limit, nextToken\] but its handler reads \[limit\]/,
    );
    const listing = { ...QUERY_PARAMETERS, 'GET /v1/devices': ['userId'] };
    expect(() => openApiDocument(API_ROUTES, OPERATIONS, listing)).toThrow(/GET \/v1\/devices documents/);
  });

  it('an entry for a route the stack no longer deploys fails the generation', () => {
    expect(() => openApiDocument(API_ROUTES.slice(1))).toThrow(/does not deploy/);
  });

  it('bodies are the JSON Schemas of the zod schemas the handlers validate with', () => {
    const document = openApiDocument() as { components: { schemas: Record<string, unknown> } };
    const sendJob = JSON.parse(readFileSync('schema/send-job.schema.json', 'utf8')) as Record<
      string,
      unknown
    >;
    const { $id: _id, title: _title, $schema: _dialect, ...sendJobSchema } = sendJob;
    expect(document.components.schemas.SendJob).toEqual(sendJobSchema);
  });
});
