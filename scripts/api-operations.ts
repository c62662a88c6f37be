import type * as z from 'zod/mini';
import { MAX_PAGE_TOKEN_LENGTH } from '../lambda/adapters/primary/get-notification/page-token';
import { receiptBody } from '../lambda/adapters/primary/record-receipt/schema';
import { registerDeviceBody } from '../lambda/adapters/primary/register-device/schema';
import {
  registerActivityTokenBody,
  registerPushToStartBody,
} from '../lambda/adapters/primary/register-push-to-start-token/schema';
import {
  MAX_JOBS_PER_BATCH,
  notificationBatchBody,
} from '../lambda/adapters/primary/send-notification-batch/schema';
import { sendJobSchema } from '../lambda/domain/send-job';
import { BODY_ERRORS, CALLER_ERRORS, type ErrorCode, EVERY_ROUTE_ERRORS } from './api-error-codes';
import { schemaRef } from './api-responses';

/**
 * What the OpenAPI description says about each route beyond what infra/api-routes.ts
 * already knows (method, path, auth): its words, body, success answer and the error
 * codes it can answer. Keyed by `METHOD path`; openApiDocument() refuses a deployed
 * route without an entry here, and an entry no route deploys.
 */
export interface OperationDoc {
  summary: string;
  description: string;
  /**
   * Query parameters the route reads: exactly the names the handlers accept for it
   * (QUERY_PARAMETERS in lambda/adapters/primary/http/request.ts); any other is refused.
   */
  query?: readonly { name: string; description: string; schema: Record<string, unknown> }[];
  /** The request body, validated by this zod schema (published under components/schemas). */
  body?: { schemaName: keyof typeof BODY_SCHEMAS };
  /** The success answers (most routes have one). */
  success: readonly { status: number; description: string; schema?: Record<string, unknown> }[];
  /** Codes of `{"error":{"code","message"}}` answers this route gives, besides InternalError. */
  errors: readonly ErrorCode[];
}

/** The zod schemas request bodies are validated with; their JSON Schemas go under components/schemas. */
export const BODY_SCHEMAS = {
  DeviceRegistration: registerDeviceBody,
  SendJob: sendJobSchema,
  NotificationBatch: notificationBatchBody,
  Receipt: receiptBody,
  PushToStartRegistration: registerPushToStartBody,
  ActivityTokenRegistration: registerActivityTokenBody,
} satisfies Record<string, z.ZodMiniType>;
// The catalogue and the response bodies live in their own modules; importers of this one keep working.

