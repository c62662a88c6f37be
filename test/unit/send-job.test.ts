import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PushgateError } from '../../lambda/domain/errors';
import { normalizeSendJob, sendJobSchema } from '../../lambda/domain/send-job';
import { parseWith } from '../../lambda/validation';
import { jsonSchemas, serialise } from '../../scripts/json-schemas';

const ok = { appId: 'com.example.app', to: { userIds: ['alice'] }, aps: { alert: 'Hi' } };
const token = 'ab'.repeat(32);

function refusal(value: unknown): PushgateError {
  try {
    normalizeSendJob(parseWith(sendJobSchema, value), 'fallback');
  } catch (error) {
    if (error instanceof PushgateError) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('send job schema', () => {
  it('accepts the full send job example of docs/api.md', () => {
    // The page's example, with a real id where it explains the field.
    const page = readFileSync('docs/api.md', 'utf8');
    const example = page.slice(page.indexOf('## Send job')).match(/```json\n([\s\S]*?)```/)?.[1] ?? '';
    const job = { ...(JSON.parse(example) as Record<string, unknown>), notificationId: 'order-123' };
    expect(Object.keys(job)).toEqual(['notificationId', 'appId', 'to', 'aps', 'data', 'apns', 'track']);
    expect(normalizeSendJob(parseWith(sendJobSchema, job), 'x')).toEqual(job);
  });

  it('assigns the fallback id when none is given and canonicalises tokens', () => {
    const job = normalizeSendJob(
      parseWith(sendJobSchema, { ...ok, to: { tokens: [token.toUpperCase()] } }),
      'msg-1',
    );
    expect(job.notificationId).toBe('msg-1');
    expect(job.to).toEqual({ tokens: [token] });
  });

  it.each([
    ['unknown top-level field', { ...ok, priority: 10 }, 'UnknownField'],
    ['unknown aps key', { ...ok, aps: { alert: 'x', contentAvailable: 1 } }, 'UnknownField'],
    ['to with both forms', { ...ok, to: { userIds: ['a'], tokens: [token] } }, 'InvalidRequest'],
    ['empty userIds', { ...ok, to: { userIds: [] } }, 'InvalidRequest'],
    ['a bad token', { ...ok, to: { tokens: ['{length = 32, bytes = 0xab }'] } }, 'InvalidDeviceToken'],
    ['reserved data key', { ...ok, data: { aps: {} } }, 'InvalidRequest'],
    [
      'background at priority 10',
      { ...ok, aps: { 'content-available': 1 }, apns: { pushType: 'background', priority: 10 } },
      'InvalidRequest',
    ],
    ['background without content-available', { ...ok, apns: { pushType: 'background' } }, 'InvalidRequest'],
    ['collapse id over 64 bytes', { ...ok, apns: { collapseId: 'é'.repeat(33) } }, 'InvalidRequest'],
    ['repush without receipts', { ...ok, track: { repushAfterSeconds: 60 } }, 'InvalidRequest'],
    [
      'repush delay over a week',
      { ...ok, track: { receipts: true, repushAfterSeconds: 604_801 } },
      'InvalidRequest',
    ],
    ['too many repushes', { ...ok, track: { receipts: true, maxRepushes: 11 } }, 'InvalidRequest'],
    ['priority 7', { ...ok, apns: { priority: 7 } }, 'InvalidRequest'],
    ['unknown push type', { ...ok, apns: { pushType: 'banner' } }, 'InvalidRequest'],
    ['negative badge', { ...ok, aps: { badge: -1 } }, 'InvalidRequest'],
    ['notification id with spaces', { ...ok, notificationId: 'a b' }, 'InvalidRequest'],
  ])('refuses %s', (_name, value, code) => {
    expect(refusal(value).code).toBe(code);
  });

  it('names the bad token by its index', () => {
    expect(refusal({ ...ok, to: { tokens: [token, 'zz'] } }).message).toMatch(/^"to.tokens.1": /);
  });
});

describe('published JSON Schemas', () => {
  it.each(Object.entries(jsonSchemas()))(
    'schema/%s matches the zod schema (run npm run schema:generate)',
    (file, schema) => {
      expect(readFileSync(`schema/${file}`, 'utf8')).toBe(serialise(schema));
    },
  );
});
