/**
 * The one error hierarchy of pushgate. Every error a caller can fix carries a 4xx
 * status and a stable PascalCase code; the HTTP error middleware is the only place
 * that turns these into responses. Anything that is not a PushgateError is our own
 * fault and becomes a generic 500.
 */
export class PushgateError extends Error {
  /** Seconds the caller should wait before trying again (the `Retry-After` header), when it should. */
  readonly retryAfterSeconds?: number;

  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = code;
  }
}

export class InvalidRequestError extends PushgateError {
  constructor(message: string, code = 'InvalidRequest') {
    super(400, code, message);
  }
}

export class InvalidDeviceTokenError extends PushgateError {
  constructor(message: string) {
    super(400, 'InvalidDeviceToken', message);
  }
}

export class UnknownAppError extends PushgateError {
  constructor(appId: string) {
    super(400, 'UnknownApp', `The app id "${appId}" is not configured in this deployment.`);
  }
}

/** An Android registration for an app this deployment has no FCM project for. */
export class FcmNotConfiguredError extends PushgateError {
  constructor(appId: string) {
    super(
      400,
      'FcmNotConfigured',
      `The app "${appId}" has no FCM project in this deployment, so its Android devices cannot be reached; register iOS devices only, or give the app an fcm configuration.`,
    );
  }
}

export class UnauthorizedError extends PushgateError {
  constructor(message = 'The request has no verified caller identity.') {
    super(401, 'Unauthorized', message);
  }
}

/**
 * The token is valid, but its `sub` claim cannot be a pushgate user id (not a
 * string, or outside the user id rules): refused before anything is stored, so no
 * device is registered that backend routes could not address.
 */
export class InvalidSubjectError extends PushgateError {
  constructor(reason: string) {
    super(403, 'InvalidSubject', `The token's "sub" claim cannot be used as a user id: ${reason}`);
  }
}

export class DeviceNotFoundError extends PushgateError {
  constructor() {
    super(404, 'DeviceNotFound', 'No device with this token is registered to you.');
  }
}

export class LiveActivityTokenNotFoundError extends PushgateError {
  constructor() {
    super(404, 'LiveActivityTokenNotFound', 'No Live Activity token like this is registered to you.');
  }
}

export class NotFoundError extends PushgateError {
  constructor(code: string, message: string) {
    super(404, code, message);
  }
}

export class NotificationIdConflictError extends PushgateError {
  constructor(notificationId: string) {
    super(
      409,
      'NotificationIdConflict',
      `The notification id "${notificationId}" is already taken by a different job (other recipients or content). Repeat that job unchanged, or use a new id.`,
    );
  }
}

/**
 * Other registrations kept changing the same device token (or the same user's
 * devices) for longer than one call waits (device-registration.ts `saveDevice`). What this
 * one wrote may leave the token in no set, as a crash would, never in two; the same
 * call made again puts it right.
 */
export class RegistrationConflictError extends PushgateError {
  override readonly retryAfterSeconds = 1;

  constructor(
    message = 'Other registrations changed this device token at the same moment, and kept winning; try again in a second.',
  ) {
    super(409, 'RegistrationConflict', message);
  }
}

/** The erase of a user's devices kept losing to that user's registrations: nothing was erased. */
export class EraseRacedRegistrationsError extends RegistrationConflictError {
  constructor() {
    super(
      "Registrations of this user's devices kept changing them while they were being erased, and nothing was erased; try again in a second.",
    );
  }
}

export class UnsupportedMediaTypeError extends PushgateError {
  constructor() {
    super(415, 'UnsupportedMediaType', 'Send the body as JSON with "Content-Type: application/json".');
  }
}

export class RequestTooLargeError extends PushgateError {
  constructor(limitBytes: number, hint?: string) {
    super(
      413,
      'RequestTooLarge',
      `The request body is larger than ${limitBytes} bytes.${hint === undefined ? '' : ` ${hint}`}`,
    );
  }
}

export class PayloadTooLargeError extends PushgateError {
  constructor(bytes: number, limit: number, service: 'APNs' | 'FCM' = 'APNs') {
    super(
      413,
      'PayloadTooLarge',
      service === 'APNs'
        ? `The APNs payload would be ${bytes} bytes; APNs accepts at most ${limit} for this push type. Shorten "aps" or "data".`
        : `The FCM message for Android devices would be ${bytes} bytes; FCM accepts at most ${limit}. Shorten "aps.alert", "data" or "android".`,
    );
  }
}

/**
 * A send job that cannot succeed as it is (unknown app, oversize payload, APNs
 * credential or request errors, an unreadable message): it goes to the DLQ with
 * `reason`, never retried. 422: the job is well-formed JSON but unprocessable.
 */
export class JobFailedError extends PushgateError {
  constructor(reason: string, message: string, options?: ErrorOptions) {
    super(422, reason, message, options);
  }

  get reason(): string {
    return this.code;
  }
}

/**
 * An app's APNs credentials could not be loaded (no source configured, an
 * unreadable or malformed secret, the stack's placeholder still in it). The job
 * cannot be sent until an operator fixes the secret: it goes to the DLQ as
 * CredentialsUnavailable. The message says which app, where the credentials were
 * looked for (`where`) and what is wrong — never any of their content.
 */
export class CredentialsUnavailableError extends JobFailedError {
  constructor(
    readonly appId: string,
    cause: unknown,
    where: string,
    service: 'APNs' | 'FCM' = 'APNs',
  ) {
    super(
      'CredentialsUnavailable',
      `${service} credentials of ${appId} could not be loaded from ${where}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

/**
 * Some chunks of a message are held by another invocation that has not finished
 * them: a concurrent duplicate delivery, or one that crashed. Not the caller's
 * fault and not final: the message fails so that SQS delivers it again after the
 * visibility timeout — by then the chunks are completed (skipped) or their lease
 * has run out (claimed and sent here).
 */
export class ChunksHeldElsewhereError extends Error {
  constructor(readonly chunks: number[]) {
    super(`${chunks.length} chunks are held by another invocation and not completed yet`);
    this.name = 'ChunksHeldElsewhere';
  }
}
