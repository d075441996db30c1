import { isDeepStrictEqual } from 'node:util';
import { describeSourceConformance, type StreamReadResult } from '@plexus/sdk/testing';
import type { ProfileRecord } from '@plexus/sdk';
import source from '../../connectors/hubspot/index.js';
import type { HubSpotContact } from '../../connectors/hubspot/index.js';
import {
  startHubSpot,
  syntheticHubSpotCompanies,
  syntheticHubSpotContacts,
  syntheticHubSpotCrm,
  type HubSpotEmulator,
} from '../emulators/index.js';
import type { DealRecord, EngagementRecord, TicketRecord } from '../../connectors/hubspot/index.js';

/** 230 contacts (every 23rd archived → 220 listed), associated with 7 companies: 5 list pages of 50. */
const CONTACTS = 230;
const ARCHIVED_EVERY = 23;
const LISTED = CONTACTS - Math.floor(CONTACTS / ARCHIVED_EVERY);
/** Deals, tickets and engagements over those contacts: each object yields at least two batches of 50. */
const CRM = { deals: 120, tickets: 80, emails: 60, calls: 60, meetings: 60 };
let hubspot: HubSpotEmulator;

const config = () => ({
  accessToken: 'hs-conformance-token',
  baseUrl: hubspot.url,
  pageSize: 50,
  recordsPerBatch: 50,
  userIdProperty: 'customer_id',
  requestsPerSecond: 50,
  objects: ['deals', 'tickets', 'emails', 'calls', 'meetings'],
});

/** Newer records of a CRM object: one updated, one created and associated with contact 1. */
function addNewer(type: 'deals' | 'tickets' | 'emails' | 'calls' | 'meetings', update: Record<string, string>) {
  return () => {
    const updated = hubspot.state[type].update('5', update);
    const created = hubspot.state[type].create({ ...update, hs_timestamp: new Date().toISOString() });
    hubspot.state.associations.associate(type, created.id, 'contacts', '1');
    return Promise.resolve([updated.id, created.id]);
  };
}

function profileOf(result: StreamReadResult, contactId: string): ProfileRecord | undefined {
  const external = `test-connection:contact:${contactId}`;
  return result.profiles.find((p) => p.identifiers.some((i) => i.type === 'external_id' && i.value === external));
}

