import { join, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { IngestService } from '@plexus/identity';
import { startTestApp, TEST_ADMIN_KEY, type TestApp } from '../support/app.js';
import { call } from '../support/http.js';
import { ensureConsoleBuilt, launchChromium, seriousViolations } from '../support/console.js';
import { ingestTwoPeopleAndAMerge } from '../stats/support.js';

const SCREENSHOTS = resolve(import.meta.dirname, '../../docs/console');

/**
 * The console's operations pages in Chromium against a real hub: the overview's charts read from the stats
 * endpoints (records per day by source, events per minute, profiles and merges, queue depths), and the audit
 * log with its filters and each entry's changes.
 */
describe('the console’s overview and audit log in a browser', () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  const url = (path: string) => `${t.url}/console${path}`;
  const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });

  async function expectAccessible(label: string): Promise<void> {
    expect({ page: label, serious: await seriousViolations(page) }).toEqual({ page: label, serious: [] });
  }

  beforeAll(async () => {
    ensureConsoleBuilt();
    mkdirSync(SCREENSHOTS, { recursive: true });
    t = await startTestApp({ label: 'console_operations' });
    const ingest = t.app.get(IngestService);
    const now = new Date().toISOString();
    await ingestTwoPeopleAndAMerge(ingest, [now, now]);
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(url(`/#key=${encodeURIComponent(TEST_ADMIN_KEY)}`));
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('charts records in per day by source, events per minute, profiles and merges, and queue depths', async () => {
    await nav('Overview').click();
    await page.getByRole('img', { name: 'Records in per day: 3 records in 30 days from crm, shop' }).waitFor();
    await page.getByRole('img', { name: 'Events per minute: 2 events in the last 60 minutes' }).waitFor();
    await page
      .getByRole('img', { name: 'Profiles and merges: 1 profiles now; 2 created and 1 merges in 30 days' })
      .waitFor();
    await page.getByRole('img', { name: /^Queue depths: .*sync \d+ waiting/ }).waitFor();
    // The bars are drawn: one per source on today's column.
    const records = page.getByRole('img', { name: /^Records in per day/ });
    expect(await records.locator('.recharts-bar-rectangle').count()).toBeGreaterThanOrEqual(2);
    await expectAccessible('overview');
    await page.screenshot({ path: join(SCREENSHOTS, 'overview.png') });
  });

  it('lists the audit log newest first, filters it on the server and shows what an entry changed', async () => {
    const admin = { headers: t.auth };
    const created = await call(t.url, 'POST', '/v1/sources', {
      ...admin,
      body: { name: 'Web', connector: 'http-events', config: {} },
    });
    expect(created.status).toBe(201);
    const renamed = await call(t.url, 'PATCH', `/v1/sources/${created.body.id}`, {
      ...admin,
      body: { name: 'Website' },
    });
    expect(renamed.status).toBe(200);
    const key = await call(t.url, 'POST', '/v1/api-keys', { ...admin, body: { name: 'auditor', scopes: ['read'] } });
    expect(key.status).toBe(201);

    await nav('Audit log').click();
    const log = page.getByRole('table', { name: 'Audit log' });
    await log.getByText('POST /v1/api-keys').waitFor();
    const actions = await log.locator('tbody tr td:nth-child(3)').allTextContents();
    expect(actions.slice(0, 3)).toEqual(['POST /v1/api-keys', 'PATCH /v1/sources/:id', 'POST /v1/sources']);

    const targetType = page
      .getByRole('combobox', { name: 'Target type' })
      .or(page.getByRole('textbox', { name: 'Target type' }));
    await targetType.fill('sources');
    await page.keyboard.press('Escape');
    await page.getByRole('textbox', { name: 'Target id' }).fill(created.body.id);
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForFunction(
      () => (globalThis as any).document.querySelectorAll('table[aria-label="Audit log"] tbody tr').length === 2,
    );
    expect(await log.locator('tbody tr td:nth-child(3)').allTextContents()).toEqual([
      'PATCH /v1/sources/:id',
      'POST /v1/sources',
    ]);
    await expectAccessible('audit log');
    await page.screenshot({ path: join(SCREENSHOTS, 'audit.png') });

    await log
      .getByRole('row')
      .filter({ hasText: 'PATCH' })
      .getByRole('button', { name: /^Show \d+ changes$/ })
      .click();
    const changed = page.getByRole('dialog').getByRole('table', { name: 'Changed fields' });
    const name = changed.getByRole('row').filter({ hasText: /^name/ });
    expect(await name.getByRole('cell').allTextContents()).toEqual(['name', '"Web"', '"Website"']);
    await expectAccessible('audit entry');
    await page.keyboard.press('Escape');

    // A filter that matches nothing says so.
    await page.getByRole('textbox', { name: 'Action' }).fill('DELETE /v1/sources/:id');
    await page.getByRole('button', { name: 'Filter' }).click();
    await log.getByText('No entries match.').waitFor();
  });
});
