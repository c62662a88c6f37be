/**
 * What an APNs (or FCM) answer means for the device (docs/apns.md). Pure: the gateway
 * turns an HTTP/2 response into a raw answer; these rules read what it means, and the
 * settle step turns that into the device's outcome (domain/outcomes.ts).
 */
export type PushAnswer =
  | { kind: 'accepted'; apnsId?: string }
  /** The token is dead for this app: prune (410 only if not re-registered after `timestamp`). */
  | { kind: 'invalid-token'; reason: string; status: number; timestamp?: number }
  /** Try later: re-queue with a delay (at least `retryAfterSeconds`). */
  | { kind: 'retryable'; reason: string; status?: number; retryAfterSeconds?: number }
  /** Our provider credentials are wrong: fail the job loudly, never prune for it. */
  | { kind: 'credential-error'; reason: string; status: number }
  /** The job or our request is wrong: the job goes to the DLQ with the reason. */
  | { kind: 'job-error'; reason: string; status: number; detail?: string };

/** The answers that stop a whole job (it goes to the DLQ with the reason). */
export type FatalAnswer = Extract<PushAnswer, { kind: 'credential-error' | 'job-error' }>;

export interface RawApnsAnswer {
  status?: number;
  reason?: string;
  /** 410 body `timestamp`, ms since the epoch. */
  timestamp?: number;
  retryAfter?: string;
  apnsId?: string;
  /** No APNs answer at all: timeout, reset, connection lost, or an incomplete response. */
  transportError?: string;
}

/** A response with a status but without the body APNs documents for it says nothing about the token. */
export const INCOMPLETE_ANSWER = 'IncompleteAnswer';

/** 403 reasons that mean our provider credentials are wrong (also alarmed on). */
export const CREDENTIAL_REASONS: ReadonlySet<string> = new Set([
  'InvalidProviderToken',
  'MissingProviderToken',
  'BadCertificate',
  'BadCertificateEnvironment',
  'Forbidden',
  'UnrelatedKeyIdInToken',
  'BadEnvironmentKeyIdInToken',
]);

/**
 * Reads an HTTP/2 response as APNs's answer. A non-200 answer is one only with the
 * JSON body Apple documents: `reason`, and `timestamp` for 410; without them (empty
 * or unparseable body) the raw answer carries no reason, which the classifier treats
 * as a transport failure.
 */
export function readApnsAnswer(response: {
  status: number;
  body: string;
  apnsId?: string;
  retryAfter?: string;
}): RawApnsAnswer {
  const { status, apnsId, retryAfter } = response;
  const extra = {
    ...(apnsId === undefined ? {} : { apnsId }),
    ...(retryAfter === undefined ? {} : { retryAfter }),
  };
  if (status === 200) return { status, ...extra };
  let parsed: { reason?: unknown; timestamp?: unknown } = {};
  try {
    const value: unknown = JSON.parse(response.body);
    if (typeof value === 'object' && value !== null) parsed = value;
  } catch {
    // An unparseable body is no answer: no reason below.
  }
  return {
    status,
    ...extra,
    ...(typeof parsed.reason === 'string' && parsed.reason !== '' ? { reason: parsed.reason } : {}),
    ...(typeof parsed.timestamp === 'number' && Number.isFinite(parsed.timestamp)
      ? { timestamp: parsed.timestamp }
      : {}),
  };
}

/**
 * Classifies an answer. Anything that is not a complete APNs answer — a transport
 * failure, a status without its reason, a 410 without its timestamp — is retryable:
 * it never prunes a token and never fails a job.
 */
export function classifyApnsAnswer(answer: RawApnsAnswer): PushAnswer {
  const { status, reason } = answer;
  if (answer.transportError !== undefined) return { kind: 'retryable', reason: answer.transportError };
  if (status === undefined) return { kind: 'retryable', reason: 'ConnectionError' };
  if (status === 200)
    return answer.apnsId === undefined ? { kind: 'accepted' } : { kind: 'accepted', apnsId: answer.apnsId };
  if (reason === undefined || (status === 410 && answer.timestamp === undefined)) {
    return { kind: 'retryable', reason: INCOMPLETE_ANSWER, status };
  }
  if (status === 410) return { kind: 'invalid-token', reason, status, timestamp: answer.timestamp as number };
  if (status === 400 && (reason === 'BadDeviceToken' || reason === 'DeviceTokenNotForTopic')) {
    return { kind: 'invalid-token', reason, status };
  }
  if (status === 400 && reason === 'IdleTimeout') return { kind: 'retryable', reason, status };
  // The token aged out (or APNs thinks so): the gateway mints a new one; never a job failure.
  if (status === 403 && reason === 'ExpiredProviderToken') return { kind: 'retryable', reason, status };
  if (status === 403 && CREDENTIAL_REASONS.has(reason)) return { kind: 'credential-error', reason, status };
  if (status === 429 || status >= 500) {
    const retryAfter = Number(answer.retryAfter);
    return Number.isFinite(retryAfter) && retryAfter > 0
      ? { kind: 'retryable', reason, status, retryAfterSeconds: retryAfter }
      : { kind: 'retryable', reason, status };
  }
  return { kind: 'job-error', reason, status };
}

/**
 * Answers worth sending again at once rather than re-queuing: ExpiredProviderToken
 * (the gateway has dropped the token it refused; the next request carries a fresh
 * one). Once only — a second refusal is re-queued like any retryable answer.
 */
export function retryAtOnce(answer: RawApnsAnswer): boolean {
  return (
    answer.status === 403 && answer.reason === 'ExpiredProviderToken' && answer.transportError === undefined
  );
}

/** The first answer that stops the whole job, if any. */
export function fatalAnswer(answers: readonly PushAnswer[]): FatalAnswer | undefined {
  return answers.find(
    (answer): answer is FatalAnswer => answer.kind === 'credential-error' || answer.kind === 'job-error',
  );
}

/** Answers after which a session is retired (APNs asks for a new connection). */
export function endsSession(answer: RawApnsAnswer): boolean {
  return (
    (answer.status === 400 && answer.reason === 'IdleTimeout') ||
    (answer.status === 503 && answer.reason === 'Shutdown')
  );
}