describeSourceConformance({
  definition: source,
  setup: async () => {
    const crm = syntheticHubSpotCrm(CRM, { contacts: CONTACTS });
    hubspot = await startHubSpot({
      tokens: ['hs-conformance-token'],
      contacts: syntheticHubSpotContacts(CONTACTS, { companies: 7, archivedEvery: ARCHIVED_EVERY }),
      companies: syntheticHubSpotCompanies(7),
      ...crm,
      rateLimit: { max: 1000 },
    });
  },
  teardown: () => hubspot.close(),
  config,
  invalidCredentials: () => ({ ...config(), accessToken: 'revoked-token' }),
  streams: {
    contacts: {
      recordCount: LISTED,
      verify(result) {
        const problems: string[] = [];
        // Contact 1: person 0, company 1 (Acme 1), opted out of email (0 % 17 === 0).
        const first = profileOf(result, '1');
        const contact = hubspot.state.contacts.get('1')!;
        const expected: ProfileRecord = {
          identifiers: [
            { type: 'email', value: contact.properties.email! },
            { type: 'phone', value: contact.properties.phone! },
            { type: 'user_id', value: 'cus_1' },
            { type: 'external_id', value: 'test-connection:contact:1' },
          ],
          traits: {
            firstName: contact.properties.firstname!,
            lastName: contact.properties.lastname!,
            lifecycleStage: contact.properties.lifecyclestage!,
            company: 'Acme 1',
            companyName: 'Acme 1',
            companyDomain: 'acme1.example.com',
            country: contact.properties.country!,
          },
          consent: { email: false },
          country: contact.properties.country!,
          observedAt: '2024-01-01T00:00:00.000Z',
        };
        if (!isDeepStrictEqual(first, expected)) {
          problems.push(`contact 1 mapped to ${JSON.stringify(first)}`);
        }
        // Contact 2 has not opted out: consent stays unknown rather than granted.
        if (profileOf(result, '2')?.consent !== undefined) problems.push('contact 2 must have no consent');
        // Archived contacts are not listed, and nothing is deleted on a first sync.
        if (result.records.some((r) => (r as HubSpotContact).id === String(ARCHIVED_EVERY))) {
          problems.push('an archived contact was listed');
        }
        if (result.deletedIds.length > 0) problems.push(`a first sync deleted ${result.deletedIds.join(', ')}`);
        return problems;
      },
      addNewer: async () => {
        const updated = hubspot.state.contacts.update('5', { lifecyclestage: 'customer' });
        const created = hubspot.state.contacts.create({ email: 'new.contact@example.org', firstname: 'New' });
        return [updated.id, created.id];
      },
    },
    deals: {
      recordCount: CRM.deals,
      verify(result) {
        const problems: string[] = [];
        const won = (result.records as DealRecord[]).find((r) => r.deal.properties?.dealstage === 'closedwon')!;
        const contactId = String(((Number(won.id) - 1) % CONTACTS) + 1);
        const profile = result.profiles.find((p) =>
          p.events?.some((e) => e.name === 'Deal Won' && e.properties?.dealId === won.id),
        );
        const event = profile?.events?.find((e) => e.name === 'Deal Won');
        if (!profile || profile.identifiers[0].value !== `test-connection:contact:${contactId}`) {
          problems.push(`deal ${won.id} did not land on contact ${contactId}: ${JSON.stringify(profile)}`);
        }
        if (event?.properties?.amount !== Number(won.deal.properties?.amount)) {
          problems.push(`Deal Won carries amount ${JSON.stringify(event?.properties?.amount)}`);
        }
        if (!Array.isArray(event?.properties?.products) || event.properties.products.length !== 1) {
          problems.push(`Deal Won carries products ${JSON.stringify(event?.properties?.products)}`);
        }
        if (typeof profile?.traits?.lifetime_deal_value !== 'number' || !((profile.traits.won_deals as number) >= 1)) {
          problems.push(`deal traits ${JSON.stringify(profile?.traits)}`);
        }
        return problems;
      },
      addNewer: addNewer('deals', { dealstage: 'closedwon' }),
    },
    tickets: {
      recordCount: CRM.tickets,
      verify(result) {
        const closed = (result.records as TicketRecord[]).find((r) => r.ticket.properties?.hs_pipeline_stage === '4');
        const profile = result.profiles.find((p) =>
          p.events?.some((e) => e.name === 'Ticket Closed' && e.properties?.ticketId === closed?.id),
        );
        return profile && typeof profile.traits?.open_tickets === 'number'
          ? []
          : [`closed ticket ${closed?.id} mapped to ${JSON.stringify(profile)}`];
      },
      addNewer: addNewer('tickets', { hs_pipeline_stage: '4' }),
    },
    emails: {
      recordCount: CRM.emails,
      verify: (result) =>
        (result.records as EngagementRecord[]).every((r) => r.contactIds.length === 1) &&
        result.profiles.every((p) => p.events?.[0].name.startsWith('Email '))
          ? []
          : ['every email lands on its contact as an Email event'],
      addNewer: addNewer('emails', { hs_email_direction: 'INCOMING_EMAIL' }),
    },
    calls: { recordCount: CRM.calls, addNewer: addNewer('calls', { hs_call_title: 'Follow-up' }) },
    meetings: { recordCount: CRM.meetings, addNewer: addNewer('meetings', { hs_meeting_outcome: 'COMPLETED' }) },
  },
  injectFault: (fault) => {
    hubspot.faults.inject({ kind: fault.status === 429 ? '429' : '5xx', status: fault.status, times: fault.times });
  },
  pendingFaults: () => hubspot.faults.pending().reduce((n, f) => n + f.remaining, 0),
});
