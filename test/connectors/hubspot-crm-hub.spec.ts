import { startTestApp, type TestApp } from '../support/app.js';
import { call } from '../support/http.js';
import {
  contactsAtDomain,
  startHubSpot,
  syntheticHubSpotContacts,
  syntheticHubSpotCrm,
  type HubSpotEmulator,
} from '../emulators/index.js';
import { profileBy, syncAndWait } from '../support/hub.js';

const TOKEN = 'hs-crm-hub-token';
const CONTACTS = 30;
const CRM = { deals: 40, tickets: 10, emails: 5, calls: 5, meetings: 5 };

describe('HubSpot deals, tickets and engagements through the hub: events and traits on the contacts’ profiles', () => {
  let t: TestApp;
  let hubspot: HubSpotEmulator;
  let sourceId: string;

  const runSync = () => syncAndWait(t, sourceId);
  const profileOfContact = async (contactId: string): Promise<any> => {
    const found = await profileBy(t, `external_id:${sourceId}:contact:${contactId}`);
    return found ? (await call(t.url, 'GET', `/v1/profiles/${found.id}`, { headers: t.auth })).body : undefined;
  };
  const eventsOf = async (profileId: string): Promise<any[]> =>
    (await call(t.url, 'GET', `/v1/profiles/${profileId}/events?limit=200`, { headers: t.auth })).body.data;
  const members = async (rule: unknown): Promise<string[]> => {
    const r = await call(t.url, 'POST', '/v1/audiences/preview', { headers: t.auth, body: { rule, sample: 100 } });
    expect(r.status).toBe(200);
    return r.body.sample;
  };

  beforeAll(async () => {
    const contacts = contactsAtDomain(syntheticHubSpotContacts(CONTACTS), 'crm-test.io');
    hubspot = await startHubSpot({
      tokens: [TOKEN],
      contacts,
      ...syntheticHubSpotCrm(CRM, { contacts: CONTACTS }),
      rateLimit: { max: 1000 },
    });
    t = await startTestApp({ label: 'hubspot-crm-hub' });
    const created = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: {
        name: 'HubSpot CRM',
        connector: 'hubspot',
        config: {
          accessToken: TOKEN,
          baseUrl: hubspot.url,
          requestsPerSecond: 50,
          objects: ['deals', 'tickets', 'emails', 'calls', 'meetings'],
        },
      },
    });
    expect(created.status).toBe(201);
    sourceId = created.body.id;
  });
  afterAll(async () => {
    await t?.close();
    await hubspot?.close();
  });

  it('refuses an unknown CRM object with a 400 naming the field', async () => {
    const r = await call(t.url, 'PATCH', `/v1/sources/${sourceId}`, {
      headers: t.auth,
      body: { config: { objects: ['deals', 'invoices'] } },
    });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).toContain('objects');
  });

  it('puts every deal, ticket and engagement on the profile of its contact, with deal and ticket traits', async () => {
    const run = await runSync();
    expect(run).toMatchObject({ status: 'succeeded', stats: { quarantined: 0 } });
    expect(run.stats.read).toBe(CONTACTS + CRM.deals + CRM.tickets + CRM.emails + CRM.calls + CRM.meetings);
    // Contact 1 has deals 1 and 31, ticket 1, and the first email, call and meeting.
    const profile = await profileOfContact('1');
    const events = await eventsOf(profile.id);
    const names = events.map((e) => `${e.name}:${e.properties.dealId ?? e.properties.ticketId ?? ''}`);
    expect(names).toEqual(expect.arrayContaining(['Deal Created:1', 'Deal Created:31', 'Ticket Opened:1']));
    expect(events.map((e) => e.name)).toEqual(expect.arrayContaining(['Call Logged', 'Meeting Logged']));
    expect(events.some((e) => e.name.startsWith('Email '))).toBe(true);
    expect(profile.traits.open_deals.value + profile.traits.won_deals.value + profile.traits.lost_deals.value).toBe(2);
    expect(typeof profile.traits.open_tickets.value).toBe('number');
    expect(profile.traits.lifetime_deal_value_currency.value).toBe('USD');
  });

  it('makes "won a deal over 1,000 in the last year" and "has an open ticket" audience rules work', async () => {
    const now = Date.now();
    const deal = hubspot.state.deals.create({
      dealname: 'Big renewal',
      amount: '2500',
      pipeline: 'default',
      dealstage: 'contractsent',
    });
    hubspot.state.deals.update(deal.id, { dealstage: 'closedwon', closedate: new Date(now).toISOString() });
    hubspot.state.associations.associate('deals', deal.id, 'contacts', '2');
    const ticket = hubspot.state.tickets.create({ subject: 'Help', hs_pipeline: '0', hs_pipeline_stage: '1' });
    hubspot.state.associations.associate('tickets', ticket.id, 'contacts', '3');
    const before = (await profileOfContact('2')).traits.lifetime_deal_value.value as number;
    const openBefore = (await profileOfContact('3')).traits.open_tickets?.value ?? 0;

    const run = await runSync();
    expect(run).toMatchObject({ status: 'succeeded', stats: { read: 2, quarantined: 0 } });
    const two = await profileOfContact('2');
    expect(two.traits.lifetime_deal_value.value).toBe(before + 2500);
    const won = (await eventsOf(two.id)).filter((e) => e.properties.dealId === deal.id).map((e) => e.name);
    expect(won.sort()).toEqual(['Deal Created', 'Deal Stage Changed', 'Deal Won']);
    const three = await profileOfContact('3');
    expect(three.traits.open_tickets.value).toBe(openBefore + 1);

    const bigWinners = await members({
      event: 'Deal Won',
      within: '365d',
      where: [{ property: 'amount', op: 'gt', value: 1000 }],
    });
    expect(bigWinners).toEqual([two.id]);
    expect(await members({ trait: 'open_tickets', op: 'gt', value: 0 })).toContain(three.id);

    // The ticket closes and the deal is archived: the traits follow, from the contacts' remaining records.
    hubspot.state.tickets.update(ticket.id, { hs_pipeline_stage: '4', closed_date: new Date().toISOString() });
    hubspot.state.deals.archive(deal.id);
    const after = await runSync();
    expect(after).toMatchObject({ status: 'succeeded', stats: { quarantined: 0, deleted: 1 } });
    expect((await profileOfContact('3')).traits.open_tickets.value).toBe(openBefore);
    expect((await profileOfContact('2')).traits.lifetime_deal_value.value).toBe(before);
    const closed = (await eventsOf(three.id)).filter((e) => e.properties.ticketId === ticket.id);
    expect(closed.map((e) => e.name).sort()).toEqual(['Ticket Closed', 'Ticket Opened']);
  });
});
