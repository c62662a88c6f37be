import * as z from 'zod/mini';

/** An app id is the iOS bundle id (reverse DNS, at most 155 characters as Apple allows). */
export const appIdSchema = z
  .string()
  .check(
    z.maxLength(155, 'An app id (bundle id) is at most 155 characters.'),
    z.regex(/^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$/, 'An app id is a bundle id such as "com.example.app".'),
  );

/** One app the deployment serves, as its configuration names it. */
export const appConfigSchema = z.strictObject({
  appId: z.string().check(z.minLength(1)),
  /** The APNs topic: the app's bundle id. */
  bundleId: z.string().check(z.minLength(1)),
  /** Secrets Manager ARN (deployed) or a local file (offline) with the APNs credentials. */
  credentials: z.optional(z.string().check(z.minLength(1))),
  /** FCM for the app's Android devices: the Firebase project and where its service-account key lives. */
  fcm: z.optional(
    z.strictObject({
      projectId: z.string().check(z.minLength(1)),
      /** Secrets Manager ARN (deployed) or a local file (offline) with the service-account key JSON; the sender's only. */
      credentials: z.optional(z.string().check(z.minLength(1))),
    }),
  ),
});
export type AppConfig = z.infer<typeof appConfigSchema>;
