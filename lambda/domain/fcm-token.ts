import { createHash } from 'node:crypto';
import { canonicalDeviceToken } from './device-token';
import { InvalidDeviceTokenError } from './errors';
import type { Platform } from './platform';

/**
 * FCM registration tokens (Android). Google documents them as opaque strings: no
 * fixed length or alphabet is promised, so pushgate checks only what keeps them
 * safe to store and to send — the characters seen in every token Google has issued
 * (`A–Z a–z 0–9 _ : . -`, with the `:` of their `<instance id>:<key>` form, see
 * platformOfToken), and at most MAX_FCM_TOKEN_LENGTH of them. Unlike an APNs
 * token, an FCM token is case-sensitive: it is stored and sent exactly as the app sent it.
 *
 * Tokens Google issues today are ~160 characters; the contract allows 4 096. A token
 * that long cannot key the tables (a receipt's sort key holds at most 1 024 bytes), so
 * the tables key it by its digest (tokenKey) and keep the token beside the key.
 */
export const MAX_FCM_TOKEN_LENGTH = 4096;

const FCM_TOKEN = /^[A-Za-z0-9_:.-]+$/;

/**
 * The Devices table keeps other items next to device tokens, under keys a kind prefix
 * sets apart from canonical hex: a user's device set, Live Activity tokens, and the
 * key of a token too long to be its own (tokenKey). The keys modules build those keys
 * from this list; an FCM token starting with one of them would name such an item, so
 * it is refused (no token Google issues starts so: its first part is a mixed-case
 * instance id).
 */
export const ITEM_KEY_PREFIXES = {
  userSet: 'user:',
  pushToStart: 'la-start:',
  activityUpdate: 'la-update:',
  longToken: 'fcm-sha256:',
} as const;

/**
 * The longest token that is its own key: the Devices table's partition key (at most
 * 2 048 bytes), the attribute names of a user's device set (`device:<key>`,
 * `moved:<key>`) and, behind `receipt#`, a receipt's sort key (at most 1 024 bytes)
 * — what pushgate accepted before tokens of 4 096 characters, so every item written
 * then keeps its key. test/unit/token-key.test.ts checks the keys against DynamoDB's limits.
 */
export const MAX_KEYED_TOKEN_LENGTH = 1000;

/**
 * The key a device token is stored under, wherever a table keys or names an item or
 * attribute by token (docs/decisions/long-fcm-tokens.md): the token itself up to
 * MAX_KEYED_TOKEN_LENGTH characters — every APNs token, and every FCM token Google
 * issues today — and a longer one's SHA-256, as `fcm-sha256:<base64url>` (54
 * characters). The prefix holds a `:`, which canonical hex never does, and no FCM
 * token may start with it (ITEM_KEY_PREFIXES), so no key names two tokens. The items
 * so keyed keep the token itself, which is what is sent and shown.
 */
export function tokenKey(token: string): string {
  if (token.length <= MAX_KEYED_TOKEN_LENGTH) return token;
  return `${ITEM_KEY_PREFIXES.longToken}${createHash('sha256').update(token).digest('base64url')}`;
}

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
  if (platformOfToken(input) !== 'android') {
    throw new InvalidDeviceTokenError(
      `An FCM registration token has the form "<instance id>:<key>": this one holds no ":", so where no platform is said (DELETE /v1/devices/{token}, a receipt, "to.tokens") it would be read as an APNs token. ${HOW_TO_GET}`,
    );
  }
  if (Object.values(ITEM_KEY_PREFIXES).some((prefix) => input.startsWith(prefix))) {
    throw new InvalidDeviceTokenError(
      `An FCM registration token does not start with "${input.slice(0, input.indexOf(':') + 1)}". ${HOW_TO_GET}`,
    );
  }
  return input;
}

/** Whether `input` can be an FCM registration token (`checkFcmToken` would keep it). */
export function isFcmToken(input: string): boolean {
  try {
    checkFcmToken(input);
    return true;
  } catch {
    return false;
  }
}

/**
 * The platform a token names by its shape: the one rule that tells FCM and APNs tokens
 * apart wherever the platform is not said (a path, a receipt, a job's `to.tokens`), and
 * that registration holds each platform's tokens to, so every registered token is
 * named back as itself. An FCM registration token holds `:` — Google issues them as
 * `<instance id>:<key>` — and an APNs token never does (hex, or Apple's `<…>`
 * description of it).
 */
export function platformOfToken(input: string): Platform {
  return input.includes(':') ? 'android' : 'ios';
}

/**
 * A token named where the platform is not said: an FCM registration token as it is,
 * or an APNs token in its canonical form (platformOfToken decides which) — a mangled
 * iOS token stays an InvalidDeviceToken with the APNs explanation.
 */
export function namedDeviceToken(input: string): string {
  return platformOfToken(input) === 'android' ? checkFcmToken(input) : canonicalDeviceToken(input);
}

/** A registration's token, held to its platform's rules: the very token namedDeviceToken reads back. */
export function registeredDeviceToken(input: string, platform: Platform): string {
  return platform === 'android' ? checkFcmToken(input) : canonicalDeviceToken(input);
}
