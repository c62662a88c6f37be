import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
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

/** Registers a new device for `user` through the API, as the app would; its token. */
async function registerDevice(user: string): Promise<string> {
  const minted = await fetch(`${offline.base}/_local/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sub: user }),
  });
  const { token: jwt } = (await minted.json()) as { token: string };
  const token = randomBytes(32).toString('hex');
  const registered = await fetch(`${offline.base}/v1/devices/${token}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
    body: JSON.stringify({ appId: 'com.example.app', environment: 'sandbox' }),
  });
  expect(registered.status).toBe(201);
  return token;
}

/** The notifications list's row for one notification. */
const notificationRow = (page: Page, id: string) => page.locator(`#notifications tr[data-id="${id}"]`);

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
      .poll(() => page.locator('#result').textContent(), { timeout: 15_000 })
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

  it('shows each device’s platform, and an Android device’s push in the FCM inbox', async () => {
    const minted = await fetch(`${offline.base}/_local/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"sub":"fiona"}',
    });
    const { token: jwt } = (await minted.json()) as { token: string };
    const pixel = `${randomBytes(8).toString('base64url')}:APA91b${randomBytes(60).toString('base64url')}`;
    const registered = await fetch(`${offline.base}/v1/devices/${encodeURIComponent(pixel)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
      body: JSON.stringify({ appId: 'com.example.app', platform: 'android' }),
    });
    expect(registered.status).toBe(201);
    const phone = await registerDevice('fiona');
    const page = await browser.newPage();
    await page.goto(offline.base);
    await expect.poll(() => page.locator('#devices').textContent()).toContain('fiona');
    const platformOf = (token: string) =>
      page
        .locator('#devices tr')
        .filter({ hasText: token.slice(0, 8) })
        .locator('td')
        .nth(2)
        .textContent();
    expect(await platformOf(pixel)).toBe('android');
    expect(await platformOf(phone)).toBe('ios');
    await page.fill('#send-user', 'fiona');
    await page.fill('#send-title', 'To every platform');
    await page.click('#send');
    await expect
      .poll(() => page.locator(`tr.inbox-entry[data-token="${pixel}"]`).count(), { timeout: 60_000 })
      .toBe(1);
    expect(await page.locator(`tr.inbox-entry[data-token="${pixel}"]`).textContent()).toContain(
      'To every platform',
    );
    await expect.poll(() => page.locator(`#inbox tr[data-token="${phone}"]`).count()).toBe(1);
    expect(await page.textContent('body')).toContain('GET /_local/fcm/inbox');
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
  it('lists every send from the tables with its outcome: one that reached nobody says why; a click opens its detail', async () => {
    const token = await registerDevice('erin');
    const page = await browser.newPage();
    await page.goto(offline.base);
    for (const user of ['erin', 'nobody-registered']) {
      await page.fill('#send-user', user);
      await page.click('#send');
      await expect
        .poll(() => page.locator('#result').textContent(), { timeout: 15_000 })
        .toContain(`for ${user}`);
    }
    const sent = /Queued notification (\S+) for nobody-registered/.exec(
      (await page.locator('#result').textContent()) ?? '',
    )?.[1];
    expect(sent).toBeDefined();
    await expect
      .poll(() => notificationRow(page, sent ?? '').textContent(), { timeout: 60_000 })
      .toContain('has no device registered for app com.example.app');
    const erinRow = page.locator('#notifications tr', { hasText: 'erin' });
    await expect.poll(() => erinRow.textContent(), { timeout: 60_000 }).toContain('1 accepted');
    await erinRow.click();
    await expect.poll(() => page.locator('#detail').isVisible(), { timeout: 15_000 }).toBe(true);
    expect(await page.locator('#detail-summary').textContent()).toContain('tracked');
    expect(await page.locator('#detail-devices').textContent()).toContain('accepted');
    const push = page.locator('#detail-pushes tr');
    await expect.poll(() => push.count(), { timeout: 15_000 }).toBe(1);
    expect(await push.textContent()).toContain('apns-push-type: alert');
    // The inbox shows the APNs headers too.
    expect(await page.locator(`#inbox tr[data-token="${token}"]`).textContent()).toContain(
      'apns-topic: com.example.app',
    );
  }, 120_000);

  it('the send form can target a token, add data, leave tracking off, and take raw JSON', async () => {
    const token = await registerDevice('fred');
    const page = await browser.newPage();
    await page.goto(offline.base);
    await page.selectOption('#send-to', 'tokens');
    await page.fill('#send-user', token);
    await page.fill('#send-data', '{"orderId": "A-123"}');
    await page.uncheck('#send-track');
    await page.click('#send');
    await expect
      .poll(() => page.locator('#result').textContent(), { timeout: 15_000 })
      .toMatch(/1 token, untracked/);
    const entry = page.locator(`#inbox tr[data-token="${token}"]`);
    await expect.poll(() => entry.count(), { timeout: 60_000 }).toBe(1);
    expect(await entry.textContent()).toContain('"orderId":"A-123"');

    await page.check('#send-raw');
    await page.fill(
      '#send-json',
      JSON.stringify({
        notificationId: 'raw-json-1',
        appId: 'com.example.app',
        to: { userIds: ['fred'] },
        aps: { alert: 'raw' },
        apns: { collapseId: 'order-A-123' },
        track: { receipts: true },
      }),
    );
    await page.click('#send');
    await expect
      .poll(() => page.locator('#result').textContent(), { timeout: 15_000 })
      .toContain('Queued notification raw-json-1');
    await expect
      .poll(() => notificationRow(page, 'raw-json-1').textContent(), { timeout: 60_000 })
      .toContain('1 accepted');
    await notificationRow(page, 'raw-json-1').click();
    await expect
      .poll(() => page.locator('#detail-summary').textContent(), { timeout: 15_000 })
      .toContain('collapse id: order-A-123');
  }, 120_000);

  it('searches notifications by user and by notification id', async () => {
    const page = await browser.newPage();
    await page.goto(offline.base);
    await expect.poll(() => notificationRow(page, 'raw-json-1').count(), { timeout: 30_000 }).toBe(1);
    await page.fill('#search', 'raw-json');
    await expect.poll(() => page.locator('#notifications tr').count(), { timeout: 15_000 }).toBe(1);
    await page.fill('#search', 'erin');
    await expect.poll(() => page.locator('#notifications tr').count(), { timeout: 15_000 }).toBe(1);
    await expect
      .poll(() => page.locator('#notifications').textContent(), { timeout: 15_000 })
      .toContain('erin');
    expect(await page.locator('#notifications tr').count()).toBe(1);
    await page.fill('#search', 'nobody-at-all');
    await expect.poll(() => page.locator('#notifications tr').count(), { timeout: 15_000 }).toBe(0);
  }, 120_000);

  it('scripts a fault from the page; dead-lettered jobs show with their reason, and can be discarded or redriven', async () => {
    const token = await registerDevice('gail');
    const page = await browser.newPage();
    await page.goto(offline.base);
    await expect.poll(() => page.locator('#faults').inputValue(), { timeout: 15_000 }).toBe('{}');
    await page.fill(
      '#faults',
      JSON.stringify({ tokens: { [token]: { status: 400, reason: 'TopicDisallowed' } } }),
    );
    await page.click('#faults-save');
    await expect
      .poll(() => page.locator('#faults-result').textContent(), { timeout: 15_000 })
      .toBe('Fault script saved.');
    await page.fill('#send-user', 'gail');
    for (let sent = 0; sent < 2; sent++) {
      await page.click('#send');
      await expect
        .poll(() => page.locator('#result').textContent(), { timeout: 15_000 })
        .toContain('for gail');
      await page.evaluate("document.getElementById('result').textContent = ''");
    }
    const letters = page.locator('#dead-letters tr.dead-letter', { hasText: 'TopicDisallowed' });
    await expect.poll(() => letters.count(), { timeout: 60_000 }).toBe(2);
    await expect.poll(() => page.locator('#dlq').textContent(), { timeout: 15_000 }).toBe('2');
    const gailRow = page.locator('#notifications tr', { hasText: 'gail' }).first();
    await expect
      .poll(() => gailRow.textContent(), { timeout: 30_000 })
      .toContain('moved to the dead-letter queue (TopicDisallowed');
    // Peeking for the panel leaves the jobs on the queue, visible.
    await page.reload();
    await expect.poll(() => page.locator('#dlq').textContent(), { timeout: 15_000 }).toBe('2');

    // Discard deletes exactly one job.
    await letters.first().locator('button.discard').click();
    await expect
      .poll(() => page.locator('#dead-letter-result').textContent(), { timeout: 15_000 })
      .toBe('Discarded the job.');
    await expect.poll(() => page.locator('#dlq').textContent(), { timeout: 15_000 }).toBe('1');

    // With the fault cleared, a redrive delivers the other.
    await page.click('#faults-clear');
    await expect.poll(() => page.locator('#faults').inputValue(), { timeout: 15_000 }).toBe('{}');
    await letters.first().locator('button.redrive').click();
    await expect
      .poll(() => page.locator('#dead-letter-result').textContent(), { timeout: 15_000 })
      .toContain('Moved 1 job with reason TopicDisallowed');
    await expect.poll(() => page.locator('#dlq').textContent(), { timeout: 15_000 }).toBe('0');
    await expect
      .poll(() => page.locator(`#inbox tr[data-token="${token}"]`).count(), { timeout: 60_000 })
      .toBe(1);
  }, 180_000);

  it('is usable 390 px wide: nothing overflows sideways', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(offline.base);
    await expect
      .poll(() => page.locator('#notifications tr').count(), { timeout: 30_000 })
      .toBeGreaterThan(0);
    await expect.poll(() => page.locator('#inbox tr').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    expect(await page.locator('#send').isVisible()).toBe(true);
  }, 120_000);
});