/** Path parameters by name, as every route spells them. */
export const PATH_PARAMETERS: Record<string, { description: string; schema: Record<string, unknown> }> = {
  token: {
    description:
      'The APNs device token as hex (16–200 bytes; any case, or the `<ab12 cd34 …>` form). Percent-encode it once.',
    schema: { type: 'string', minLength: 1 },
  },
  userId: {
    description:
      'A user id: 1–256 printable ASCII characters, no spaces, `/`, `?` or `#`. Percent-encode it once.',
    schema: { type: 'string', minLength: 1, maxLength: 256, pattern: '^[\\x21-\\x7e]+$' },
  },
  activityId: {
    description:
      'The backend’s own id for an activity: 1–128 URL-safe characters (letters, digits, `. _ ~ -`).',
    schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$' },
  },
  id: {
    description: 'A notification id: 1–128 characters, letters, digits and `. _ : -`.',
    schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$' },
  },
};
/** Every code a route can answer: its entry's and EVERY_ROUTE_ERRORS. */
export function routeErrors(key: string): ErrorCode[] {
  return [...new Set<ErrorCode>([...(OPERATIONS[key]?.errors ?? []), ...EVERY_ROUTE_ERRORS])];
}
export const OPERATIONS: Record<string, OperationDoc> = {
  'PUT /v1/devices/{token}': {
    summary: 'Register the caller’s device token',
    description:
      'Registers the token for the signed-in user (the JWT’s `sub`). A token another user held moves to the caller in one atomic write. Registering again refreshes `lastSeenAt`; a device not refreshed for 180 days expires.',
    body: { schemaName: 'DeviceRegistration' },
    success: [
      {
        status: 201,
        description: 'The token is new to the caller (unknown, or moved from another user).',
        schema: schemaRef('Device'),
      },
      {
        status: 200,
        description: 'The caller already held the token: refreshed.',
        schema: schemaRef('Device'),
      },
    ],
    errors: [
      ...CALLER_ERRORS,
      'InvalidDeviceToken',
      ...BODY_ERRORS,
      'UnknownApp',
      'EnvironmentNotForAndroid',
      'FcmNotConfigured',
      'RegistrationConflict',
    ],
  },
  'DELETE /v1/devices/{token}': {
    summary: 'Unregister one of the caller’s devices',
    description:
      'Removes the token if it belongs to the caller. Another user’s or an unknown token answers 404 alike.',
    success: [{ status: 204, description: 'Removed.' }],
    errors: [...CALLER_ERRORS, 'InvalidDeviceToken', 'DeviceNotFound', 'RegistrationConflict'],
  },
  'GET /v1/devices': {
    summary: 'List the caller’s devices',
    description: 'Every device registered to the signed-in user, for every app.',
    success: [{ status: 200, description: 'The caller’s devices.', schema: schemaRef('DeviceList') }],
    errors: [...CALLER_ERRORS],
  },
  'GET /v1/users/{userId}/devices': {
    summary: 'List a user’s devices',
    description: 'For backends and support: every device registered to the user.',
    success: [
      {
        status: 200,
        description: 'The user’s devices (empty for an unknown user).',
        schema: schemaRef('DeviceList'),
      },
    ],
    errors: ['InvalidRequest'],
  },
  'DELETE /v1/users/{userId}/devices': {
    summary: 'Erase a user’s devices',
    description: 'Logs the user out everywhere: removes every device registered to them. Idempotent.',
    success: [{ status: 204, description: 'Erased (also when there was nothing to erase).' }],
    errors: ['InvalidRequest', 'RegistrationConflict'],
  },
  'PUT /v1/live-activities/push-to-start/{token}': {
    summary: 'Register the caller’s push-to-start token',
    description:
      'Registers a Live Activity push-to-start token (`Activity<T>.pushToStartTokenUpdates`) for the signed-in user and one `ActivityAttributes` type. Same ownership rules as device tokens: one owner, a move is one atomic write.',
    body: { schemaName: 'PushToStartRegistration' },
    success: [
      { status: 201, description: 'The token is new to the caller.', schema: schemaRef('LiveActivityToken') },
      {
        status: 200,
        description: 'The caller already held the token: refreshed.',
        schema: schemaRef('LiveActivityToken'),
      },
    ],
    errors: [...CALLER_ERRORS, 'InvalidDeviceToken', ...BODY_ERRORS, 'UnknownApp'],
  },
  'DELETE /v1/live-activities/push-to-start/{token}': {
    summary: 'Unregister one of the caller’s push-to-start tokens',
    description:
      'Removes the token if it belongs to the caller; another user’s or an unknown token answers 404 alike.',
    success: [{ status: 204, description: 'Removed.' }],
    errors: [...CALLER_ERRORS, 'InvalidDeviceToken', 'LiveActivityTokenNotFound'],
  },
  'PUT /v1/live-activities/{activityId}/tokens/{token}': {
    summary: 'Register the update token of one of the caller’s activities',
    description:
      'Registers the token `activity.pushTokenUpdates` reported for the caller’s activity that the backend calls `activityId`. Activities are per user: another user’s activity with the same id is a different activity, and neither can reach, block or read the other. Sends address it as `{userId, activityId}`.',
    body: { schemaName: 'ActivityTokenRegistration' },
    success: [
      { status: 201, description: 'The token is new to the caller.', schema: schemaRef('LiveActivityToken') },
      {
        status: 200,
        description: 'The caller already held the token: refreshed.',
        schema: schemaRef('LiveActivityToken'),
      },
    ],
    errors: [...CALLER_ERRORS, 'InvalidActivityId', 'InvalidDeviceToken', ...BODY_ERRORS, 'UnknownApp'],
  },
  'DELETE /v1/live-activities/{activityId}/tokens/{token}': {
    summary: 'Unregister an update token of one of the caller’s activities',
    description:
      'Removes the token if it belongs to the caller; another user’s or an unknown token answers 404 alike.',
    success: [{ status: 204, description: 'Removed.' }],
    errors: [...CALLER_ERRORS, 'InvalidActivityId', 'InvalidDeviceToken', 'LiveActivityTokenNotFound'],
  },
  'POST /v1/notifications': {
    summary: 'Send a notification to users or tokens',
    description:
      'Validates the job, takes its notification id (the idempotency key, kept 7 days) and puts it on the send queue; delivery happens asynchronously. Repeating a job unchanged answers 202 with the first answer and sends nothing. The same JSON may be published straight to the send queue.',
    body: { schemaName: 'SendJob' },
    success: [{ status: 202, description: 'Accepted and queued.', schema: schemaRef('SendRequestAnswer') }],
    errors: [
      ...BODY_ERRORS,
      'InvalidDeviceToken',
      'UnknownApp',
      'InvalidLiveActivity',
      'ActivityOwnerRequired',
      'UnsupportedPushType',
      'MissingLiveActivityKey',
      'InvalidAndroidConfig',
      'ReservedDataKey',
      'NotificationIdConflict',
      'PayloadTooLarge',
    ],
  },
  'POST /v1/notification-batches': {
    summary: 'Send many notifications at once, each on its own',
    description: `Up to ${MAX_JOBS_PER_BATCH} send jobs — one per chat message, say — in one call, under the same body limit as \`POST /v1/notifications\`. Each job is validated, made idempotent by its notification id and enqueued on its own, exactly as \`POST /v1/notifications\` would: the answer has one result per job, in request order — \`202\`, or the 4xx (with its error) that job alone would have got — so one bad job never sinks the others. An id named twice in one batch is taken once: the second naming gets the first one's result when it is the same job, and \`409 NotificationIdConflict\` when it is not. A body that is not a batch (bad JSON, too large, no list, more than ${MAX_JOBS_PER_BATCH} jobs) is refused as a whole, and nothing of it is stored.`,
    body: { schemaName: 'NotificationBatch' },
    success: [
      {
        status: 200,
        description: 'One result per job, in request order.',
        schema: schemaRef('NotificationBatchResults'),
      },
    ],
    errors: [...BODY_ERRORS],
  },
  'GET /v1/notifications/{id}': {
    summary: 'A notification’s delivery report',
    description:
      'Every accepted notification has one: who it named, devices per status and per reason, and — when nobody could be reached — a `reason` in words. A job sent with `track.receipts` also lists each recipient device’s status; an untracked one answers `tracked: false` with totals only and no devices.',
    query: [
      {
        name: 'limit',
        description: 'Devices per page, 1–1000 (default 1000). `counts` always cover every device.',
        schema: { type: 'integer', minimum: 1, maximum: 1000, default: 1000 },
      },
      {
        name: 'nextToken',
        description: 'The `nextToken` of the previous page, unchanged (opaque).',
        schema: { type: 'string', maxLength: MAX_PAGE_TOKEN_LENGTH },
      },
    ],
    success: [
      { status: 200, description: 'One page of the report.', schema: schemaRef('NotificationReport') },
    ],
    errors: ['InvalidRequest', 'InvalidLimit', 'InvalidNextToken', 'NotificationNotFound'],
  },
  'POST /v1/notifications/{id}/receipts': {
    summary: 'Acknowledge a notification on one of the caller’s devices',
    description:
      'The app reports `received` (shown or handled) or `opened` (tapped). Only for notifications sent with `track.receipts`, from a recipient device of the caller; statuses only move forward. An acknowledged device gets no re-push.',
    body: { schemaName: 'Receipt' },
    success: [{ status: 204, description: 'Recorded.' }],
    errors: [...CALLER_ERRORS, 'InvalidRequest', ...BODY_ERRORS, 'InvalidDeviceToken', 'ReceiptNotFound'],
  },
};
