import { describe, expect, it } from 'vitest';
import { registerDeviceBody } from '../../lambda/adapters/primary/register-device/schema';
import { PushgateError } from '../../lambda/domain/errors';
import { parseWith } from '../../lambda/validation';

const ok = { appId: 'com.example.app', environment: 'sandbox' };

function refusal(value: unknown): PushgateError {
  try {
    parseWith(registerDeviceBody, value);
  } catch (error) {
    if (error instanceof PushgateError) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('registerDeviceBody', () => {
  it('accepts the minimal and the full body', () => {
    expect(parseWith(registerDeviceBody, ok)).toEqual(ok);
    const full = { ...ok, locale: 'zh-Hant-TW', appVersion: '4.2.1 (381)' };
    expect(parseWith(registerDeviceBody, full)).toEqual(full);
  });

  it('names an unknown field and gives it its own code', () => {
    const error = refusal({ ...ok, userId: 'x' });
    expect(error.code).toBe('UnknownField');
    expect(error.message).toContain('"userId"');
  });

  it('names the field that is wrong', () => {
    expect(refusal({ ...ok, environment: 'dev' }).message).toMatch(/^"environment": .*sandbox/);
    expect(refusal({ ...ok, locale: 'en_US' }).message).toMatch(/^"locale": .*BCP 47/);
    expect(refusal({ ...ok, appVersion: 'x'.repeat(33) }).message).toMatch(/^"appVersion": .*32/);
    expect(refusal({ environment: 'sandbox' }).message).toMatch(/^"appId"/);
  });

  it('refuses rather than truncates long values', () => {
    expect(refusal({ ...ok, locale: 'en-US-'.repeat(7) }).code).toBe('InvalidRequest');
  });
});
