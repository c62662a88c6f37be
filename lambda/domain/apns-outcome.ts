/**
 * What an APNs answer means for pushgate (see APNS.md, "Responses and what to do").
 * Pure: the gateway turns a raw answer into one of these; the use case acts on it.
 */
export type ApnsOutcome =
  | { kind: 'accepted'; apnsId?: string }
  /** The token is dead for this app: prune (410 only if not re-registered after `timestamp`). */
  | { kind: 'invalid-token'; reason: string; status: number; timestamp?: number }
  /** Try later: re-queue with a delay (at least `retryAfterSeconds`). */
  | { kind: 'retryable'; reason: string; status?: number; retryAfterSeconds?: number }
  /** Our provider credentials are wrong: fail the job loudly, never prune for it. */
  | { kind: 'credential-error'; reason: string; status: number }
  /** The job or our request is wrong: the job goes to the DLQ with the reason. */
  | { kind: 'job-error'; reason: string; status: number };

export interface RawApnsAnswer {
  status?: number;
  reason?: string;
  /** 410 body `timestamp`, ms since the epoch. */
  timestamp?: number;
  retryAfter?: string;
  apnsId?: string;
  /** Transport failure without an HTTP answer: timeout, reset, refused stream. */
  transportError?: string;
}

/** 403 reasons that mean our provider credentials are wrong (also alarmed on). */
export const CREDENTIAL_REASONS: ReadonlySet<string> = new Set([
  'InvalidProviderToken',
  'MissingProviderToken',
  'BadCertificate',
  'BadCertificateEnvironment',
  'Forbidden',
  'UnrelatedKeyIdInToken',
  'BadEnvironmentKeyIdInToken',
  'ExpiredProviderToken',
]);

export function classifyApnsAnswer(answer: RawApnsAnswer): ApnsOutcome {
  const { status, reason = `HTTP${status ?? ''}` } = answer;
  if (status === undefined) return { kind: 'retryable', reason: answer.transportError ?? 'ConnectionError' };
  if (status === 200)
    return answer.apnsId === undefined ? { kind: 'accepted' } : { kind: 'accepted', apnsId: answer.apnsId };
  if (status === 410) {
    return answer.timestamp === undefined
      ? { kind: 'invalid-token', reason, status }
      : { kind: 'invalid-token', reason, status, timestamp: answer.timestamp };
  }
  if (status === 400 && (reason === 'BadDeviceToken' || reason === 'DeviceTokenNotForTopic')) {
    return { kind: 'invalid-token', reason, status };
  }
  if (status === 400 && reason === 'IdleTimeout') return { kind: 'retryable', reason, status };
  if (status === 403 && CREDENTIAL_REASONS.has(reason)) return { kind: 'credential-error', reason, status };
  if (status === 429 || status >= 500) {
    const retryAfter = Number(answer.retryAfter);
    return Number.isFinite(retryAfter) && retryAfter > 0
      ? { kind: 'retryable', reason, status, retryAfterSeconds: retryAfter }
      : { kind: 'retryable', reason, status };
  }
  return { kind: 'job-error', reason, status };
}
