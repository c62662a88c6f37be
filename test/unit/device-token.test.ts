import { describe, expect, it } from 'vitest';
import { canonicalDeviceToken, tokenHash } from '../../lambda/domain/device-token';
import { InvalidDeviceTokenError } from '../../lambda/domain/errors';

const token = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';

function rejection(raw: string): InvalidDeviceTokenError {
  try {
    canonicalDeviceToken(raw);
  } catch (error) {
    if (error instanceof InvalidDeviceTokenError) return error;
    throw error;
  }
  throw new Error(`accepted ${raw}`);
}

describe('canonicalDeviceToken', () => {
  it.each([
    ['lowercase hex', token],
    ['uppercase hex', token.toUpperCase()],
    ['mixed case', `${token.slice(0, 32).toUpperCase()}${token.slice(32)}`],
    ['<NSData description> with spaces', `<${token.match(/.{8}/g)?.join(' ')}>`],
    ['<NSData description> uppercase', `<${token.toUpperCase().match(/.{8}/g)?.join(' ')}>`],
  ])('accepts %s and returns lowercase hex', (_name, raw) => {
    expect(canonicalDeviceToken(raw)).toBe(token);
  });

  it('accepts the shortest and longest lengths Apple may use (16 and 200 bytes)', () => {
    expect(canonicalDeviceToken('ab'.repeat(16))).toBe('ab'.repeat(16));
    expect(canonicalDeviceToken('cd'.repeat(200))).toBe('cd'.repeat(200));
  });

  it('rejects the truncated iOS 13+ description and says how to convert the Data', () => {
    const error = rejection('{length = 32, bytes = 0xa1b2c3d4 e5f60718 ... 5c6d7e8f 90 }');
    expect(error.code).toBe('InvalidDeviceToken');
    expect(error.statusCode).toBe(400);
    expect(error.message).toContain('iOS 13');
    expect(error.message).toContain('String(format: "%02x", $0)');
  });

  it.each([
    ['empty', '', /empty/],
    ['only spaces', '   ', /whitespace/],
    ['surrounding spaces', `  ${token}\n`, /whitespace/],
    ['a leading tab', `\t${token}`, /whitespace/],
    ['a trailing no-break space', `${token}\u00a0`, /whitespace/],
    ['a leading byte order mark', `\ufeff${token}`, /whitespace/],
    ['a trailing line separator (U+2028)', `${token}\u2028`, /whitespace/],
    ['spaces around an NSData description', ` <${token.match(/.{8}/g)?.join(' ')}> `, /whitespace/],
    ['non-hex letters', `${token.slice(0, 62)}zz`, /hexadecimal/],
    ['dashes', token.match(/.{8}/g)?.join('-') ?? '', /hexadecimal/],
    ['base64', Buffer.from(token, 'hex').toString('base64'), /hexadecimal/],
    ['0x prefix', `0x${token}`, /hexadecimal/],
    ['odd length', `${token}a`, /odd number/],
    ['15 bytes', 'ab'.repeat(15), /15 bytes/],
    ['201 bytes', 'ab'.repeat(201), /201 bytes/],
    ['unbalanced bracket', `<${token}`, /hexadecimal/],
    ['brackets with double spaces', `<${token.slice(0, 8)}  ${token.slice(8)}>`, /whitespace/],
    ['spaces without brackets', token.match(/.{8}/g)?.join(' ') ?? '', /whitespace/],
  ])('rejects %s', (_name, raw, message) => {
    expect(rejection(raw).message).toMatch(message);
  });
});

describe('tokenHash', () => {
  it('is short, stable and does not contain the token', () => {
    expect(tokenHash(token)).toHaveLength(12);
    expect(tokenHash(token)).toBe(tokenHash(token));
    expect(tokenHash(token)).not.toBe(tokenHash(token.replace('a1', 'a2')));
    expect(token).not.toContain(tokenHash(token));
  });
});
