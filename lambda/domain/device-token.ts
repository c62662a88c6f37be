import { createHash } from 'node:crypto';
import { InvalidDeviceTokenError } from './errors';

/** Apple says tokens are 32 bytes today and may grow; we accept 16–200 bytes. */
export const MIN_TOKEN_BYTES = 16;
export const MAX_TOKEN_BYTES = 200;

const HEX = /^[0-9a-f]+$/;
/** `-[NSData description]` before iOS 13: `<ab12cd34 ef56...>`, groups of hex separated by spaces. */
const NSDATA_DESCRIPTION = /^<([0-9a-fA-F]+(?: [0-9a-fA-F]+)*)>$/;
/** iOS 13+ `-[NSData description]`: `{length = 32, bytes = 0x1234abcd ... 5678ef01 }`, truncated by design. */
const IOS13_DESCRIPTION = /^\{\s*length\s*=\s*\d+\s*,\s*bytes\s*=/;

const HOW_TO_CONVERT =
  'Convert the device token Data to hex in the app: deviceToken.map { String(format: "%02x", $0) }.joined().';

/** Whitespace and invisible characters: tab, NBSP, BOM, U+2028 and the like (`\s` in JS covers them). */
const WHITESPACE = /\s/;

/**
 * Turns what an app sent as its APNs device token into the canonical form:
 * lowercase hex of 16–200 bytes. Throws InvalidDeviceTokenError with a message an
 * app developer can act on for everything else — never silently strips characters
 * (not even surrounding whitespace) the way apn.token() does.
 */
export function canonicalDeviceToken(input: string): string {
  if (input.length === 0) {
    throw new InvalidDeviceTokenError(`The device token is empty. ${HOW_TO_CONVERT}`);
  }
  if (IOS13_DESCRIPTION.test(input)) {
    throw new InvalidDeviceTokenError(
      `This is the iOS 13+ description of the token Data ("{length = …, bytes = 0x… }"), which is truncated and cannot be used. ${HOW_TO_CONVERT}`,
    );
  }
  const described = NSDATA_DESCRIPTION.exec(input);
  if (!described && WHITESPACE.test(input)) {
    throw new InvalidDeviceTokenError(
      `The device token contains whitespace or invisible characters (a space, tab, line break, NBSP or BOM); send only its hex digits. ${HOW_TO_CONVERT}`,
    );
  }
  const hex = (described ? (described[1] ?? '').replaceAll(' ', '') : input).toLowerCase();
  if (!HEX.test(hex)) {
    throw new InvalidDeviceTokenError(`The device token must be hexadecimal (0-9, a-f). ${HOW_TO_CONVERT}`);
  }
  if (hex.length % 2 !== 0) {
    throw new InvalidDeviceTokenError(
      'The device token has an odd number of hex digits; a byte is two digits.',
    );
  }
  const bytes = hex.length / 2;
  if (bytes < MIN_TOKEN_BYTES || bytes > MAX_TOKEN_BYTES) {
    throw new InvalidDeviceTokenError(
      `The device token is ${bytes} bytes; APNs tokens are ${MIN_TOKEN_BYTES}–${MAX_TOKEN_BYTES} bytes (32 today).`,
    );
  }
  return hex;
}

/** A short, stable, non-reversible tag for a token, for logs. Never log the token itself. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 12);
}
