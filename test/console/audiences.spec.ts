import { join, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { IngestService } from '@plexus/identity';
import type { ProfileRecord } from '@plexus/sdk';
import { startTestApp, TEST_ADMIN_KEY, type TestApp } from '../support/app.js';
import { call } from '../support/http.js';
import { ensureConsoleBuilt, seriousViolations, launchChromium } from '../support/console.js';

const SCREENSHOTS = resolve(import.meta.dirname, '../../docs/console');

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();
const order = (id: string, days: number, total: number) => ({
  id,
  name: 'Order Completed',
  occurredAt: daysAgo(days),
  properties: { total },
});

/** Ann: French, ads consent, two orders this month. Bob: French, one old order. Cyd: American. */
const PEOPLE: ProfileRecord[] = [
  {
    identifiers: [{ type: 'email', value: 'ann@plexus-test.io' }],
    traits: { country: 'FR', plan: 'pro' },
    consent: { ads: true },
    events: [order('a1', 3, 60), order('a2', 10, 80)],
  },
  {
    identifiers: [{ type: 'email', value: 'bob@plexus-test.io' }],
    traits: { country: 'FR', plan: 'free' },
    events: [order('b1', 200, 20)],
  },
  { identifiers: [{ type: 'email', value: 'cyd@plexus-test.io' }], traits: { country: 'US', plan: 'pro' } },
];

/**
 * The audience pages in Chromium against a real hub: the visual rule builder and its JSON view edited both ways
 * with the live size preview, creating an audience, its members with reasons, its change log and size over
 * time, overlap between audiences, and the API's message for a rule it refuses.
 */
describe('the console’s audience pages in a browser', () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  const url = (path: string) => `${t.url}/console${path}`;
  const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
  const previewSize = () => page.getByTestId('preview-size');

  async function expectAccessible(label: string): Promise<void> {
    expect({ page: label, serious: await seriousViolations(page) }).toEqual({ page: label, serious: [] });
  }

  beforeAll(async () => {
    ensureConsoleBuilt();
    mkdirSync(SCREENSHOTS, { recursive: true });
    t = await startTestApp({ label: 'console_audiences' });
    const ingest = t.app.get(IngestService);
    for (const person of PEOPLE) await ingest.ingest([person], { sourceId: 'crm' });
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

  it('builds a rule visually, sees its size while editing, and edits the same rule as JSON both ways', async () => {
    await nav('Audiences').click();
    await page.getByText('No audiences yet.').waitFor();
    await page.getByRole('link', { name: 'New audience' }).click();
    await page.getByLabel('Name').fill('French repeat buyers');
    // The new rule starts as one trait condition in an "all" group.
    const first = page.locator('[data-path="rule.all[0]"]');
    await first.getByLabel('Trait').fill('country');
    await first.getByLabel('Value').fill('FR');
    await previewSize().getByText('2 profiles match').waitFor();

    await page.getByRole('button', { name: 'Add condition to rule' }).click();
    await page.getByRole('menuitem', { name: 'Event' }).click();
    const second = page.locator('[data-path="rule.all[1]"]');
    await second.getByLabel('Within').fill('30d');
    await second.getByRole('combobox', { name: 'How many' }).click();
    await page.getByRole('option', { name: 'count gte' }).click();
    await second.getByLabel('Count', { exact: true }).fill('2');
    await previewSize().getByText('1 profile matches').waitFor();
    await expectAccessible('audience builder');
    await page.screenshot({ path: join(SCREENSHOTS, 'audience-builder.png') });

    // The JSON view holds what the builder made; an edit there shows in the builder.
    await page.getByRole('tab', { name: 'JSON' }).click();
    const json = page.getByLabel('Rule (JSON)');
    expect(JSON.parse(await json.inputValue())).toEqual({
      all: [
        { trait: 'country', op: 'eq', value: 'FR' },
        { event: 'Order Completed', within: '30d', count: { op: 'gte', value: 2 } },
      ],
    });
    await json.fill(
      JSON.stringify({
        all: [
          { trait: 'country', op: 'in', value: ['FR', 'US'] },
          { event: 'Order Completed', within: '30d', count: { op: 'gte', value: 2 } },
          { consent: 'ads' },
        ],
      }),
    );
    await page.getByRole('tab', { name: 'Builder' }).click();
    expect(await page.locator('[data-path="rule.all[0]"]').getByLabel('Value').inputValue()).toBe('FR, US');
    expect(await page.locator('[data-path="rule.all[2]"]').getByLabel('Purpose').inputValue()).toBe('ads');
    await previewSize().getByText('1 profile matches').waitFor();

    // A rule the API refuses shows its message, naming the condition.
    await page.getByRole('tab', { name: 'JSON' }).click();
    const valid = await json.inputValue();
    await json.fill(JSON.stringify({ all: [{ trait: 'country', op: 'near', value: 'FR' }] }));
    await page
      .getByTestId('preview')
      .getByRole('alert')
      .getByText(/rule\.all\[0\]\.op/)
      .waitFor();
    await json.fill(valid);
    await previewSize().getByText('1 profile matches').waitFor();
  });

  it('creates the audience and shows its members with the reason, the change log and the size over time', async () => {
    await page.getByRole('button', { name: 'Create audience' }).click();
    await page.getByRole('heading', { name: 'French repeat buyers', level: 1 }).waitFor();
    expect(await page.getByTestId('audience-size').textContent()).toBe('1 member');
    const members = page.getByRole('table', { name: 'Members' });
    await members.locator('tbody tr').first().waitFor();
    expect(await members.locator('tbody tr').count()).toBe(1);
    const why = (await members.locator('tbody tr').first().textContent()) ?? '';
    expect(why).toContain('trait country in ["FR","US"]');
    expect(why).toContain('found "FR"');
    expect(why).toContain('consent ads granted');
    await expectAccessible('audience members');

    // The member's profile page says which audiences hold it, and why.
    await members.getByRole('link').first().click();
    const audiences = page.getByRole('table', { name: 'Audiences' });
    const row = audiences.getByRole('row').filter({ hasText: 'French repeat buyers' });
    await row.waitFor();
    expect(await row.textContent()).toContain('member✓ trait country in ["FR","US"]');
    await page.goBack();
    await page.getByRole('heading', { name: 'French repeat buyers', level: 1 }).waitFor();

    await page.getByRole('tab', { name: 'Changes' }).click();
    const changes = page.getByRole('table', { name: 'Changes' });
    await changes.getByText('entered').waitFor();
    await page.getByRole('tab', { name: 'Size over time' }).click();
    await page.getByRole('img', { name: /Size over time: 1 evaluations, now 1/ }).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'audience.png') });
  });

  it('logs who left and who entered when the rule changes, with the reasons', async () => {
    const french = await call(t.url, 'POST', '/v1/audiences', {
      headers: t.auth,
      body: { name: 'French', rule: { trait: 'country', op: 'eq', value: 'FR' } },
    });
    expect(french.status).toBe(201);
    await page.goto(url(`/audiences/${french.body.id}`));
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByRole('tab', { name: 'JSON' }).click();
    await page.getByLabel('Rule (JSON)').fill(JSON.stringify({ trait: 'plan', op: 'eq', value: 'pro' }));
    await previewSize().getByText('2 profiles match').waitFor();
    await page.getByRole('button', { name: 'Save and re-evaluate' }).click();
    await page.getByRole('heading', { name: 'French', level: 1 }).waitFor();
    await page.getByRole('tab', { name: 'Changes' }).click();
    const rows = page.getByRole('table', { name: 'Changes' }).locator('tbody tr');
    await page.waitForFunction(
      () => (globalThis as any).document.querySelectorAll('table[aria-label="Changes"] tbody tr').length === 4,
    );
    const texts = await rows.allTextContents();
    // Ann and Bob entered; then Bob (free plan) left and Cyd (pro) entered; Ann stayed.
    expect(texts.filter((r) => r.includes('exited'))).toHaveLength(1);
    expect(texts.filter((r) => r.includes('entered'))).toHaveLength(3);
    expect(texts.find((r) => r.includes('exited'))).toContain('✗ trait plan eq "pro" — found "free"');
    await page.getByRole('tab', { name: 'Size over time' }).click();
    await page.getByRole('img', { name: /Size over time: 2 evaluations, now 2/ }).waitFor();
  });

  it('compares audiences: members in common for each pair', async () => {
    await nav('Audiences').click();
    await page.getByRole('table', { name: 'Audiences' }).getByText('French repeat buyers').waitFor();
    await page.getByRole('combobox', { name: 'Audiences to compare' }).click();
    await page.getByRole('option', { name: 'French repeat buyers' }).click();
    await page.getByRole('option', { name: 'French', exact: true }).click();
    await page.keyboard.press('Escape');
    const matrix = page.getByRole('table', { name: 'Members in common' });
    const row = matrix.getByRole('row', { name: /^French repeat buyers/ });
    await row.waitFor();
    // Ann is in both; the repeat buyers audience has 1 member, "French" (now the pro plan) 2.
    expect(await row.getByRole('cell').allTextContents()).toEqual(['1', '1 (100% of French repeat buyers)']);
    await expectAccessible('audiences and overlap');
  });

  it('is usable at 390 px: the builder and the tables fit the width', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const path of ['/audiences/new', '/audiences']) {
      await page.goto(url(path));
      await page.getByRole('heading', { level: 1 }).waitFor();
      if (path.endsWith('new')) await previewSize().waitFor();
      const overflow = await page.evaluate(
        () => (globalThis as any).document.documentElement.scrollWidth - (globalThis as any).innerWidth,
      );
      expect({ path, overflow: Math.max(overflow, 0) }).toEqual({ path, overflow: 0 });
      await expectAccessible(`${path} at 390 px`);
    }
  });
});
