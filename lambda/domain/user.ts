import * as z from 'zod/mini';

/**
 * A user id as pushgate stores it: the OIDC `sub` of the app's users. Cognito and
 * most issuers use UUIDs; we allow any printable ASCII id up to 256 characters
 * except `/`, `?` and `#`: backend routes carry the user id in the URL path, and
 * API Gateway decodes the path before routing, so an id with those characters
 * could be registered but never listed or erased.
 */
export const MAX_USER_ID_LENGTH = 256;
export const userIdSchema = z
  .string()
  .check(
    z.minLength(1, 'A user id cannot be empty.'),
    z.maxLength(MAX_USER_ID_LENGTH, `A user id is at most ${MAX_USER_ID_LENGTH} characters.`),
    z.regex(/^[\x21-\x7e]+$/, 'A user id is printable ASCII without spaces.'),
    z.regex(/^[^/?#]+$/, 'A user id cannot contain "/", "?" or "#" (it must fit in a URL path segment).'),
  );
