import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApnsConnection } from '../../lambda/adapters/secondary/apns/apns-gateway';
import {
  MemoryProviderTokenStore,
  type ProviderTokenStore,
  ProviderTokens,
} from '../../lambda/adapters/secondary/apns/provider-token';
import { providerTokenTable } from '../../lambda/adapters/secondary/provider-token-table';
import type { RawApnsAnswer } from '../../lambda/domain/apns-answer';
import { createLocalProviderKey } from '../../local/apns-credentials';
import { type ApnsSimulator, startApnsSimulator } from '../../local/apns-simulator/simulator';
import { TEST_APP_ID } from '../support/embedded-services';

/**
 * The provider token across a fleet: sender "containers" — each its own token
 * cache and its own HTTP/2 connection, as separate Lambda execution environments
 * have — sharing only the Notifications table, against the simulator, on one clock
 * the test moves through hours.
 */
const MINUTE = 60_000;
const START = Date.parse('2026-03-01T09:00:00Z');
let now = START;
const clock = () => now;
let simulator: ApnsSimulator;
let key: { keyId: string; teamId: string; key: string };
const request = {
  headers: { 'apns-topic': TEST_APP_ID, 'apns-push-type': 'alert', 'apns-priority': '10' },
  body: JSON.stringify({ aps: { alert: 'fleet' } }),
};

beforeAll(async () => {
  const path = join(tmpdir(), `pushgate-fleet-${process.pid}-${Date.now()}.json`);
  const created = createLocalProviderKey(path);
  key = JSON.parse(readFileSync(path, 'utf8'));
  simulator = await startApnsSimulator({ providerKeys: [created], bundleIds: [TEST_APP_ID], clock });
});
afterAll(() => simulator.stop());

class Container {
  readonly tokens: ProviderTokens;
  readonly connection: ApnsConnection;

  constructor(store: ProviderTokenStore, containerClock: () => number = clock) {
    this.tokens = new ProviderTokens(key, store, containerClock);
    this.connection = new ApnsConnection(
      { kind: 'token', ...key },
      'production',
      { address: simulator.endpoints.production, ca: simulator.ca },
      { tokens: this.tokens },
    );
  }

  send(count: number): Promise<RawApnsAnswer[]> {
    return this.connection.sendAll(
      request,
      Array.from({ length: count }, () => randomBytes(32).toString('hex')),
    );
  }
}

const refusals = (answers: RawApnsAnswer[]) =>
  answers.filter((answer) => answer.status !== 200).map((answer) => answer.reason ?? answer.transportError);

describe('one provider token for the whole fleet', () => {
  it('20 containers over 2 hours, with cold starts, mint 3 tokens in all and never send one older than 50 minutes', async () => {
    simulator.reset();
    now = START;
    const fleet = Array.from({ length: 20 }, () => new Container(providerTokenTable));
    const everyContainer = [...fleet];
    const answers: RawApnsAnswer[] = [];
    for (let minutes = 0; minutes <= 120; minutes += 5) {
      now = START + minutes * MINUTE;
      // A cold start every step: a new execution environment with an empty cache.
      const cold = (minutes / 5) % fleet.length;
      void fleet[cold]?.connection.close();
      fleet[cold] = new Container(providerTokenTable);
      everyContainer.push(fleet[cold] as Container);
      for (const sent of await Promise.all(fleet.map((container) => container.send(10))))
        answers.push(...sent);
    }
    await Promise.all(fleet.map((container) => container.connection.close()));

    expect(answers).toHaveLength(25 * 20 * 10);
    expect(refusals(answers)).toEqual([]);
    // A token at 0, 50 and 100 minutes: each minted once, by one container, and used by all.
    expect(simulator.providerTokens.map((seen) => (seen.issuedAt * 1000 - START) / MINUTE)).toEqual([
      0, 50, 100,
    ]);
    expect(everyContainer.reduce((sum, container) => sum + container.tokens.minted, 0)).toBe(3);
    expect(simulator.stats.maxProviderTokenAgeSeconds).toBeLessThan(50 * 60);
    const stored = await providerTokenTable.read(fleet[0]?.tokens.keyName ?? '');
    expect(stored?.issuedAt).toBe((START + 100 * MINUTE) / 1000);
  });

  it('APNs refuses a second token for the key within 20 minutes, and a token older than 60 minutes', async () => {
    simulator.reset();
    now = START + 300 * MINUTE;
    // Containers that each mint their own token, as every container did before the shared store.
    const first = new Container(new MemoryProviderTokenStore());
    expect(refusals(await first.send(3))).toEqual([]);
    now += 5 * MINUTE;
    const second = new Container(new MemoryProviderTokenStore());
    expect(refusals(await second.send(3))).toEqual([
      'TooManyProviderTokenUpdates',
      'TooManyProviderTokenUpdates',
      'TooManyProviderTokenUpdates',
    ]);
    const [answer] = await second.send(1);
    expect(answer?.status).toBe(429);
    // The first token is still good for everyone; a new one is accepted 20 minutes after it.
    expect(refusals(await first.send(1))).toEqual([]);
    now += 16 * MINUTE;
    const third = new Container(new MemoryProviderTokenStore());
    expect(refusals(await third.send(2))).toEqual([]);
    // A container whose clock is 61 minutes behind signs a token APNs finds too old.
    const late = new Container(new MemoryProviderTokenStore(), () => now - 61 * MINUTE);
    expect(refusals(await late.send(2))).toEqual(['ExpiredProviderToken', 'ExpiredProviderToken']);
    expect(simulator.providerTokens).toHaveLength(2);
    await Promise.all([first, second, third, late].map((container) => container.connection.close()));
  });
});
