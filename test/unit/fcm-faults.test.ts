import { describe, expect, it } from 'vitest';
import { fcmFaultsRoute } from '../../local/fcm-faults-route';
import { FcmSimulator } from '../../local/fcm-simulator/simulator';

describe('/_local/fcm/faults: the OAuth token endpoint', () => {
  it('takes a tokenEndpoint fault next to token and connection faults, and reports it', () => {
    const simulator = new FcmSimulator({ serviceAccounts: [] });
    const script = {
      tokenEndpoint: { status: 400, error: 'invalid_grant', times: 2 },
      connection: { resetEvery: 5 },
    };
    const answer = fcmFaultsRoute(simulator, 'POST', JSON.stringify(script));
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      script,
      done: { goaways: 0, resets: 0, stalls: 0, tokenFaults: 0, tokenEndpointFaults: 0 },
    });
    expect(fcmFaultsRoute(simulator, 'DELETE', '').status).toBe(204);
    expect(simulator.faultReport().script).toEqual({});
  });

  it.each([
    ['an error that is not an OAuth error code', { tokenEndpoint: { status: 400, error: 'Invalid Grant' } }],
    ['a status that is not an error', { tokenEndpoint: { status: 200 } }],
    ['an unknown field', { tokenEndpoint: { delayMs: 5 } }],
  ])('refuses %s with InvalidFaultScript', (_name, script) => {
    const answer = fcmFaultsRoute(new FcmSimulator({ serviceAccounts: [] }), 'POST', JSON.stringify(script));
    expect(answer.status).toBe(400);
    expect((answer.body as { error: { code: string } }).error.code).toBe('InvalidFaultScript');
  });
});
