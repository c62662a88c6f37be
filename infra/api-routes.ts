import type { DevicesAccess, FunctionAccess } from './function-access';

/**
 * The HTTP API's routes: one Lambda per route. Plain data shared by the CDK stack
 * (which deploys them and grants each function its access) and the offline runtime
 * (which imports the same handler modules and holds each invocation to the same
 * grants), so the two cannot drift.
 */
export type RouteAuth = 'jwt' | 'iam';

export interface ApiRoute extends FunctionAccess {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** API Gateway route path, with {parameters}. */
  path: string;
  auth: RouteAuth;
  /** The function's logical name (CDK id) and the handler's folder under lambda/adapters/primary. */
  name: string;
  /**
   * The only DynamoDB actions the function may take on the Devices table, on its
   * `byUser` index and on its `byLiveActivity` index (stated for every route, if only as `{}`).
   */
  devices: DevicesAccess;
}

export const API_ROUTES: readonly ApiRoute[] = [
  {
    method: 'PUT',
    path: '/v1/devices/{token}',
    auth: 'jwt',
    name: 'register-device',
    // GetItem: the token's record and the user's device set, read before the writes;
    // PutItem the record; UpdateItem the sets (devices-table.ts saveDevice).
    devices: { table: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem'] },
  },
  {
    method: 'DELETE',
    path: '/v1/devices/{token}',
    auth: 'jwt',
    name: 'unregister-device',
    // UpdateItem: the device leaves the user's set; DeleteItem: then its record;
    // GetItem: a record of the caller's outside the set is read before it is deleted.
    devices: { table: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem'] },
  },
  {
    method: 'GET',
    path: '/v1/devices',
    auth: 'jwt',
    name: 'list-my-devices',
    // GetItem: the user's device set; BatchGetItem: the records of its devices.
    devices: { table: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'] },
  },
  {
    method: 'GET',
    path: '/v1/users/{userId}/devices',
    auth: 'iam',
    name: 'list-user-devices',
    // GetItem: the user's device set; BatchGetItem: the records of its devices.
    devices: { table: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'] },
  },
  {
    method: 'DELETE',
    path: '/v1/users/{userId}/devices',
    auth: 'iam',
    name: 'erase-user-devices',
    // GetItem + UpdateItem: the user's device set is read, then emptied (and the device
    // generation moved on) in one write; Query + DeleteItem: the records the index lists.
    devices: {
      table: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      userIndex: ['dynamodb:Query'],
    },
  },
  {
    method: 'PUT',
    path: '/v1/live-activities/push-to-start/{token}',
    auth: 'jwt',
    name: 'register-push-to-start-token',
    // GetItem: the user's device generation, read before the write.
    devices: { table: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem'] },
  },
  {
    method: 'DELETE',
    path: '/v1/live-activities/push-to-start/{token}',
    auth: 'jwt',
    name: 'unregister-push-to-start-token',
    devices: { table: ['dynamodb:DeleteItem'] },
  },
  {
    method: 'PUT',
    path: '/v1/live-activities/{activityId}/tokens/{token}',
    auth: 'jwt',
    name: 'register-activity-token',
    // GetItem: the user's device generation, read before the write.
    devices: { table: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem'] },
  },
  {
    method: 'DELETE',
    path: '/v1/live-activities/{activityId}/tokens/{token}',
    auth: 'jwt',
    name: 'unregister-activity-token',
    devices: { table: ['dynamodb:DeleteItem'] },
  },
  {
    method: 'POST',
    path: '/v1/notifications',
    auth: 'iam',
    name: 'send-notification',
    devices: {},
    notifications: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
    sendQueue: ['sqs:SendMessage'],
  },
  {
    method: 'POST',
    path: '/v1/notification-batches',
    auth: 'iam',
    name: 'send-notification-batch',
    devices: {},
    // The same as one send, for each job of the batch.
    notifications: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
    sendQueue: ['sqs:SendMessage'],
  },
  {
    method: 'GET',
    path: '/v1/notifications/{id}',
    auth: 'iam',
    name: 'get-notification',
    devices: {},
    notifications: ['dynamodb:Query', 'dynamodb:GetItem'],
  },
  {
    method: 'POST',
    path: '/v1/notifications/{id}/receipts',
    auth: 'jwt',
    name: 'record-receipt',
    // BatchGetItem: the caller's device set, read consistently (record-receipt.ts).
    devices: { table: ['dynamodb:BatchGetItem'] },
    notifications: ['dynamodb:UpdateItem', 'dynamodb:GetItem'],
  },
];

/**
 * A route's handler module, relative to the pushgate folder: offline mode imports it
 * from there, and the stack resolves it against the folder itself (infra/bundling.ts),
 * never against the current directory.
 */
export function handlerEntry(name: string): string {
  return `lambda/adapters/primary/${name}/handler.ts`;
}
