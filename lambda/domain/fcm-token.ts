import { InvalidDeviceTokenError } from './errors';

/**
 * FCM registration tokens (Android). Google documents them as opaque strings: no
 * fixed length or alphabet is promised, so pushgate checks only what keeps them
 * safe to store and to send — the characters seen in every token Google has issued
 * (`A–Z a–z 0–9 _ : . -`), and at most 4 096 of them. Unlike an APNs token, an FCM
 * token is case-sensitive: it is stored and sent exactly as the app sent it.
 */
export const MAX_FCM_TOKEN_LENGTH = 4096;

const FCM_TOKEN = /^[A-Za-z0-9_:.-]+$/;

const HOW_TO_GET =
  'Send the token FirebaseMessaging.getInstance().token (or onNewToken) gave the app, unchanged.';

/** Returns the token unchanged when it can be an FCM registration token; InvalidDeviceToken otherwise. */
export function checkFcmToken(input: string): string {
  if (input.length === 0)
    throw new InvalidDeviceTokenError(`The FCM registration token is empty. ${HOW_TO_GET}`);
  if (input.length > MAX_FCM_TOKEN_LENGTH) {
    throw new InvalidDeviceTokenError(
      `The FCM registration token is ${input.length} characters; pushgate accepts at most ${MAX_FCM_TOKEN_LENGTH}. ${HOW_TO_GET}`,
    );
  }
  if (!FCM_TOKEN.test(input)) {
    throw new InvalidDeviceTokenError(
      `An FCM registration token holds only letters, digits and _ : . - (no spaces, quotes or other characters). ${HOW_TO_GET}`,
    );
  }
  return input;
}
