import type { PushAnswer } from './apns-answer';

/**
 * What an FCM HTTP v1 answer means for pushgate — written once, as the table
 * FCM_ANSWERS: the classifier walks it, and docs/fcm.md shows it (a test holds the
 * page to `fcmAnswersMarkdown()`). An FCM answer means what an APNs one can (a PushAnswer),
 * so the sender settles Android devices exactly like iOS ones.
 *
 * FCM answers an error with a google.rpc.Status: `{"error": {code, message, status,
 * details}}`; `details` may hold a `google.firebase.fcm.v1.FcmError` whose
 * `errorCode` is the precise reason, and a `google.rpc.BadRequest` naming the field
 * at fault.
 */
export interface RawFcmAnswer {
  status?: number;
  /** The FcmError `errorCode`, else the google.rpc.Status `status` (INVALID_ARGUMENT, UNAUTHENTICATED, …). */
  errorCode?: string;
  /** FCM's own sentence, kept for the DLQ detail of a message FCM refused. */
  message?: string;
  /** A `google.rpc.BadRequest` field violation names `message.token`. */
  aboutToken?: boolean;
  retryAfter?: string;
  /** No FCM answer at all: timeout, reset, connection lost, or an incomplete response. */
  transportError?: string;
}

/** A response with an error status but no google.rpc.Status body says nothing about the token. */
export const FCM_INCOMPLETE_ANSWER = 'IncompleteAnswer';
/** FCM wants at least this long between retries after QUOTA_EXCEEDED. */
export const QUOTA_RETRY_MIN_SECONDS = 60;

const FCM_ERROR_TYPE = 'type.googleapis.com/google.firebase.fcm.v1.FcmError';
const BAD_REQUEST_TYPE = 'type.googleapis.com/google.rpc.BadRequest';

export function readFcmAnswer(response: { status: number; body: string; retryAfter?: string }): RawFcmAnswer {
  const { status, retryAfter } = response;
  const extra = retryAfter === undefined ? {} : { retryAfter };
  if (status === 200) return { status, ...extra };
  let error: { status?: unknown; message?: unknown; details?: unknown } | undefined;
  try {
    const value: unknown = JSON.parse(response.body);
    const inner = typeof value === 'object' && value !== null ? Reflect.get(value, 'error') : undefined;
    if (typeof inner === 'object' && inner !== null) error = inner;
  } catch {
    // An unparseable body is no answer: no errorCode below.
  }
  if (error === undefined) return { status, ...extra };
  const details = Array.isArray(error.details) ? (error.details as unknown[]) : [];
  let errorCode = typeof error.status === 'string' && error.status !== '' ? error.status : undefined;
  let aboutToken = false;
  for (const detail of details) {
    if (typeof detail !== 'object' || detail === null) continue;
    const type = Reflect.get(detail, '@type');
    const code = Reflect.get(detail, 'errorCode');
    if (type === FCM_ERROR_TYPE && typeof code === 'string' && code !== '') errorCode = code;
    const violations = Reflect.get(detail, 'fieldViolations');
    if (type === BAD_REQUEST_TYPE && Array.isArray(violations)) {
      aboutToken ||= violations.some(
        (violation) => typeof violation === 'object' && violation?.field === 'message.token',
      );
    }
  }
  const message = typeof error.message === 'string' ? error.message.slice(0, 500) : undefined;
  // FCM words a bad token "The registration token is not a valid FCM registration token".
  aboutToken ||= message !== undefined && /registration token/i.test(message);
  return {
    status,
    ...extra,
    ...(errorCode === undefined ? {} : { errorCode }),
    ...(message === undefined ? {} : { message }),
    ...(aboutToken ? { aboutToken } : {}),
  };
}

export interface FcmAnswerRule {
  /** For docs/fcm.md: the HTTP status FCM sends with it. */
  status: string;
  /** For docs/fcm.md: the error codes the row covers. */
  codes: string;
  means: string;
  does: string;
  counted: string;
  /** What the answer means, when the row applies to it. */
  classify(answer: RawFcmAnswer, sentAt: number): PushAnswer | undefined;
}

const retryAfterSeconds = (answer: RawFcmAnswer): number | undefined => {
  const seconds = Number(answer.retryAfter);
  return Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) : undefined;
};

