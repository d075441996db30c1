import { join, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { ActivationEngine } from '@plexus/activation';
import { IngestService } from '@plexus/identity';
import { sha256Hex, type ProfileRecord } from '@plexus/sdk';
import { startMeta, type MetaEmulator } from '../emulators/meta/meta.emulator.js';
import { startTestApp, TEST_ADMIN_KEY, type TestApp } from '../support/app.js';
import { call } from '../support/http.js';
import { until } from '../support/wait.js';
import { ensureConsoleBuilt, launchChromium, seriousViolations } from '../support/console.js';

const SCREENSHOTS = resolve(import.meta.dirname, '../../docs/console');
const TOKEN = 'meta-console-token';

const buyer = (email: string, ads = true): ProfileRecord => ({
  identifiers: [{ type: 'email', value: email }],
  traits: { vip: true },
  consent: { ads },
});

/**
 * The destination and activation pages in Chromium against a real hub (with its workers) and the Meta emulator:
 * an activation created through the form generated from the connector's schema, its delivery run to the end,
 * the ledger searched by an email written another way, and a dead letter made by a throttling Meta, then replayed.
 */
describe('the console’s activation pages in a browser', () => {
  let t: TestApp;
  let meta: MetaEmulator;
  let browser: Browser;
  let page: Page;
  let audienceId: string;
  const url = (path: string) => `${t.url}/console${path}`;
  const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
  /** A select of the component library, by its label (an input with a listbox). */
  const select = (name: string) =>
    page.getByRole('combobox', { name, exact: true }).or(page.getByRole('textbox', { name, exact: true }));
  const api = (method: string, path: string, body?: unknown) => call(t.url, method, path, { headers: t.auth, body });

  async function expectAccessible(label: string): Promise<void> {
    expect({ page: label, serious: await seriousViolations(page) }).toEqual({ page: label, serious: [] });
  }

  /** Waits until the activation's newest run has ended; returns its status. */
  async function waitForRunToEnd(runs: number): Promise<string> {
    await page.waitForFunction(
      (n) => {
        const rows = (globalThis as any).document.querySelectorAll('[data-testid="activation-run"]');
        const status = rows[0]?.getAttribute('data-status');
        return rows.length >= n && ['succeeded', 'partial', 'failed'].includes(status);
      },
      runs,
      { timeout: 30_000 },
    );
    return (await page.getByTestId('activation-run').first().getAttribute('data-status')) ?? '';
  }

  beforeAll(async () => {
    ensureConsoleBuilt();
    mkdirSync(SCREENSHOTS, { recursive: true });
    // Throttling answers ask for 3 minutes: longer than a worker waits, so each one becomes a retry batch.
    meta = await startMeta({ tokens: [TOKEN], adAccounts: ['1000'], rateLimit: false, regainAccessMinutes: 3 });
    t = await startTestApp({ label: 'console_activations' });
    const ingest = t.app.get(IngestService);
    await ingest.ingest(
      [buyer('ann@plexus-test.io'), buyer('bob@plexus-test.io'), buyer('cyd@plexus-test.io', false)],
      {
        sourceId: 'crm',
      },
    );
    const audience = await api('POST', '/v1/audiences', { name: 'VIP', rule: { trait: 'vip', op: 'eq', value: true } });
    expect(audience.status).toBe(201);
    audienceId = audience.body.id;
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(url(`/#key=${encodeURIComponent(TEST_ADMIN_KEY)}`));
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await meta?.close();
  });

  it('creates an activation and its Meta destination through the form generated from the connector’s schema', async () => {
    await nav('Activations').click();
    await page.getByText('No activations yet.').waitFor();
    await page.getByRole('link', { name: 'New activation' }).click();
    await select('Audience').click();
    await page.getByRole('option', { name: 'VIP' }).click();
    await select('Connector').click();
    await page.getByRole('option', { name: 'Meta Custom Audiences' }).click();
    await page.getByLabel('Destination name').fill('Meta ads');
    const token = page.locator('#root_accessToken');
    expect(await token.getAttribute('type')).toBe('password');
    expect(await page.locator('#root_accessToken__help').textContent()).toBe('Secret is not set.');
    await token.fill(TOKEN);
    await page.locator('#root_adAccountId').fill('act_1000');
    await page.locator('#root_baseUrl').fill(meta.url);
    await expectAccessible('activation form');

    // The schema's own rule stops a bad value before the round trip, naming the field; nothing is created.
    await page.getByRole('button', { name: 'Create activation' }).click();
    await page
      .locator('.plexus-form')
      .getByText(/adAccountId/)
      .first()
      .waitFor();
    expect((await api('GET', '/v1/destinations')).body.data).toEqual([]);
    await page.locator('#root_adAccountId').fill('1000');
    await page.getByRole('button', { name: 'Create activation' }).click();
    await page.getByRole('heading', { name: 'VIP → Meta ads', level: 1 }).waitFor();
    expect(await page.getByTestId('activation-status').textContent()).toBe('active');
  });

  it('runs the delivery to its end and shows sent, accepted and not sendable counts, with a chart over runs', async () => {
    expect(await waitForRunToEnd(1)).toBe('succeeded');
    const run = page.getByRole('table', { name: 'Runs' }).locator('tbody tr').first();
    expect(await run.getByRole('cell').allTextContents()).toEqual([
      expect.any(String),
      expect.any(String),
      'succeeded',
      '3',
      '2 added, 0 removed',
      '2',
      '0',
      '0',
      '1 (1 no consent for ads)',
    ]);
    await page.getByTestId('members-held').getByText('2').waitFor();
    await page
      .getByRole('img', { name: /^Delivery runs: 1 runs; 2 accepted, 0 invalid, 0 failed, 1 not sendable/ })
      .waitFor({
        timeout: 30_000,
      });
    await expectAccessible('activation runs');
    await page.screenshot({ path: join(SCREENSHOTS, 'activation.png') });
  });

  it('answers from the ledger whether a person was sent, for an email written in other case and spaces', async () => {
    await page.getByRole('tab', { name: 'Ledger' }).click();
    await page.getByLabel('Identifier value').fill('  ANN@Plexus-Test.IO ');
    await page.getByRole('button', { name: 'Search the ledger' }).click();
    const entry = page.getByTestId('ledger-entry');
    await entry.waitFor();
    expect(await entry.getAttribute('data-state')).toBe('held');
    await entry.getByText('Sent: the platform holds this person').waitFor();
    const sent = (await entry.getByTestId('ledger-sent').textContent()) ?? '';
    expect(sent).toMatch(/in batch \w{8} \(confirmed: 2 added, 0 removed, 2 accepted, 0 invalid\)/);
    expect(sent).toContain('platform answer to add: 2 sent, 2 received, 0 invalid');
    // What Meta received is the hash Meta documents; the clear address is nowhere on the page.
    expect(await entry.textContent()).toContain(sha256Hex('ann@plexus-test.io'));
    expect(await page.content()).not.toContain('ann@plexus-test.io');

    await page.getByLabel('Identifier value').fill('nobody@plexus-test.io');
    await page.getByRole('button', { name: 'Search the ledger' }).click();
    await page.getByText('Nobody with email:*** was ever handed to this destination.').waitFor();
    await select('Identifier type').click();
    await page.getByRole('option', { name: 'phone', exact: true }).click();
    await page.getByLabel('Identifier value').fill('not a phone');
    await page.getByRole('button', { name: 'Search the ledger' }).click();
    await page
      .getByRole('alert')
      .getByText(/identifier/)
      .waitFor();
    await expectAccessible('ledger');
  });

  it('turns a delivery that keeps failing into a dead letter with Meta’s error, and replays it with progress', async () => {
    const activationId = new URL(page.url()).pathname.split('/').pop() ?? '';
    meta.faults.inject({ kind: '429', times: 1000, path: '/users$' });
    await t.app.get(IngestService).ingest([buyer('dan@plexus-test.io')], { sourceId: 'crm' });
    await api('POST', `/v1/audiences/${audienceId}/evaluate`);
    const engine = t.app.get(ActivationEngine);
    // The first attempt is throttled: Dan has no ledger row yet, and the ledger says his addition waits for a retry.
    const danLedger = `/v1/activations/${activationId}/ledger?identifier=email:dan@plexus-test.io`;
    await until(
      async () => {
        await engine.deliver(activationId, { budgetMs: 10_000 });
        return (await api('GET', danLedger)).body.pending[0]?.batch.state === 'retrying' ? true : undefined;
      },
      30_000,
      200,
    );
    await select('Identifier type').click();
    await page.getByRole('option', { name: 'email', exact: true }).click();
    await page.getByLabel('Identifier value').fill('dan@plexus-test.io');
    await page.getByRole('button', { name: 'Search the ledger' }).click();
    const pending = page.getByTestId('ledger-pending');
    await pending.getByText(/^An addition waits for a retry at /).waitFor();
    expect(await pending.getAttribute('data-state')).toBe('retrying');
    expect(await pending.textContent()).toContain('too many calls to this ad-account');
    expect(await page.getByTestId('ledger-entry').count()).toBe(0);
    await expectAccessible('ledger, pending');
    await page.getByRole('tab', { name: 'Runs' }).click();
    // Meta asks for 3 minutes each time; "Sync now" (a resume) makes the retry due at once. The worker's
    // delivery job stays deferred to Meta's time, though (a resume does not promote a delayed job), so the test
    // runs each delivery itself with the engine the worker runs, as test/activation does.
    for (let attempt = 0; ; attempt++) {
      const dead = await api('GET', `/v1/activations/${activationId}/dead-letters`);
      if (dead.body.data.length > 0) break;
      if (attempt > 10) throw new Error(`no dead letter after ${attempt} deliveries`);
      await page.getByRole('button', { name: 'Sync now' }).click();
      await page.getByRole('button', { name: 'Sync now' }).and(page.locator(':not([data-loading])')).waitFor();
      await engine.deliver(activationId, { budgetMs: 10_000 });
    }
    await page.getByRole('tab', { name: 'Dead letters (1)' }).click();
    const letters = page.getByRole('table', { name: 'Dead letters' });
    const row = letters.locator('tbody tr').first();
    await row.waitFor();
    const error = (await api('GET', `/v1/activations/${activationId}/dead-letters`)).body.data[0].error as string;
    expect(error).toContain('too many calls to this ad-account');
    const cells = await row.getByRole('cell').allTextContents();
    expect(cells.slice(1)).toEqual(['add', '1', '5', error, 'not yet']);
    await expectAccessible('dead letters');
    await page.screenshot({ path: join(SCREENSHOTS, 'activation-dead-letters.png') });

    meta.faults.clear();
    await page.getByRole('button', { name: 'Replay dead letters' }).click();
    // The replay promotes the worker's deferred delivery job, so the worker may deliver the member before the page
    // shows "0 of 1": either state, then the delivery.
    await page.getByText(/^Replay: [01] of 1 members delivered/).waitFor();
    await engine.deliver(activationId, { budgetMs: 10_000 });
    const progress = page.getByTestId('replay-progress');
    await progress.getByText('Replay: 1 of 1 members delivered — done').waitFor({ timeout: 30_000 });
    expect(await progress.getByRole('progressbar', { name: 'Replay progress' }).getAttribute('aria-valuenow')).toBe(
      '100',
    );
    await letters.locator('tbody tr').first().getByRole('cell').last().filter({ hasNotText: 'not yet' }).waitFor();
    expect(await page.getByRole('button', { name: 'Replay dead letters' }).isDisabled()).toBe(true);
    const platformId = (await api('GET', `/v1/activations/${activationId}`)).body.externalId;
    expect(meta.state.has(platformId, 'EMAIL', sha256Hex('dan@plexus-test.io'))).toBe(true);
  }, 180_000);

  it('filters the list on the server and offers a read-only key no writing action', async () => {
    const other = await api('POST', '/v1/audiences', { name: 'Nobody', rule: { trait: 'vip', op: 'eq', value: 'x' } });
    expect(other.status).toBe(201);
    await page.goto(url('/activations'));
    const table = page.getByRole('table', { name: 'Activations' });
    await table.getByRole('link', { name: 'VIP' }).waitFor();
    await select('Audience').click();
    await page.getByRole('option', { name: 'Nobody' }).click();
    await page.getByText('No activation matches.').waitFor();
    await select('Audience').click();
    await page.getByRole('option', { name: 'VIP' }).click();
    await table.getByRole('link', { name: 'VIP' }).waitFor();

    const key = await api('POST', '/v1/api-keys', { name: 'viewer', scopes: ['read'] });
    const fresh = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const tab = await fresh.newPage();
      await tab.goto(url(`/activations#key=${encodeURIComponent(key.body.key)}`));
      await tab.getByRole('table', { name: 'Activations' }).getByRole('link', { name: 'VIP' }).click();
      await tab.getByRole('heading', { name: 'VIP → Meta ads', level: 1 }).waitFor();
      await tab.getByTestId('activation-run').first().waitFor();
      for (const name of ['Sync now', 'Pause', 'Resume', 'Delete', 'New activation'])
        expect(await tab.getByRole('button', { name }).or(tab.getByRole('link', { name })).count()).toBe(0);
      await tab.getByRole('tab', { name: /Dead letters/ }).click();
      await tab.getByRole('table', { name: 'Dead letters' }).locator('tbody tr').first().waitFor();
      expect(await tab.getByRole('button', { name: 'Replay dead letters' }).count()).toBe(0);
    } finally {
      await fresh.close();
    }
  });

  it('is usable at 390 px', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const activations = (await api('GET', '/v1/activations')).body.data;
    for (const path of ['/activations', '/activations/new', `/activations/${activations[0].id}`]) {
      await page.goto(url(path));
      await page.getByRole('heading', { level: 1 }).waitFor();
      const overflow = await page.evaluate(
        () => (globalThis as any).document.documentElement.scrollWidth - (globalThis as any).innerWidth,
      );
      expect({ path, overflow: Math.max(overflow, 0) }).toEqual({ path, overflow: 0 });
      await expectAccessible(`${path} at 390 px`);
    }
  });
});
