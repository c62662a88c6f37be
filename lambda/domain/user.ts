import * as z from 'zod/mini';

/**
 * A user id as pushgate stores it: the OIDC `sub` of the app's users. Cognito and
 * most issuers use UUIDs; we allow any printable id up to 256 characters.
 */
export const MAX_USER_ID_LENGTH = 256;
export const userIdSchema = z
  .string()
  .check(
    z.minLength(1, 'A user id cannot be empty.'),
    z.maxLength(MAX_USER_ID_LENGTH, `A user id is at most ${MAX_USER_ID_LENGTH} characters.`),
    z.regex(/^[\x21-\x7e]+$/, 'A user id is printable ASCII without spaces.'),
  );
