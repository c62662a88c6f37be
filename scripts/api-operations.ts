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
import { PLATFORMS } from '../lambda/domain/platform';
import { sendJobSchema } from '../lambda/domain/send-job';
import { DELIVERY_STATUSES } from '../lambda/domain/tracking';

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

/** Every error code the Lambdas answer with, its status and when it happens. */
export const ERROR_CODES = {
  MissingBody: [400, 'The request has no body.'],
  InvalidEncoding: [400, 'The body is not UTF-8 text.'],
  MalformedJson: [400, 'The body is not JSON.'],
  DuplicateKey: [
    400,
    'An object of the body names a key twice (also when spelled differently, like `"a"` and `"\\u0061"`); the message names it.',
  ],
  NestingTooDeep: [400, 'Objects and arrays nest more than 32 levels deep.'],
  InvalidUnicode: [
    400,
    'A string or key holds a lone surrogate (an unpaired `\\ud800`–`\\udfff`), which is not Unicode text; the message names where.',
  ],
  UnknownField: [400, 'A field the schema does not know; the message names it. Nothing is ignored.'],
  InvalidRequest: [400, 'A field or path parameter breaks its rule; the message names it.'],
  InvalidDeviceToken: [
    400,
    'A device token that is not 16–200 bytes of hex (upper case and the `<ab12 cd34>` form are accepted), or for an Android device not an FCM registration token; the message says how to fix it.',
  ],
  UnknownApp: [400, 'An app id this deployment is not configured with.'],
  EnvironmentNotForAndroid: [
    400,
    'An Android registration names an APNs environment; Android devices have none.',
  ],
  FcmNotConfigured: [400, 'An Android registration for an app this deployment has no FCM project for.'],
  InvalidActivityId: [
    400,
    'An activity id that is not 1–128 URL-safe characters (letters, digits, `. _ ~ -`).',
  ],
  InvalidLiveActivity: [400, 'A Live Activity job addressed the wrong way (e.g. `start` to activities).'],
  ActivityOwnerRequired: [
    400,
    '`to.activityIds` (activity ids alone) is refused: name each activity with its user, `to.activities: [{userId, activityId}]`.',
  ],
  UnsupportedPushType: [
    400,
    'A push type other than alert, background or liveactivity: those need tokens pushgate does not register (PushKit, location, widgets, controls).',
  ],
  InvalidAndroidConfig: [
    400,
    'The job’s `android` object is not FCM’s AndroidConfig as Google spells it; the message names the field.',
  ],
  ReservedDataKey: [
    400,
    'For an app with FCM: a `data` key FCM reserves (`from`, `notification`, `message_type`, `google…`, `gcm…`).',
  ],
  MissingLiveActivityKey: [
    400,
    'A Live Activity job lacks an `aps` key its event requires; the message names it.',
  ],
  Unauthorized: [401, 'The verified token carries no `sub` claim.'],
  InvalidSubject: [403, 'The token’s `sub` is not a string, or breaks the user id rules.'],
  DeviceNotFound: [
    404,
    'No device with this token is registered to the caller (someone else’s token answers the same).',
  ],
  ReceiptNotFound: [
    404,
    'The notification is not tracked, or this token is not one of the caller’s recipient devices of it.',
  ],
  LiveActivityTokenNotFound: [
    404,
    'No Live Activity token like this is registered to the caller (someone else’s answers the same).',
  ],
  InvalidLimit: [400, '`limit` is not a whole number from 1 to 1000.'],
  InvalidNextToken: [400, '`nextToken` is not one this API gave out.'],
  UnknownQueryParameter: [400, 'A query parameter the route does not read (every route refuses them).'],
  NotificationNotFound: [404, 'No notification with this id is known (tracking data expires after 30 days).'],
  NotificationIdConflict: [
    409,
    'The notification id is taken by a different job (other recipients, content or options).',
  ],
  RegistrationConflict: [
    409,
    'Other registrations of the same token (or of the user’s devices) kept changing it for seconds — or, for an erase, kept changing the user’s devices so that nothing could be erased. The answer carries `Retry-After`; make the same call again. Until then a registered token may be in no one’s set (it gets no pushes), never in two.',
  ],
  RequestTooLarge: [413, 'The request body is larger than this route reads.'],
  PayloadTooLarge: [
    413,
    'The APNs payload the job compiles to exceeds 4096 bytes (5120 for VoIP), or, for an app with FCM, the FCM message exceeds 4096 bytes.',
  ],
  UnsupportedMediaType: [415, 'The body is not sent with `Content-Type: application/json`.'],
  InternalError: [500, 'Our fault; the body holds no internals. Safe to retry.'],
} as const satisfies Record<string, readonly [number, string]>;
export type ErrorCode = keyof typeof ERROR_CODES;

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