const retryable = (reason: string, answer: RawFcmAnswer, atLeast = 0): PushAnswer => {
  const after = Math.max(retryAfterSeconds(answer) ?? 0, atLeast);
  return {
    kind: 'retryable',
    reason,
    ...(answer.status === undefined ? {} : { status: answer.status }),
    ...(after > 0 ? { retryAfterSeconds: after } : {}),
  };
};

/** The codes FCM refuses our credentials with. */
const CREDENTIAL_CODES: readonly string[] = [
  'UNAUTHENTICATED',
  'PERMISSION_DENIED',
  'THIRD_PARTY_AUTH_ERROR',
];

/**
 * The OAuth token endpoint refused the app's service-account key (`invalid_grant`,
 * `invalid_client`, `unauthorized_client`: a deleted or disabled key, a wrong
 * account): no access token can be had, so no push can be sent.
 */
export const FCM_ACCESS_TOKEN_REFUSED = 'AccessTokenRefused';
/** The token endpoint failed otherwise (5xx, a timeout, no connection): worth a retry. */
export const FCM_ACCESS_TOKEN_UNAVAILABLE = 'AccessTokenUnavailable';

/** The reasons a job stops on when our FCM credentials are refused (alarmed on). */
export const FCM_CREDENTIAL_CODES: readonly string[] = [...CREDENTIAL_CODES, FCM_ACCESS_TOKEN_REFUSED];
/**
 * The stack's alarm on jobs stopped for FCM_CREDENTIAL_CODES: infra/constructs/operations.ts
 * names it by this constant, so the answer table below cannot name another.
 */
export const FCM_CREDENTIAL_ALARM = 'FcmCredentialFailures';

