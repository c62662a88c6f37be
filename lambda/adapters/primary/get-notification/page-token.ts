import { MAX_TOKEN_BYTES } from '../../../domain/device-token';
import { InvalidRequestError } from '../../../domain/errors';
import { MAX_FCM_TOKEN_LENGTH } from '../../../domain/fcm-token';
import { MAX_USER_ID_LENGTH } from '../../../domain/user';
import type { PageStart } from '../../../use-cases/get-notification';

/**
 * The longest page token this API gives out: base64url of `[userId, token]` for the
 * longest user id, every character of it one JSON escapes (`"`, `\`), and the longest
 * device token — an FCM token of MAX_FCM_TOKEN_LENGTH (an APNs one is at most
 * 2 × MAX_TOKEN_BYTES hex digits). ~6 KB, within the 10 240 bytes API Gateway takes for
 * the request line and headers. Computed, not guessed: a cap below it (2 048, before
 * long FCM tokens) refused the page token of a page ending on such a device, and the
 * pages after it could not be read.
 */
export const MAX_PAGE_TOKEN_LENGTH = Math.ceil(
  ((JSON.stringify(['', '']).length +
    2 * MAX_USER_ID_LENGTH +
    Math.max(MAX_FCM_TOKEN_LENGTH, 2 * MAX_TOKEN_BYTES)) *
    4) /
    3,
);

/** The page token is opaque to callers: where the next page starts, base64url JSON. */
export function encodePageToken(start: PageStart): string {
  return Buffer.from(JSON.stringify([start.userId, start.token])).toString('base64url');
}

export function decodePageToken(token: string): PageStart {
  const invalid = new InvalidRequestError(
    '"nextToken" is not one this API gave out; pass the nextToken of the previous page unchanged.',
    'InvalidNextToken',
  );
  if (token.length > MAX_PAGE_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) throw invalid;
  let start: unknown;
  try {
    start = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  if (!Array.isArray(start) || start.length !== 2) throw invalid;
  const [userId, token_] = start as unknown[];
  if (typeof userId !== 'string' || typeof token_ !== 'string') throw invalid;
  return { userId, token: token_ };
}
