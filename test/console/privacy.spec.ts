import { join, resolve } from 'node:path';
import { mkdirSync, readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { IngestService } from '@plexus/identity';
import { startTestApp, TEST_ADMIN_KEY, type TestApp } from '../support/app.js';
import { call } from '../support/http.js';
import { ensureConsoleBuilt, launchChromium, seriousViolations } from '../support/console.js';

const SCREENSHOTS = resolve(import.meta.dirname, '../../docs/console');

/**
 * The privacy pages in Chromium against a real hub with its workers: an export filed and downloaded, a delete
 * confirmed and watched step by step until it completes, the API's message for an identifier it refuses, the
 * request list filtered by status, and the retention policy edited and swept.
 */
describe('the console’s privacy pages in a browser', () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  const url = (path: string) => `${t.url}/console${path}`;
  const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
  const select = (name: string) =>
    page.getByRole('combobox', { name, exact: true }).or(page.getByRole('textbox', { name, exact: true }));
  const api = (method: string, path: string, body?: unknown) => call(t.url, method, path, { headers: t.auth, body });

  async function expectAccessible(label: string): Promise<void> {
    expect({ page: label, serious: await seriousViolations(page) }).toEqual({ page: label, serious: [] });
  }

  async function fileRequest(type: string, identifierType: string, value: string): Promise<void> {
    await select('Request').click();
    await page.getByRole('option', { name: new RegExp(`^${type}:`) }).click();
    await select('Identifier type').click();
    await page.getByRole('option', { name: identifierType, exact: true }).click();
    await page.getByLabel('Identifier value').fill(value);
    await page.getByRole('button', { name: 'File request' }).click();
  }

  /** Waits until the request page shows the request completed; returns each step's status. */
  async function waitForCompletion(): Promise<Record<string, string>> {
    await page.getByTestId('request-status').getByText('completed', { exact: true }).waitFor({ timeout: 30_000 });
    const rows = await page.getByRole('table', { name: 'Steps' }).locator('tbody tr').all();
    const steps: Record<string, string> = {};
    for (const row of rows) {
      const cells = await row.getByRole('cell').allTextContents();
      steps[cells[0] ?? ''] = cells[1] ?? '';
    }
    return steps;
  }

  beforeAll(async () => {
    ensureConsoleBuilt();
    mkdirSync(SCREENSHOTS, { recursive: true });
    t = await startTestApp({ label: 'console_privacy' });
    await t.app.get(IngestService).ingest(
      [
        {
          identifiers: [
            { type: 'email', value: 'ann@plexus-test.io' },
            { type: 'phone', value: '+1 415 555 2671' },
          ],
          traits: { firstName: 'Ann' },
        },
        { identifiers: [{ type: 'email', value: 'bob@plexus-test.io' }], traits: { firstName: 'Bob' } },
      ],
      { sourceId: 'crm' },
    );
    browser = await launchChromium();
    page = await (
      await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true })
    ).newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(url(`/#key=${encodeURIComponent(TEST_ADMIN_KEY)}`));
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('shows the API’s message, naming the field, for an identifier it refuses', async () => {
    await nav('Privacy requests').click();
    await page.getByText('No privacy requests yet.').waitFor();
    await expectAccessible('privacy requests');
    await fileRequest('export', 'phone', 'not a phone');
    await page
      .getByRole('alert')
      .getByText(/identifier\.value/)
      .waitFor();
    expect((await api('GET', '/v1/privacy/requests')).body.data).toEqual([]);
  });

  it('files an export, watches it complete and downloads the document', async () => {
    await fileRequest('export', 'email', '  BOB@Plexus-Test.io ');
    await page.getByRole('heading', { name: 'Export request', level: 1 }).waitFor();
    expect(await waitForCompletion()).toEqual({ resolve: 'done', export: 'done' });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download export' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('plexus-export.json');
    const document = readFileSync((await download.path()) ?? '', 'utf8');
    expect(document).toContain('bob@plexus-test.io');
    expect(document).not.toContain('ann@plexus-test.io');
  });

  it('asks before a delete, then shows each step of the erasure live until it completes', async () => {
    await nav('Privacy requests').click();
    await fileRequest('delete', 'email', '  Ann@PLEXUS-test.IO');
    const dialog = page.getByRole('dialog', { name: 'Erase this person?' });
    await dialog.waitFor();
    // axe reads colours: wait until the modal's opening transition has ended.
    await page.waitForFunction(() => (globalThis as any).document.getAnimations().length === 0);
    await expectAccessible('delete confirmation');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await api('GET', '/v1/privacy/requests')).body.data).toHaveLength(1);

    await page.getByRole('button', { name: 'File request' }).click();
    await dialog.getByRole('button', { name: 'Erase the person' }).click();
    await page.getByRole('heading', { name: 'Delete request', level: 1 }).waitFor();
    expect(await waitForCompletion()).toEqual({
      resolve: 'done',
      suppress: 'done',
      erase: 'done',
      'remove-from-destinations': expect.stringMatching(/^(done|skipped)$/),
      'delete-at-destinations': expect.stringMatching(/^(done|skipped)$/),
      'erase-ledger': expect.stringMatching(/^(done|skipped)$/),
      verify: 'done',
    });
    expect(await page.getByRole('progressbar', { name: 'Request progress' }).getAttribute('aria-valuenow')).toBe('100');
    await page.getByText('7 of 7 steps done').waitFor();
    await expectAccessible('delete request');
    await page.screenshot({ path: join(SCREENSHOTS, 'privacy.png') });
    // Ann is gone, Bob is not; a completed request no longer shows the value it was filed with.
    expect((await api('GET', '/v1/profiles?identifier=email:ann@plexus-test.io')).body.data).toEqual([]);
    expect((await api('GET', '/v1/profiles?identifier=email:bob@plexus-test.io')).body.data).toHaveLength(1);
    expect(await page.content()).not.toContain('ann@plexus-test.io');
  });

  it('lists the requests newest first and filters them by status on the server', async () => {
    await nav('Privacy requests').click();
    const table = page.getByRole('table', { name: 'Privacy requests' });
    await table.getByText('delete', { exact: true }).waitFor();
    expect(await table.locator('tbody tr td:nth-child(2)').allTextContents()).toEqual(['delete', 'export']);
    await select('Status').click();
    await page.getByRole('option', { name: 'waiting' }).click();
    await page.getByText('No waiting requests.').waitFor();
    await select('Status').click();
    await page.getByRole('option', { name: 'completed' }).click();
    await table.getByText('export', { exact: true }).waitFor();
    expect(await table.locator('tbody tr td:nth-child(4)').allTextContents()).toEqual(['completed', 'completed']);
  });

  it('shows and edits the retention policy, and runs a sweep', async () => {
    await nav('Retention').click();
    await page.waitForURL(/\/retention$/);
    // The page shows its heading once the policy is loaded, or an alert saying why it could not be.
    const heading = page.getByRole('heading', { name: 'Retention', level: 1 });
    await heading.or(page.getByRole('alert')).first().waitFor({ timeout: 40_000 });
    if (!(await heading.isVisible()))
      throw new Error(`retention page: ${await page.getByRole('alert').first().innerText()}`);
    await page.getByLabel('Delete events after (days)').fill('395');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText('Policy saved.').waitFor();
    expect((await api('GET', '/v1/retention')).body.policy.eventsDays).toBe(395);
    await page.getByLabel('Delete export documents after (days)').fill('0');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page
      .getByRole('alert')
      .getByText(/exportsDays/)
      .waitFor();
    await page.getByRole('button', { name: 'Sweep now' }).click();
    const sweeps = page.getByRole('table', { name: 'Sweeps' });
    await sweeps.getByText('succeeded').waitFor({ timeout: 30_000 });
    await expectAccessible('retention');
  });

  it('is usable at 390 px', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const [latest] = (await api('GET', '/v1/privacy/requests')).body.data;
    for (const path of ['/privacy', `/privacy/requests/${latest.id}`, '/retention']) {
      await page.goto(url(path));
      // A first load on a machine busy with the other test files can take long (a CI run timed out at 20 s).
      await page.getByRole('heading', { level: 1 }).waitFor({ timeout: 40_000 });
      const overflow = await page.evaluate(
        () => (globalThis as any).document.documentElement.scrollWidth - (globalThis as any).innerWidth,
      );
      expect({ path, overflow: Math.max(overflow, 0) }).toEqual({ path, overflow: 0 });
      await expectAccessible(`${path} at 390 px`);
    }
  }, 150_000);
});
