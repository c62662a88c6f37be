import { describe, expect, it } from 'vitest';
import { ApnsConnection } from '../../lambda/adapters/secondary/apns/apns-gateway';

const endpoint = { address: '127.0.0.1:1' };

describe('ApnsConnection', () => {
  it('refuses certificate credentials TLS cannot use when it is created, not later in an event handler', () => {
    expect(
      () =>
        new ApnsConnection({ kind: 'certificate', cert: 'not a PEM', key: 'not a PEM' }, 'sandbox', endpoint),
    ).toThrow();
  });

  it('needs the shared provider token source for token credentials', () => {
    expect(
      () => new ApnsConnection({ kind: 'token', keyId: 'K', teamId: 'T', key: 'k' }, 'sandbox', endpoint),
    ).toThrow(/provider token/);
  });
});
