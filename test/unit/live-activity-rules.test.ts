import { describe, expect, it } from 'vitest';
import { compileApnsRequest } from '../../lambda/domain/apns-request';
import {
  checkLiveActivityJob,
  dismissalAfterEnd,
  parseActivityId,
  withLiveActivityTimestamp,
} from '../../lambda/domain/live-activity';
import type { SendJob } from '../../lambda/domain/send-job';

const job = (aps: Record<string, unknown>, extra: Partial<SendJob> = {}): SendJob =>
  ({
    notificationId: 'n-1',
    appId: 'com.example.app',
    to: { activityIds: ['order-1'] },
    apns: { pushType: 'liveactivity' },
    aps,
    ...extra,
  }) as SendJob;

describe('Live Activity rules', () => {
  it('compiles to the .push-type.liveactivity topic with priority 5 for update, 10 for start and end', () => {
    const update = compileApnsRequest(
      job({ event: 'update', 'content-state': {}, timestamp: 1 }),
      'com.example.app',
    );
    expect(update.headers).toMatchObject({
      'apns-push-type': 'liveactivity',
      'apns-topic': 'com.example.app.push-type.liveactivity',
      'apns-priority': '5',
    });
    expect(compileApnsRequest(job({ event: 'end', timestamp: 1 }), 'b').headers['apns-priority']).toBe('10');
    const start = job({ event: 'start', timestamp: 1 }, { to: { userIds: ['a'] } });
    expect(compileApnsRequest(start, 'b').headers['apns-priority']).toBe('10');
  });

  it('keeps the priority the job asks for', () => {
    const urgent = job(
      { event: 'update', 'content-state': {} },
      { apns: { pushType: 'liveactivity', priority: 10 } },
    );
    expect(compileApnsRequest(urgent, 'b').headers['apns-priority']).toBe('10');
  });

  it('fills aps.timestamp (UNIX seconds) only when absent, and only for Live Activity pushes', () => {
    const now = new Date('2026-01-01T00:00:10.900Z');
    expect(withLiveActivityTimestamp(job({ event: 'end' }), now).aps.timestamp).toBe(1_767_225_610);
    expect(withLiveActivityTimestamp(job({ event: 'end', timestamp: 5 }), now).aps.timestamp).toBe(5);
    const alert = job({ alert: 'x' }, { apns: { pushType: 'alert' }, to: { userIds: ['a'] } });
    expect(withLiveActivityTimestamp(alert, now).aps.timestamp).toBeUndefined();
  });

  it('drops update tokens at once after an end without a dismissal date or with a past one', () => {
    const now = new Date(1_800_000_000_000);
    expect(dismissalAfterEnd({}, now)).toBeUndefined();
    expect(dismissalAfterEnd({ 'dismissal-date': 1_799_999_999 }, now)).toBeUndefined();
    expect(dismissalAfterEnd({ 'dismissal-date': 1_800_000_600 }, now)).toBe(1_800_000_600);
  });

  it('refuses a start without attributes with MissingLiveActivityKey', () => {
    const start = job(
      { event: 'start', 'attributes-type': 'T', 'content-state': {}, alert: 'x' },
      { to: { userIds: ['a'] } },
    );
    expect(() => checkLiveActivityJob(start)).toThrow(
      expect.objectContaining({ code: 'MissingLiveActivityKey' }),
    );
    expect(() => checkLiveActivityJob({ ...start, aps: { ...start.aps, attributes: {} } })).not.toThrow();
  });

  it('accepts URL-safe activity ids up to 128 characters and refuses the rest with InvalidActivityId', () => {
    expect(parseActivityId('order-123_A.b~c')).toBe('order-123_A.b~c');
    expect(parseActivityId('a'.repeat(128))).toHaveLength(128);
    for (const bad of ['', 'a'.repeat(129), 'order/1', 'order 1', '-order', 'ordér']) {
      expect(() => parseActivityId(bad), bad).toThrow(expect.objectContaining({ code: 'InvalidActivityId' }));
    }
  });
});
