import { join, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { IngestService } from '@plexus/identity';
import { startTestApp, TEST_ADMIN_KEY, type TestApp } from '../support/app.js';
import { ensureConsoleBuilt, launchChromium, seriousViolations } from '../support/console.js';
import { ingestTwoPeopleAndAMerge } from '../stats/support.js';

const SCREENSHOTS = resolve(import.meta.dirname, '../../docs/console');

/**
 * The console's operations pages in Chromium against a real hub: the overview's charts read from the stats
 * endpoints (records per day by source, events per minute, profiles and merges, queue depths).
 */
describe('the console’s overview in a browser', () => {
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
});
