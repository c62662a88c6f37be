import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Offline, startOffline } from './offline-process';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// `npm test` on a fresh machine may have no browser: the test is skipped and says why.
// `.ci/run` installs Chromium and sets PUSHGATE_REQUIRE_BROWSER=1, so there a missing browser fails.
const browserRequired = process.env.PUSHGATE_REQUIRE_BROWSER === '1';
const browserPresent = existsSync(CHROMIUM);
if (!browserPresent && !browserRequired) {
  console.warn(
    `dashboard test skipped: no Chromium at ${CHROMIUM} (install Debian's chromium or set CHROMIUM_PATH; .ci/run does)`,
  );
}

let offline: Offline;
let browser: Browser;

describe.runIf(browserPresent || browserRequired)('dashboard (headless Chromium)', () => {
  beforeAll(async () => {
    if (!browserPresent)
      throw new Error(`Chromium not found at ${CHROMIUM}: .ci/run installs Debian's chromium`);
    offline = await startOffline();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await offline?.stop();
  });

  it('sending from the dashboard form shows the notification in the inbox view', async () => {
    const minted = await fetch(`${offline.base}/_local/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"sub":"carol"}',
    });
    const { token: jwt } = (await minted.json()) as { token: string };
    const token = randomBytes(32).toString('hex');
    await fetch(`${offline.base}/v1/devices/${token}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
      body: JSON.stringify({ appId: 'com.example.app', environment: 'sandbox' }),
    });

    const page = await browser.newPage();
    await page.goto(offline.base);
    await expect.poll(() => page.locator('#devices').textContent()).toContain('carol');
    await page.fill('#send-user', 'carol');
    await page.fill('#send-title', 'From the dashboard');
    await page.click('#send');
    await expect
      .poll(() => page.locator('#result').textContent())
      .toMatch(/Queued notification .* for carol/);
    await expect
      .poll(() => page.locator(`#inbox tr[data-token="${token}"]`).count(), { timeout: 60_000 })
      .toBe(1);
    expect(await page.locator(`#inbox tr[data-token="${token}"]`).textContent()).toContain(
      'From the dashboard',
    );
    expect(await page.locator('#dlq').textContent()).toBe('0');
    // The total counts everything the simulator accepted, not just the rows shown.
    await expect.poll(() => page.locator('#inbox-total').textContent()).toBe('1');
  }, 120_000);

  it('shows each user’s token kinds: devices and Live Activity push-to-start and update tokens', async () => {
    const minted = await fetch(`${offline.base}/_local/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"sub":"dora"}',
    });
    const { token: jwt } = (await minted.json()) as { token: string };
    const headers = { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' };
    const registrations = [
      [
        `/v1/live-activities/push-to-start/${randomBytes(32).toString('hex')}`,
        { attributesType: 'DeliveryAttributes' },
      ],
      [`/v1/live-activities/order-42/tokens/${randomBytes(32).toString('hex')}`, {}],
    ] as const;
    for (const [path, extra] of registrations) {
      const answer = await fetch(`${offline.base}${path}`, {
        method: 'PUT',
        headers,
        body: JSON.stringify({ appId: 'com.example.app', environment: 'sandbox', ...extra }),
      });
      expect(answer.status).toBe(201);
    }
    const page = await browser.newPage();
    await page.goto(offline.base);
    await expect
      .poll(() => page.locator('#devices').textContent())
      .toContain('push-to-start (DeliveryAttributes)');
    expect(await page.locator('#devices').textContent()).toContain('update (order-42)');
  }, 120_000);
});