/** Codes every route answers, whatever its entry lists: the shared request handling's. */
export const EVERY_ROUTE_ERRORS = [
  'UnknownQueryParameter',
  'InternalError',
] as const satisfies readonly ErrorCode[];

/** Every code a route can answer: its entry's and EVERY_ROUTE_ERRORS. */
export function routeErrors(key: string): ErrorCode[] {
  return [...new Set<ErrorCode>([...(OPERATIONS[key]?.errors ?? []), ...EVERY_ROUTE_ERRORS])];
}

const BODY_ERRORS = [
  'MissingBody',
  'InvalidEncoding',
  'MalformedJson',
  'DuplicateKey',
  'NestingTooDeep',
  'InvalidUnicode',
  'UnknownField',
  'InvalidRequest',
  'RequestTooLarge',
  'UnsupportedMediaType',
] as const satisfies readonly ErrorCode[];
const CALLER_ERRORS = ['Unauthorized', 'InvalidSubject'] as const satisfies readonly ErrorCode[];

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

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
        schema: ref('Device'),
      },
      { status: 200, description: 'The caller already held the token: refreshed.', schema: ref('Device') },
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
    success: [{ status: 200, description: 'The caller’s devices.', schema: ref('DeviceList') }],
    errors: [...CALLER_ERRORS],
  },
  'GET /v1/users/{userId}/devices': {
    summary: 'List a user’s devices',
    description: 'For backends and support: every device registered to the user.',
    success: [
      {
        status: 200,
        description: 'The user’s devices (empty for an unknown user).',
        schema: ref('DeviceList'),
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
      { status: 201, description: 'The token is new to the caller.', schema: ref('LiveActivityToken') },
      {
        status: 200,
        description: 'The caller already held the token: refreshed.',
        schema: ref('LiveActivityToken'),
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
      { status: 201, description: 'The token is new to the caller.', schema: ref('LiveActivityToken') },
      {
        status: 200,
        description: 'The caller already held the token: refreshed.',
        schema: ref('LiveActivityToken'),
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
    success: [{ status: 202, description: 'Accepted and queued.', schema: ref('SendRequestAnswer') }],
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
        schema: ref('NotificationBatchResults'),
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
    success: [{ status: 200, description: 'One page of the report.', schema: ref('NotificationReport') }],
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

/** Response bodies (written here: the handlers build them from domain types, not from zod). */
export const RESPONSE_SCHEMAS: Record<string, Record<string, unknown>> = {
  NotificationBatchResults: {
    type: 'object',
    properties: {
      results: {
        type: 'array',
        description: 'One per job of the request, in its order.',
        items: {
          type: 'object',
          properties: {
            notificationId: {
              type: 'string',
              description:
                'The job’s id (assigned when it named none); absent for a refused job that named none.',
            },
            status: {
              type: 'integer',
              description:
                '202 accepted and queued (or a repeat of an accepted job), else the 4xx of the refusal.',
            },
            error: {
              type: 'object',
              description:
                'Why the job was refused: the code and message `POST /v1/notifications` would answer.',
              properties: { code: { type: 'string' }, message: { type: 'string' } },
              required: ['code', 'message'],
            },
          },
          required: ['status'],
        },
      },
    },
    required: ['results'],
  },
  Device: {
    type: 'object',
    properties: {
      token: {
        type: 'string',
        description: 'Lowercase hex (iOS); the FCM registration token as sent (Android).',
      },
      userId: { type: 'string' },
      appId: { type: 'string' },
      platform: { type: 'string', enum: [...PLATFORMS] },
      environment: { type: 'string', enum: ['sandbox', 'production'], description: 'iOS devices only.' },
      locale: { type: 'string' },
      appVersion: { type: 'string' },
      registeredAt: {
        type: 'string',
        format: 'date-time',
        description: 'When this user registered this token.',
      },
      lastSeenAt: { type: 'string', format: 'date-time', description: 'The last registration or refresh.' },
      expiresAt: {
        type: 'string',
        format: 'date-time',
        description: 'When the device expires unless refreshed.',
      },
    },
    required: ['token', 'userId', 'appId', 'platform', 'registeredAt', 'lastSeenAt', 'expiresAt'],
    additionalProperties: false,
  },
  LiveActivityToken: {
    type: 'object',
    properties: {
      token: { type: 'string', description: 'Lowercase hex.' },
      kind: { type: 'string', enum: ['push-to-start', 'update'] },
      userId: { type: 'string' },
      appId: { type: 'string' },
      environment: { type: 'string', enum: ['sandbox', 'production'] },
      attributesType: { type: 'string', description: 'Push-to-start tokens: the ActivityAttributes type.' },
      activityId: { type: 'string', description: 'Update tokens: the activity.' },
      registeredAt: { type: 'string', format: 'date-time' },
      lastSeenAt: { type: 'string', format: 'date-time' },
      expiresAt: { type: 'string', format: 'date-time' },
    },
    required: ['kind', 'token', 'userId', 'appId', 'environment', 'registeredAt', 'lastSeenAt', 'expiresAt'],
    additionalProperties: false,
  },
  DeviceList: {
    type: 'object',
    properties: { devices: { type: 'array', items: ref('Device') } },
    required: ['devices'],
    additionalProperties: false,
  },
  SendRequestAnswer: {
    type: 'object',
    properties: {
      notificationId: { type: 'string' },
      recipients: {
        description: 'How many users, tokens or activities the request names, each counted once.',
        oneOf: [
          {
            type: 'object',
            properties: { users: { type: 'integer' } },
            required: ['users'],
            additionalProperties: false,
          },
          {
            type: 'object',
            properties: { tokens: { type: 'integer' } },
            required: ['tokens'],
            additionalProperties: false,
          },
          {
            type: 'object',
            properties: { activities: { type: 'integer' } },
            required: ['activities'],
            additionalProperties: false,
          },
        ],
      },
      jobs: { type: 'integer', description: 'How many jobs the request was split into on the send queue.' },
      tracked: {
        type: 'boolean',
        description: 'Whether the job was sent with `track.receipts` (per-device statuses and receipts).',
      },
    },
    required: ['notificationId', 'recipients', 'jobs', 'tracked'],
    additionalProperties: false,
  },
  DeviceDelivery: {
    type: 'object',
    properties: {
      token: { type: 'string' },
      userId: { type: 'string' },
      status: { type: 'string', enum: [...DELIVERY_STATUSES] },
      apnsId: { type: 'string', description: 'The `apns-id` APNs accepted the push under.' },
      acceptedAt: { type: 'string', format: 'date-time' },
      receivedAt: { type: 'string', format: 'date-time' },
      openedAt: { type: 'string', format: 'date-time' },
      reason: {
        type: 'string',
        description: 'Why the device was pruned or failed (an APNs reason or ours).',
      },
      repushes: { type: 'integer', description: 'Re-push rounds sent to this device.' },
      updatedAt: { type: 'string', format: 'date-time' },
    },
    required: ['token', 'userId', 'status', 'updatedAt'],
  },
  NotificationReport: {
    type: 'object',
    properties: {
      notificationId: { type: 'string' },
      tracked: { type: 'boolean', description: 'Whether the job was sent with `track.receipts`.' },
      recipients: {
        type: 'object',
        description:
          'The send answer’s `recipients` (users, tokens or activities named); for users also how many had no device of the app to push to.',
        properties: {
          users: { type: 'integer' },
          usersWithoutDevices: { type: 'integer' },
          tokens: { type: 'integer' },
          activities: { type: 'integer' },
        },
      },
      jobs: { type: 'integer', description: 'The send answer’s `jobs`: parts on the send queue.' },
      reasons: {
        type: 'object',
        description:
          'Devices per `outcome:reason` (e.g. `pruned:Unregistered`, `unregistered:NotRegistered`, `retried:TooManyRequests`), largest first.',
        additionalProperties: { type: 'integer' },
      },
      reason: {
        type: 'string',
        description:
          'Present when nobody was, or will be, reached: why, in a sentence (no device registered, every device refused, the job dead-lettered).',
      },
      deadLettered: {
        type: 'array',
        description: 'Parts of the job the sender moved to the dead-letter queue, with the reason.',
        items: {
          type: 'object',
          properties: {
            part: { type: 'string' },
            attempt: { type: 'integer' },
            reason: { type: 'string' },
            detail: { type: 'string' },
            at: { type: 'string', format: 'date-time' },
          },
          required: ['part', 'attempt', 'reason', 'detail', 'at'],
        },
      },
      counts: {
        type: 'object',
        description:
          'Recipient devices in total and per status (every status present, zeros included): per device for a tracked job, from each chunk’s totals for an untracked one.',
        properties: Object.fromEntries(
          ['devices', ...DELIVERY_STATUSES].map((name) => [name, { type: 'integer' }]),
        ),
        required: ['devices', ...DELIVERY_STATUSES],
      },
      devices: { type: 'array', items: ref('DeviceDelivery'), description: 'One page of devices.' },
      nextToken: {
        type: 'string',
        description: 'Present when more devices follow: pass it to get the next page.',
      },
      progress: {
        type: 'object',
        description:
          'Whether every part of the request has had its recipients resolved and sent: a stuck or lost part shows here.',
        properties: {
          parts: { type: 'integer', description: 'Parts the request was split into (when known).' },
          partsDone: { type: 'integer' },
          chunksInProgress: {
            type: 'integer',
            description: 'Chunks claimed by a sender and not yet finished.',
          },
          complete: { type: 'boolean' },
        },
        required: ['partsDone', 'chunksInProgress'],
      },
    },
    required: ['notificationId', 'tracked', 'counts', 'reasons', 'devices'],
  },
};
