/**
 * FCM HTTP v1's rules for one `messages:send` body and the shape of its refusals:
 * the JSON and its `message` (known fields, a token of FCM's form, string maps, the
 * Android priority and TTL, the 4 096-byte limit), and Google's error body
 * (google.rpc.Status, `details` holding a `type.googleapis.com/google.firebase.fcm.v1.FcmError`
 * errorCode and a field violation). Pure functions, so they change only when Google's
 * rules or error shapes do; the simulator applies them with authentication and the
 * fault script between.
 */

export interface Rejection {
  status: number;
  errorCode?: string;
  message: string;
  fieldViolation?: string;
  retryAfter?: number;
}

const FCM_TOKEN = /^[A-Za-z0-9_:.-]{1,4096}$/;
const PAYLOAD_LIMIT = 4096;
const FCM_ERROR_TYPE = 'type.googleapis.com/google.firebase.fcm.v1.FcmError';
const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};
const DEFAULT_MESSAGES: Record<string, string> = {
  UNREGISTERED: 'Requested entity was not found.',
  SENDER_ID_MISMATCH: 'SenderId mismatch',
  QUOTA_EXCEEDED: 'Quota exceeded for quota metric.',
  UNAVAILABLE: 'The service is currently unavailable.',
  INTERNAL: 'Internal error encountered.',
  INVALID_ARGUMENT: 'Request contains an invalid argument.',
  THIRD_PARTY_AUTH_ERROR: 'Auth error from APNS or Web Push Service',
};
const MESSAGE_FIELDS = new Set([
  'token',
  'name',
  'data',
  'notification',
  'android',
  'apns',
  'webpush',
  'fcm_options',
  'fcmOptions',
]);

/** The request's `message` and the token it names, or why FCM cannot read one. */
export function readMessage(body: Buffer): Rejection | { message: Record<string, unknown>; token: string } {
  let request: unknown;
  try {
    request = JSON.parse(body.toString('utf8'));
  } catch {
    return { status: 400, errorCode: 'INVALID_ARGUMENT', message: 'Invalid JSON payload received.' };
  }
  const message =
    typeof request === 'object' && request !== null ? Reflect.get(request, 'message') : undefined;
  if (typeof message !== 'object' || message === null || Array.isArray(message))
    return {
      status: 400,
      errorCode: 'INVALID_ARGUMENT',
      message: 'Invalid JSON payload received. "message" is required.',
    };
  const fields = message as Record<string, unknown>;
  const unknown = Object.keys(fields).find((key) => !MESSAGE_FIELDS.has(key));
  if (unknown !== undefined)
    return {
      status: 400,
      errorCode: 'INVALID_ARGUMENT',
      message: `Invalid JSON payload received. Unknown name "${unknown}" at 'message': Cannot find field.`,
    };
  const token = fields.token;
  if (typeof token !== 'string' || token === '')
    return {
      status: 400,
      errorCode: 'INVALID_ARGUMENT',
      message: 'Recipient of the message is not set.',
      fieldViolation: 'message.token',
    };
  return { message: fields, token };
}

/** A scripted per-token answer as FCM would word it (a default sentence per errorCode). */
export function scriptedRejection(scripted: {
  status: number;
  errorCode?: string;
  message?: string;
  retryAfter?: number;
}): Rejection {
  return {
    status: scripted.status,
    ...(scripted.errorCode === undefined ? {} : { errorCode: scripted.errorCode }),
    message: scripted.message ?? DEFAULT_MESSAGES[scripted.errorCode ?? ''] ?? 'Error.',
    ...(scripted.retryAfter === undefined ? {} : { retryAfter: scripted.retryAfter }),
  };
}

/** The token's form, then the message's content and size. */
export function sendProblem(message: Record<string, unknown>, token: string): Rejection | undefined {
  if (!FCM_TOKEN.test(token))
    return {
      status: 400,
      errorCode: 'INVALID_ARGUMENT',
      message: 'The registration token is not a valid FCM registration token',
      fieldViolation: 'message.token',
    };
  const problem = messageProblem(message);
  if (problem !== undefined) return { status: 400, errorCode: 'INVALID_ARGUMENT', message: problem };
  const { token: _token, ...payload } = message;
  if (Buffer.byteLength(JSON.stringify(payload)) > PAYLOAD_LIMIT)
    return { status: 400, errorCode: 'INVALID_ARGUMENT', message: 'Message is too big' };
  return undefined;
}

/** The checks FCM applies to the message itself (the ones pushgate could get wrong). */
function messageProblem(message: Record<string, unknown>): string | undefined {
  const stringMap = (value: unknown, where: string) => {
    if (value === undefined) return undefined;
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return `Invalid value at '${where}'`;
    for (const [key, member] of Object.entries(value)) {
      if (typeof member !== 'string') return `Invalid value at '${where}[${key}]' (TYPE_STRING)`;
    }
    return undefined;
  };
  const data = stringMap(message.data, 'message.data');
  if (data !== undefined) return data;
  const android = message.android;
  if (android === undefined) return undefined;
  if (typeof android !== 'object' || android === null) return "Invalid value at 'message.android'";
  const config = android as Record<string, unknown>;
  if (config.priority !== undefined && config.priority !== 'NORMAL' && config.priority !== 'HIGH')
    return `Invalid value at 'message.android.priority' (type.googleapis.com/google.firebase.fcm.v1.AndroidMessagePriority), "${String(config.priority)}"`;
  if (config.ttl !== undefined && (typeof config.ttl !== 'string' || !/^\d+(\.\d{1,9})?s$/.test(config.ttl)))
    return "Invalid value at 'message.android.ttl' (type.googleapis.com/google.protobuf.Duration)";
  return stringMap(config.data, 'message.android.data');
}

/** Google's error body for a refusal (google.rpc.Status). */
export function errorBody(rejection: Rejection) {
  const status =
    STATUS_NAMES[rejection.status] ?? (rejection.status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION');
  const details: unknown[] = [];
  if (rejection.errorCode !== undefined)
    details.push({ '@type': FCM_ERROR_TYPE, errorCode: rejection.errorCode });
  if (rejection.fieldViolation !== undefined) {
    details.push({
      '@type': 'type.googleapis.com/google.rpc.BadRequest',
      fieldViolations: [{ field: rejection.fieldViolation, description: rejection.message }],
    });
  }
  return {
    error: {
      code: rejection.status,
      message: rejection.message,
      status,
      ...(details.length > 0 ? { details } : {}),
    },
  };
}