/** Each FCM answer and what pushgate does with it; the first row that applies decides. */
export const FCM_ANSWERS: readonly FcmAnswerRule[] = [
  {
    status: 'the OAuth token endpoint: 400, 401',
    codes: '`invalid_grant`, `invalid_client`, `unauthorized_client`',
    means: `credential error (\`${FCM_ACCESS_TOKEN_REFUSED}\`)`,
    does: `no access token for the key: asked once more, then the whole job stops and goes to the DLQ with the reason; nothing was sent, no token is pruned for it; the \`${FCM_CREDENTIAL_ALARM}\` alarm fires`,
    counted: '`JobsDeadLettered`',
    classify: (answer) =>
      answer.transportError === FCM_ACCESS_TOKEN_REFUSED
        ? { kind: 'credential-error', reason: FCM_ACCESS_TOKEN_REFUSED, status: 400 }
        : undefined,
  },
  {
    status: 'no complete answer',
    codes: `a timeout, a reset stream, a lost connection, an error status without its google.rpc.Status body; the OAuth token endpoint failing otherwise (5xx, a timeout: \`${FCM_ACCESS_TOKEN_UNAVAILABLE}\`)`,
    means: `retryable (\`${FCM_INCOMPLETE_ANSWER}\`, \`ConnectionError\`, …)`,
    does: 're-queued with a delay; never prunes, never fails the job',
    counted: '`DeliveriesRetried`',
    classify: (answer) => {
      if (answer.transportError !== undefined) return { kind: 'retryable', reason: answer.transportError };
      if (answer.status === undefined) return { kind: 'retryable', reason: 'ConnectionError' };
      if (answer.status !== 200 && answer.errorCode === undefined)
        return retryable(FCM_INCOMPLETE_ANSWER, answer);
      return undefined;
    },
  },
  {
    status: '200',
    codes: '—',
    means: 'accepted',
    does: 'tracking status `accepted`; a re-push round is scheduled if the job asks for one. Accepted means FCM stored it, not that the device showed it.',
    counted: '`NotificationsAccepted`',
    classify: (answer) => (answer.status === 200 ? { kind: 'accepted' } : undefined),
  },
  {
    status: '404',
    codes: '`UNREGISTERED`',
    means: 'invalid token',
    does: 'the device is deleted only if it was not registered again after the push left (a conditional delete on `lastSeenAt`); otherwise it is kept',
    counted: '`TokensPruned` or `TokensKeptAfterReRegistration`',
    classify: (answer, sentAt) =>
      answer.errorCode === 'UNREGISTERED'
        ? { kind: 'invalid-token', reason: 'UNREGISTERED', status: answer.status ?? 404, timestamp: sentAt }
        : undefined,
  },
  {
    status: '403',
    codes: '`SENDER_ID_MISMATCH`',
    means: 'invalid token',
    does: "pruned: the token belongs to another Firebase project than the app's",
    counted: '`TokensPruned`',
    classify: (answer) =>
      answer.errorCode === 'SENDER_ID_MISMATCH'
        ? { kind: 'invalid-token', reason: 'SENDER_ID_MISMATCH', status: answer.status ?? 403 }
        : undefined,
  },
  {
    status: '400',
    codes:
      '`INVALID_ARGUMENT` about the token (a `message.token` field violation, or "registration token" in the message)',
    means: 'invalid token',
    does: 'pruned (FCM calls the token malformed)',
    counted: '`TokensPruned`',
    classify: (answer) =>
      answer.errorCode === 'INVALID_ARGUMENT' && answer.aboutToken === true
        ? { kind: 'invalid-token', reason: 'INVALID_ARGUMENT', status: answer.status ?? 400 }
        : undefined,
  },
  {
    status: '429',
    codes: '`QUOTA_EXCEEDED`',
    means: 'retryable',
    does: `re-queued with a delay of at least \`Retry-After\` and never less than ${QUOTA_RETRY_MIN_SECONDS} s`,
    counted: '`DeliveriesRetried`',
    classify: (answer) =>
      answer.errorCode === 'QUOTA_EXCEEDED' || answer.errorCode === 'RESOURCE_EXHAUSTED'
        ? retryable('QUOTA_EXCEEDED', answer, QUOTA_RETRY_MIN_SECONDS)
        : undefined,
  },
  {
    status: '500, 503',
    codes: '`UNAVAILABLE`, `INTERNAL`',
    means: 'retryable',
    does: 're-queued with the usual backoff, at least `Retry-After`',
    counted: '`DeliveriesRetried`',
    classify: (answer) =>
      answer.errorCode === 'UNAVAILABLE' ||
      answer.errorCode === 'INTERNAL' ||
      (answer.status !== undefined && answer.status >= 500)
        ? retryable(answer.errorCode ?? 'INTERNAL', answer)
        : undefined,
  },
  {
    status: '401, 403',
    codes: CREDENTIAL_CODES.map((code) => `\`${code}\``).join(', '),
    means: 'credential error',
    does: `the access token is dropped and the request sent again at once with a fresh one; refused again, the whole job stops and goes to the DLQ with the reason; no token is pruned for it; the \`${FCM_CREDENTIAL_ALARM}\` alarm fires`,
    counted: '`JobsDeadLettered`',
    classify: (answer) =>
      answer.status === 401 || (answer.errorCode !== undefined && CREDENTIAL_CODES.includes(answer.errorCode))
        ? {
            kind: 'credential-error',
            reason: answer.errorCode ?? 'UNAUTHENTICATED',
            status: answer.status ?? 401,
          }
        : undefined,
  },
  {
    status: 'any other 4xx',
    codes: '`INVALID_ARGUMENT` about the message, `NOT_FOUND` (no such project), …',
    means: 'job error',
    does: "the whole job stops and goes to the DLQ with the reason and FCM's message (our request is wrong; retrying cannot help)",
    counted: '`JobsDeadLettered`',
    classify: (answer) => ({
      kind: 'job-error',
      reason: answer.errorCode ?? 'INVALID_ARGUMENT',
      status: answer.status ?? 400,
      ...(answer.message === undefined ? {} : { detail: answer.message }),
    }),
  },
];

/** Classifies an answer to a push that left at `sentAt` (ms since the epoch). */
export function classifyFcmAnswer(answer: RawFcmAnswer, sentAt: number): PushAnswer {
  for (const rule of FCM_ANSWERS) {
    const means = rule.classify(answer, sentAt);
    if (means !== undefined) return means;
  }
  throw new Error('the last FCM answer rule applies to every answer');
}

/** Credential refusals are sent again once, at once, after the gateway dropped the access token. */
export function fcmRetryAtOnce(answer: RawFcmAnswer, sentAt = 0): boolean {
  return classifyFcmAnswer(answer, sentAt).kind === 'credential-error';
}

/** The table as docs/fcm.md shows it. */
export function fcmAnswersMarkdown(): string {
  const rows = [
    '| FCM answer | error codes | means | what pushgate does | counted |',
    '| --- | --- | --- | --- | --- |',
    ...FCM_ANSWERS.map(
      (rule) => `| ${rule.status} | ${rule.codes} | ${rule.means} | ${rule.does} | ${rule.counted} |`,
    ),
  ];
  return `${rows.join('\n')}\n`;
}
