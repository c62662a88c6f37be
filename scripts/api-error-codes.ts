/**
 * The API's error catalogue: every code the Lambdas answer with, its HTTP status and
 * when it happens, and the groups of codes many routes share. A code is added or
 * reworded here alone; the OpenAPI description (scripts/openapi.ts), the route entries
 * (api-operations.ts) and the tests that send each bad request read it from here.
 */

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

/** Codes every route answers, whatever its entry lists: the shared request handling's. */
export const EVERY_ROUTE_ERRORS = [
  'UnknownQueryParameter',
  'InternalError',
] as const satisfies readonly ErrorCode[];

/** What every route that reads a body can answer about it. */
export const BODY_ERRORS = [
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

/** What every route that reads the caller from a JWT can answer about it. */
export const CALLER_ERRORS = ['Unauthorized', 'InvalidSubject'] as const satisfies readonly ErrorCode[];
