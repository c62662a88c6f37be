/**
 * The HTTP API's routes: one Lambda per route. Plain data shared by the CDK stack
 * (which deploys them) and the offline runtime (which imports the same handler
 * modules), so the two cannot drift.
 */
export type RouteAuth = 'jwt' | 'iam';

export interface ApiRoute {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** API Gateway route path, with {parameters}. */
  path: string;
  auth: RouteAuth;
  /** The function's logical name (CDK id) and the handler's folder under lambda/adapters/primary. */
  name: string;
}

export const API_ROUTES: readonly ApiRoute[] = [
  { method: 'PUT', path: '/v1/devices/{token}', auth: 'jwt', name: 'register-device' },
  { method: 'DELETE', path: '/v1/devices/{token}', auth: 'jwt', name: 'unregister-device' },
  { method: 'GET', path: '/v1/devices', auth: 'jwt', name: 'list-my-devices' },
  { method: 'GET', path: '/v1/users/{userId}/devices', auth: 'iam', name: 'list-user-devices' },
  { method: 'DELETE', path: '/v1/users/{userId}/devices', auth: 'iam', name: 'erase-user-devices' },
];

export function handlerEntry(name: string): string {
  return `lambda/adapters/primary/${name}/handler.ts`;
}
