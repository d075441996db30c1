import { hash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoPopulationOptions, runDemo, type RunningDemo } from '../../demo/demo.js';
import { DEMO_CREDENTIALS } from '../emulators/index.js';
import { generatePopulation, type Person, type Population } from '../fixtures/population.js';

const DAY = 86_400_000;

/**
 * `npm run demo -- --once`, checked against the population it seeded: every figure of the report is recomputed here
 * from the seed (and the emulators' seeded state), never taken from the hub's own answers.
 */
describe('the demo', () => {
  const people = 120;
  let demo: RunningDemo;
  let dir: string;
  let population: Population;
  const lines: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'plexus-demo-'));
    demo = await runDemo({ people, seed: 7, port: 0, dataDir: dir, print: (l) => lines.push(l) });
    population = generatePopulation({
      ...demoPopulationOptions(people, 7),
      start: new Date(demo.report.populationStart),
    });
  }, 170_000);
  afterAll(async () => {
    await demo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const activation = (platform: string) => demo.report.activations.find((a) => a.platform === platform)!;

  /** "French customers with at least 2 orders in the last 90 days and ads consent", from the seed. */
  function frenchBuyers(at: number): Person[] {
    return population.people.filter((p) => {
      if (p.country !== 'FR' || !p.userId || !p.consent?.ads) return false;
      const customer = population.shop.customers.find((c) => c.customerKey === p.userId)!;
      const recent = population.shop.orders.filter(
        (o) => o.customer_id === customer.id && Date.parse(o.created_at) > at - 90 * DAY,
      );
      return recent.length >= 2;
    });
  }
  /** Anonymous people (nothing that names them reaches the hub) whom the DMP saw as auto-intenders in 30 days. */
  function autoIntenders(at: number): Person[] {
    const rowsOf = (p: Person) => population.dmp.rows.filter((_, i) => population.truth.get(`dmp:row:${i}`) === p.id);
    const named = (p: Person) =>
      population.crm.contacts.some((c) => population.truth.get(`crm:contact:${c.id}`) === p.id) ||
      p.userId !== undefined ||
      rowsOf(p).some((r) => r.email_sha256 !== null);
    return population.people.filter(
      (p) =>
        !named(p) &&
        rowsOf(p).some((r) => r.segments.includes('auto-intender') && Date.parse(r.seen_at) + 30 * DAY > at),
    );
  }

  it('syncs every source it configured and reports what came in, CRM deals and tickets included', () => {
    const bySource = Object.fromEntries(demo.report.sources.map((s) => [s.connector, s]));
    expect(Object.keys(bySource).sort()).toEqual(['dmp-feed', 'hubspot', 'shopify']);
    for (const source of demo.report.sources) expect(source.status).toBe('succeeded');
    // The CRM's contacts, then its deals, tickets and engagements (the demo's source reads them all).
    const crm = demo.emulators.hubspot.state;
    const crmObjects = crm.deals.count + crm.tickets.count + crm.emails.count + crm.calls.count + crm.meetings.count;
    expect(crmObjects).toBeGreaterThan(0);
    expect(bySource.hubspot.read).toBe(population.crm.contacts.length + crmObjects);
    expect(bySource.shopify.read).toBe(population.shop.customers.length + population.shop.orders.length);
    expect(bySource['dmp-feed'].read).toBe(population.dmp.rows.length);
    expect(demo.report.recordsIn).toBe(
      bySource.hubspot.read + bySource.shopify.read + bySource['dmp-feed'].read + population.web.events.length,
    );
    // Deals and tickets land on their contact's profile as events: one profile per contact with any.
    const contactsWith = (type: 'deals' | 'tickets', test: (p: Record<string, string | null>) => boolean) =>
      population.crm.contacts.filter((c) =>
        crm.associations.of('contacts', c.id, type).some((id) => test(crm[type].get(id)!.properties)),
      ).length;
    expect(demo.report.crm).toEqual({
      dealProfiles: contactsWith('deals', () => true),
      wonDealProfiles: contactsWith('deals', (d) => d.dealstage === 'closedwon'),
      ticketProfiles: contactsWith('tickets', () => true),
      openTicketProfiles: contactsWith('tickets', (t) => t.hs_pipeline_stage !== '4'),
    });
    expect(demo.report.crm.dealProfiles).toBeGreaterThan(0);
  });

  it('configures the identity rules through REST and resolves the same people across the CRM and the shop', () => {
    expect(demo.report.identityRules.version).toBeGreaterThanOrEqual(1);
    expect(demo.report.quality.records).toBeGreaterThan(people / 2);
    expect(demo.report.quality.precision).toBeGreaterThanOrEqual(0.999);
    expect(demo.report.quality.recall).toBeGreaterThanOrEqual(0.99);
    expect(demo.report.crossSourceProfiles).toBeGreaterThan(0);
    expect(demo.report.profiles).toBeLessThan(demo.report.recordsIn);
  });

  it('builds an identified and an anonymous DMP audience whose sizes match the seed', () => {
    const identified = demo.report.audiences[0];
    const anonymous = demo.report.audiences[1];
    expect(identified.size).toBe(frenchBuyers(Date.parse(identified.evaluatedAt)).length);
    expect(anonymous.size).toBe(autoIntenders(Date.parse(anonymous.evaluatedAt)).length);
    expect(identified.size).toBeGreaterThan(0);
    expect(anonymous.size).toBeGreaterThan(0);
  });

  it('activates them to Meta, Google, HubSpot and The Trade Desk, each receiving and accepting what the seed says', () => {
    const identified = demo.report.audiences[0];
    const buyers = frenchBuyers(Date.parse(identified.evaluatedAt));
    const intenders = autoIntenders(Date.parse(demo.report.audiences[1].evaluatedAt));
    const dmpConsent = (p: Person) =>
      population.dmp.rows.some((r, i) => population.truth.get(`dmp:row:${i}`) === p.id && r.ads_consent === true);
    const expected: Record<string, number> = {
      Meta: buyers.length,
      Google: buyers.length,
      // Writing back to the CRM needs consent for personalisation.
      HubSpot: buyers.filter((p) => p.consent!.personalization).length,
      TheTradeDesk: intenders.filter(dmpConsent).length,
    };
    expect(demo.report.activations.map((a) => a.platform).sort()).toEqual(Object.keys(expected).sort());
    for (const [platform, n] of Object.entries(expected)) {
      const a = activation(platform);
      expect({ platform, status: a.status, sent: a.sent, accepted: a.accepted, invalid: a.invalid }).toEqual({
        platform,
        status: 'active',
        sent: n,
        accepted: n,
        invalid: 0,
      });
      expect(a.platformHolds).toBe(n);
      expect(a.requests).toBeGreaterThan(0);
    }
    expect(expected.TheTradeDesk).toBeGreaterThan(0);
    expect(activation('TheTradeDesk').notSendable).toEqual(
      intenders.length > expected.TheTradeDesk
        ? { 'no consent for ads': intenders.length - expected.TheTradeDesk }
        : {},
    );
    // The CRM got the shop's figures back on its contacts.
    expect(demo.report.crmEnrichedContacts).toBe(expected.HubSpot);
    // What the platforms hold now, read from them: everyone but the erased person.
    const erased = demo.report.erasure!.email;
    const sha = (email: string) => hash('sha256', email, 'hex');
    const metaRows = demo.emulators.meta.state.members(activation('Meta').externalId!).map((r) => JSON.stringify(r));
    const { operatingAccountId, userListId } = DEMO_CREDENTIALS.google;
    for (const p of buyers) {
      const there = p.email !== erased;
      expect(metaRows.some((r) => r.includes(sha(p.email!)))).toBe(there);
      expect(
        demo.emulators.google.state.member(operatingAccountId, userListId, `email:${sha(p.email!)}`) !== undefined,
      ).toBe(there);
    }
    const ttd = demo.emulators.ttd.state.members(
      DEMO_CREDENTIALS.ttd.advertiserId,
      activation('TheTradeDesk').externalId!,
    );
    expect(ttd.sort()).toEqual(
      intenders
        .filter(dmpConsent)
        .map((p) => (p.devices[0] ? `DAID:${p.devices[0]}` : `TDID:${p.cookies[0]}`))
        .sort(),
    );
    expect(lines.join('\n')).toMatch(/Meta +active +received \d+ in \d+ request/);
  });

  it('erases one activated person: every step done, removals sent where they were held, gone everywhere', async () => {
    const e = demo.report.erasure!;
    const buyers = frenchBuyers(Date.parse(demo.report.audiences[0].evaluatedAt));
    const person = buyers.find((p) => p.email === e.email)!;
    expect(person).toBeDefined();
    expect(e.status).toBe('completed');
    expect(e.steps.map((s) => s.status)).toEqual(e.steps.map(() => 'done'));
    const heldBy = ['Meta', 'Google', ...(person.consent!.personalization ? ['HubSpot'] : [])];
    expect(e.heldBy.sort()).toEqual(heldBy.sort());
    for (const platform of heldBy) expect(e.removals[platform]).toBeGreaterThan(0);
    expect(e.removals.TheTradeDesk).toBe(0);
    expect(e.removals['HubSpot GDPR delete']).toBe(person.consent!.personalization ? 1 : 0);
    expect(e.platformsStillHolding).toEqual([]);
    expect(e.ledgerEntriesLeft).toBe(0);
    expect(e.profileStatus).toBe(404);
    // Every identifier the seed gave the person finds nothing now.
    const identifiers = [
      `email:${person.email}`,
      ...(person.phone ? [`phone:${person.phone}`] : []),
      `user_id:${person.userId}`,
      ...person.anonymousIds.map((id) => `anonymous_id:${id}`),
      ...person.devices.map((id) => `device_id:${id}`),
      ...person.cookies.map((id) => `cookie_id:${id}`),
    ];
    for (const identifier of identifiers) {
      const res = await fetch(`${demo.url}/v1/profiles?identifier=${encodeURIComponent(identifier)}`, {
        headers: { authorization: `Bearer ${demo.apiKey}` },
      });
      expect({ identifier, found: ((await res.json()) as { data: unknown[] }).data.length }).toEqual({
        identifier,
        found: 0,
      });
    }
    // The CRM no longer holds the contact the hub wrote to.
    const contacts = demo.emulators.hubspot.state.contacts.table;
    const inCrm: string[] = [];
    for (let row = 0; row < contacts.count; row++)
      if (!contacts.isArchived(row)) inCrm.push(contacts.get(row).properties.email?.trim().toLowerCase() ?? '');
    if (person.consent!.personalization) expect(inCrm).not.toContain(person.email);
  });

  it('prints the report with nothing failed and leaves the hub answering', async () => {
    expect(demo.report.problems).toEqual([]);
    expect(lines.join('\n')).toMatch(
      /━━ Report[\s\S]*records in:[\s\S]*profiles out:[\s\S]*merges:[\s\S]*Audiences[\s\S]*Out[\s\S]*Erasure[\s\S]*gone:/,
    );
    const ready = await fetch(`${demo.url}/ready`);
    expect(ready.status).toBe(200);
    const profiles = await fetch(`${demo.url}/v1/profiles/export`, {
      headers: { authorization: `Bearer ${demo.apiKey}` },
    });
    // The report counted the profiles before the erasure, which took one away.
    expect((await profiles.text()).trim().split('\n')).toHaveLength(demo.report.profiles - 1);
  });
});
