import * as z from 'zod/mini';
import { appIdSchema } from '../../../domain/app';
import { APNS_ENVIRONMENTS } from '../../../domain/device';
import { PLATFORMS } from '../../../domain/platform';

/** The largest registration body we read; a valid one is under 300 bytes. */
export const MAX_REGISTER_BODY_BYTES = 4096;

/** Body of `PUT /v1/devices/{token}`. Unknown fields are refused, never ignored. */
export const registerDeviceBody = z.strictObject({
  appId: appIdSchema,
  /** Absent: "ios". */
  platform: z.optional(z.enum(PLATFORMS, { error: 'The platform is "ios" or "android".' })),
  /** Required for iOS devices; refused for Android ones (domain/platform.ts `registrationPlatform`). */
  environment: z.optional(
    z.enum(APNS_ENVIRONMENTS, { error: 'The environment is "sandbox" or "production".' }),
  ),
  /** A BCP 47 language tag such as "en-US" (Swift: Locale.current.identifier(.bcp47)). */
  locale: z.optional(
    z
      .string()
      .check(
        z.maxLength(35, 'A locale is at most 35 characters.'),
        z.regex(
          /^[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*$/,
          'A locale is a BCP 47 tag such as "en-US" (hyphens, not underscores).',
        ),
      ),
  ),
  /** The app's version string such as "4.2.1 (381)". */
  appVersion: z.optional(
    z
      .string()
      .check(
        z.minLength(1, 'An app version cannot be empty.'),
        z.maxLength(32, 'An app version is at most 32 characters.'),
        z.regex(/^[0-9A-Za-z.+\-_ ()]+$/, 'An app version uses letters, digits, spaces and . + - _ ( ).'),
      ),
  ),
});
