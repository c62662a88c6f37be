import * as z from 'zod/mini';

/** An app id is the iOS bundle id (reverse DNS, at most 155 characters as Apple allows). */
export const appIdSchema = z
  .string()
  .check(
    z.maxLength(155, 'An app id (bundle id) is at most 155 characters.'),
    z.regex(/^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$/, 'An app id is a bundle id such as "com.example.app".'),
  );
