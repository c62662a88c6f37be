/**
 * What a credentials secret created by the stack holds until the operator puts the
 * app's APNs key in it. The stack writes it; the sender recognises it and says which
 * secret to fill instead of reporting a parse error.
 *
 * Never change this text: CloudFormation writes the secret's value again whenever the
 * template's value changes, which would overwrite every filled-in key with it.
 */
export const CREDENTIALS_PLACEHOLDER = JSON.stringify({
  pushgatePlaceholder:
    'Replace this whole value with the app’s APNs credentials: {"keyId","teamId","key"} (token auth, the .p8 key as PEM) or {"cert","key"} (certificate auth).',
});

/** The same for an app's FCM secret (a Google service-account key). Never change this text either. */
export const FCM_CREDENTIALS_PLACEHOLDER = JSON.stringify({
  pushgatePlaceholder:
    'Replace this whole value with the Firebase project’s service-account key JSON (Firebase console → Project settings → Service accounts → Generate new private key).',
});

export function isCredentialsPlaceholder(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'pushgatePlaceholder' in value;
}
