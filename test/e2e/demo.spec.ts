import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo, type RunningDemo } from '../../demo/demo.js';
import { generatePopulation } from '../fixtures/population.js';

/** `npm run demo -- --once`, checked against the population it seeded. */
describe('the demo', () => {
  const people = 120;
  let demo: RunningDemo;
  let dir: string;
  const lines: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'plexus-demo-'));
    demo = await runDemo({ people, seed: 7, port: 0, dataDir: dir, print: (l) => lines.push(l) });
  }, 120000);
  afterAll(async () => {
    await demo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('syncs every source it configured and reports what came in', () => {
    const population = generatePopulation({ people, seed: 7 });
    const bySource = Object.fromEntries(demo.report.sources.map((s) => [s.connector, s]));
    expect(Object.keys(bySource).sort()).toEqual(expect.arrayContaining(['hubspot', 'shopify']));
    for (const source of demo.report.sources) expect(['succeeded', 'partial']).toContain(source.status);
    // The CRM's contacts, then its deals, tickets and engagements (the demo's source reads them all).
    const crm = demo.emulators.hubspot.state;
    const crmObjects = crm.deals.count + crm.tickets.count + crm.emails.count + crm.calls.count + crm.meetings.count;
    expect(crmObjects).toBeGreaterThan(0);
    expect(bySource.hubspot.read).toBe(population.crm.contacts.length + crmObjects);
    expect(bySource.shopify.read).toBe(population.shop.customers.length + population.shop.orders.length);
    expect(demo.report.recordsIn).toBe(
      demo.report.sources.reduce((n, s) => n + s.read, 0) +
        (lines.some((l) => l.includes('/v1/batch')) ? population.web.events.length : 0),
    );
  });

  it('resolves the same people across the CRM and the shop, against the seeded truth', () => {
    expect(demo.report.quality.records).toBeGreaterThan(people / 2);
    expect(demo.report.quality.precision).toBeGreaterThanOrEqual(0.999);
    expect(demo.report.quality.recall).toBeGreaterThanOrEqual(0.99);
    expect(demo.report.crossSourceProfiles).toBeGreaterThan(0);
    // Never fewer profiles than people who have an identifier in some system, never one per record.
    expect(demo.report.profiles).toBeLessThan(demo.report.recordsIn);
  });

  it('activates one audience to the Meta and Google emulators and reports what each received and accepted', () => {
    expect(demo.report.activations?.map((a) => a.platform)).toEqual(['Meta', 'Google']);
    for (const a of demo.report.activations!) {
      expect(a).toMatchObject({ status: 'active', invalid: 0 });
      expect(a.requests).toBeGreaterThan(0);
      expect(a.accepted).toBeGreaterThan(0);
      expect(a.held).toBe(a.accepted);
    }
    const meta = demo.report.activations![0];
    const audiences = [...demo.emulators.meta.state.audiences.values()];
    expect(audiences.reduce((n, a) => n + a.members.size, 0)).toBe(meta.held);
    expect(lines.join('\n')).toMatch(/Meta +active +received \d+ members in \d+ request/);
  });

  it('prints the report and leaves the hub answering', async () => {
    expect(lines.join('\n')).toMatch(/━━ Report[\s\S]*records in:[\s\S]*profiles out:[\s\S]*precision/);
    const ready = await fetch(`${demo.url}/ready`);
    expect(ready.status).toBe(200);
    const profiles = await fetch(`${demo.url}/v1/profiles/export`, {
      headers: { authorization: `Bearer ${demo.apiKey}` },
    });
    expect((await profiles.text()).trim().split('\n')).toHaveLength(demo.report.profiles);
  });
});
