import { describe, expect, it } from 'vitest';
import { apnsFaultsRoute } from '../../local/apns-faults-route';
import { Faults } from '../../local/apns-simulator/faults';
import { ApnsSimulator } from '../../local/apns-simulator/simulator';
import { fcmFaultsRoute } from '../../local/fcm-faults-route';
import { FcmSimulator } from '../../local/fcm-simulator/simulator';

describe('the simulator fault script', () => {
  it('numbers streams from when it is set: every N-th is reset or stalled, reset first', () => {
    const faults = new Faults();
    expect(faults.nextStream()).toBeUndefined();
    faults.replace({ connection: { resetEvery: 3, stallEvery: 2 } });
    expect(Array.from({ length: 6 }, () => faults.nextStream())).toEqual([
      undefined,
      'stall',
      'reset',
      'stall',
      undefined,
      'reset',
    ]);
  });

  it('answers a token as scripted the first `times` times (0 = always), counting what it did', () => {
    const faults = new Faults();
    faults.replace({
      tokens: {
        aa: { status: 429, reason: 'TooManyRequests', retryAfter: 5, times: 2 },
        bb: { status: 410, reason: 'Unregistered', timestamp: 7 },
      },
    });
    expect(faults.forToken('aa')).toEqual({ status: 429, reason: 'TooManyRequests', retryAfter: 5 });
    expect(faults.forToken('aa')).toBeDefined();
    expect(faults.forToken('aa')).toBeUndefined();
    for (let i = 0; i < 5; i++)
      expect(faults.forToken('bb')).toEqual({ status: 410, reason: 'Unregistered', timestamp: 7 });
    expect(faults.forToken('cc')).toBeUndefined();
    faults.count('goaways');
    expect(faults.report().done).toEqual({ goaways: 1, resets: 0, stalls: 0, tokenFaults: 7 });
  });
});

describe('/_local/apns/faults', () => {
  const simulator = new ApnsSimulator({ providerKeys: [] });

  it('POST replaces the script and answers it with what it did; GET the same; DELETE clears it', () => {
    const script = {
      connection: { goawayEvery: 700, resetEvery: 500, stallEvery: 400 },
      tokens: { AB12: { status: 410, reason: 'Unregistered', timestamp: 1767225600000, times: 0 } },
    };
    const posted = apnsFaultsRoute(simulator, 'POST', JSON.stringify(script));
    const expected = {
      script: { ...script, tokens: { ab12: script.tokens.AB12 } },
      done: { goaways: 0, resets: 0, stalls: 0, tokenFaults: 0 },
    };
    expect(posted).toEqual({ status: 200, body: expected });
    expect(apnsFaultsRoute(simulator, 'GET', '')).toEqual({ status: 200, body: expected });
    expect(apnsFaultsRoute(simulator, 'DELETE', '')).toEqual({ status: 204 });
    expect(apnsFaultsRoute(simulator, 'GET', '').body).toEqual({
      script: {},
      done: { goaways: 0, resets: 0, stalls: 0, tokenFaults: 0 },
    });
  });

  it.each([
    ['not JSON', '{', 400, 'MalformedJson'],
    ['a zero interval', '{"connection":{"goawayEvery":0}}', 400, 'InvalidFaultScript'],
    ['an unknown field', '{"connection":{"dropEvery":3}}', 400, 'InvalidFaultScript'],
    ['a token answer without a status', '{"tokens":{"ab":{"reason":"x"}}}', 400, 'InvalidFaultScript'],
    ['a token that is not hex', '{"tokens":{"zz":{"status":410}}}', 400, 'InvalidFaultScript'],
  ])('refuses %s with a clear 4xx', (_name, body, status, code) => {
    const answer = apnsFaultsRoute(simulator, 'POST', body);
    expect(answer.status).toBe(status);
    expect(answer.body).toMatchObject({ error: { code, message: expect.any(String) } });
  });

  it('says so when the real APNs sandbox is in use, and refuses other methods', () => {
    expect(apnsFaultsRoute(undefined, 'GET', '')).toMatchObject({
      status: 409,
      body: { error: { code: 'SimulatorNotRunning' } },
    });
    expect(apnsFaultsRoute(simulator, 'PUT', '{}').status).toBe(405);
  });
});

describe('/_local/fcm/faults', () => {
  const simulator = new FcmSimulator({ serviceAccounts: [] });

  it('keeps FCM tokens exactly as given (they are case-sensitive) and clears like the APNs route', () => {
    const script = {
      connection: { resetEvery: 3 },
      tokens: { 'AbC:d-E_f': { status: 404, errorCode: 'UNREGISTERED', times: 1 } },
    };
    const done = { goaways: 0, resets: 0, stalls: 0, tokenFaults: 0 };
    expect(fcmFaultsRoute(simulator, 'POST', JSON.stringify(script))).toEqual({
      status: 200,
      body: { script, done },
    });
    expect(fcmFaultsRoute(simulator, 'DELETE', '')).toEqual({ status: 204 });
    expect(fcmFaultsRoute(simulator, 'GET', '').body).toEqual({ script: {}, done });
  });

  it.each([
    ['not JSON', '{', 400, 'MalformedJson'],
    [
      'an errorCode that is not FCM-shaped',
      '{"tokens":{"t":{"status":404,"errorCode":"unregistered"}}}',
      400,
      'InvalidFaultScript',
    ],
    ['an APNs reason', '{"tokens":{"t":{"status":410,"reason":"Unregistered"}}}', 400, 'InvalidFaultScript'],
  ])('refuses %s with a clear 4xx', (_name, body, status, code) => {
    expect(fcmFaultsRoute(simulator, 'POST', body)).toMatchObject({
      status,
      body: { error: { code, message: expect.any(String) } },
    });
    expect(fcmFaultsRoute(simulator, 'PATCH', '{}').status).toBe(405);
  });
});
