import { lazyRecords, noise, pick, syntheticPerson, type RecordSource } from '../common/table.js';
import type { HubSpotObjectType } from './crm.js';

/** A CRM object as HubSpot's v3 API returns it (property values are always strings or null). */
export interface HubSpotObject {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
  /** Associated company ids (contacts only); served as `associations.companies` when asked for. */
  companyIds?: string[];
  /**
   * Earlier values of properties, newest first, served as `propertiesWithHistory`; a property without one has
   * its current value as its only version.
   */
  history?: Record<string, Array<{ value: string | null; timestamp: string }>>;
}

export const LIFECYCLE_STAGES = [
  'subscriber',
  'lead',
  'marketingqualifiedlead',
  'salesqualifiedlead',
  'opportunity',
  'customer',
] as const;

const COMPANY_NAMES = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Stark', 'Wayne', 'Wonka', 'Tyrell'] as const;

export interface SyntheticHubSpotOptions {
  /** `createdAt`/`lastmodifieddate` of the first record (default 2024-01-01T00:00:00Z). */
  startMs?: number;
  /** Time between consecutive records' modification (default 1 s; 0 puts every record on the same ms). */
  stepMs?: number;
  /** Associate contact i with company `(i % companies) + 1` (default: no associations). */
  companies?: number;
  /** Every n-th contact is archived (default: none). */
  archivedEvery?: number;
}

/**
 * `count` synthetic contacts, generated on demand: id `i + 1`, modified in id order, people from
 * `syntheticPerson(i)` so the same index is the same person in every vendor's generator.
 */
export function syntheticHubSpotContacts(
  count: number,
  options: SyntheticHubSpotOptions = {},
): RecordSource<HubSpotObject> {
  const start = options.startMs ?? Date.UTC(2024, 0, 1);
  const step = options.stepMs ?? 1_000;
  return lazyRecords(count, (i) => {
    const person = syntheticPerson(i);
    const id = String(i + 1);
    const created = new Date(start + i * step).toISOString();
    const archived = options.archivedEvery !== undefined && (i + 1) % options.archivedEvery === 0;
    const companyId = options.companies ? String((i % options.companies) + 1) : undefined;
    return {
      id,
      properties: {
        hs_object_id: id,
        email: person.email,
        firstname: person.firstName,
        lastname: person.lastName,
        phone: person.phone,
        country: person.country,
        company: companyId ? companyName(Number(companyId) - 1) : null,
        lifecyclestage: pick(LIFECYCLE_STAGES, i, 21),
        hs_email_optout: i % 17 === 0 ? 'true' : 'false',
        customer_id: `cus_${i + 1}`,
        createdate: created,
        lastmodifieddate: created,
      },
      createdAt: created,
      updatedAt: created,
      archived,
      ...(archived ? { archivedAt: created } : {}),
      ...(companyId ? { companyIds: [companyId] } : {}),
    };
  });
}

/**
 * The same contacts with their `@example.org` addresses moved to `domain`: the default identity rules block
 * example.org as a placeholder, so tests and benchmarks that ingest them need a real-looking domain.
 */
export function contactsAtDomain(contacts: RecordSource<HubSpotObject>, domain: string): RecordSource<HubSpotObject> {
  return lazyRecords(contacts.count, (i) => {
    const contact = contacts.at(i);
    const email = contact.properties.email?.replace('@example.org', `@${domain}`) ?? null;
    return { ...contact, properties: { ...contact.properties, email } };
  });
}

function companyName(i: number): string {
  return `${COMPANY_NAMES[i % COMPANY_NAMES.length]} ${Math.floor(i / COMPANY_NAMES.length) + 1}`;
}

/** `count` synthetic companies, id `i + 1`. */
export function syntheticHubSpotCompanies(
  count: number,
  options: { startMs?: number } = {},
): RecordSource<HubSpotObject> {
  const start = options.startMs ?? Date.UTC(2023, 6, 1);
  return lazyRecords(count, (i) => {
    const id = String(i + 1);
    const created = new Date(start + i * 60_000).toISOString();
    const name = companyName(i);
    return {
      id,
      properties: {
        hs_object_id: id,
        name,
        domain: `${name.toLowerCase().replace(/\s+/g, '')}.example.com`,
        industry: pick(['COMPUTER_SOFTWARE', 'RETAIL', 'FINANCIAL_SERVICES', 'HOSPITALITY'], i, 31),
        country: pick(['US', 'GB', 'FR', 'DE'], i, 32),
        createdate: created,
        hs_lastmodifieddate: created,
      },
      createdAt: created,
      updatedAt: created,
      archived: false,
    };
  });
}

const DEAL_STAGES = ['appointmentscheduled', 'qualifiedtobuy', 'contractsent', 'closedwon', 'closedwon', 'closedlost'];
const TICKET_STAGES = ['1', '2', '3', '4', '4'];
const PRIORITIES = ['LOW', 'MEDIUM', 'HIGH', 'URGENT'];
const USD_RATES: Record<string, number> = { USD: 1, EUR: 1.08, GBP: 1.27 };

export interface SyntheticCrmOptions {
  /** Contacts the records are associated with: record i goes to the contact at index `i % contacts`. */
  contacts: number;
  /** The id of the contact at an index (default `index + 1`, as `syntheticHubSpotContacts` numbers them). */
  contactIdAt?: (index: number) => string;
  /** Creation time of the first record (default 2024-02-01T00:00:00Z); one a minute after that. */
  startMs?: number;
}

/** The HubSpot objects and associations of a synthetic CRM: deals (one line item each), tickets and engagements. */
export interface SyntheticHubSpotCrm {
  deals: RecordSource<HubSpotObject>;
  line_items: RecordSource<HubSpotObject>;
  tickets: RecordSource<HubSpotObject>;
  emails: RecordSource<HubSpotObject>;
  calls: RecordSource<HubSpotObject>;
  meetings: RecordSource<HubSpotObject>;
  associations: Iterable<readonly [HubSpotObjectType, string, HubSpotObjectType, string]>;
}

function record(id: string, createdMs: number, properties: Record<string, string | null>): HubSpotObject {
  const created = new Date(createdMs).toISOString();
  return {
    id,
    properties: { hs_object_id: id, createdate: created, hs_lastmodifieddate: created, ...properties },
    createdAt: created,
    updatedAt: created,
    archived: false,
  };
}

/**
 * A synthetic CRM beside `syntheticHubSpotContacts`: `counts.deals` deals in the default pipeline (a third won,
 * one in six lost) with one line item each, tickets in the support pipeline (two in five closed), and emails, calls
 * and meetings, each associated with one contact.
 */
export function syntheticHubSpotCrm(
  counts: Partial<Record<'deals' | 'tickets' | 'emails' | 'calls' | 'meetings', number>>,
  options: SyntheticCrmOptions,
): SyntheticHubSpotCrm {
  const start = options.startMs ?? Date.UTC(2024, 1, 1);
  const contactIdAt = options.contactIdAt ?? ((index: number) => String(index + 1));
  const contactOf = (i: number) => contactIdAt(i % options.contacts);
  const at = (i: number) => start + i * 60_000;
  const deals = lazyRecords(counts.deals ?? 0, (i) => {
    const stage = pick(DEAL_STAGES, i, 41);
    const amount = (100 + Math.floor(noise(i, 42) * 4_900)).toFixed(2);
    const closed = stage === 'closedwon' || stage === 'closedlost';
    const currency = pick(['USD', 'EUR', 'GBP'], i, 43);
    return record(String(i + 1), at(i), {
      dealname: `Deal ${i + 1}`,
      amount,
      deal_currency_code: currency,
      // HubSpot converts with the account's exchange rates (USD is the emulated account's currency).
      amount_in_home_currency: (Number(amount) * USD_RATES[currency]).toFixed(2),
      pipeline: 'default',
      dealstage: stage,
      closedate: closed ? new Date(at(i) + 86_400_000).toISOString() : null,
    });
  });
  const lineItems = lazyRecords(counts.deals ?? 0, (i) => {
    const quantity = 1 + Math.floor(noise(i, 44) * 3);
    const price = (Number(deals.at(i).properties.amount) / quantity).toFixed(2);
    return record(String(i + 1), at(i), {
      name: pick(['Seats', 'Support plan', 'Onboarding', 'Hardware kit'], i, 45),
      quantity: String(quantity),
      price,
      amount: (Number(price) * quantity).toFixed(2),
      hs_sku: `SKU-${(i % 40) + 1}`,
    });
  });
  const tickets = lazyRecords(counts.tickets ?? 0, (i) => {
    const stage = pick(TICKET_STAGES, i, 46);
    return record(String(i + 1), at(i), {
      subject: `Ticket ${i + 1}`,
      hs_pipeline: '0',
      hs_pipeline_stage: stage,
      hs_ticket_priority: pick(PRIORITIES, i, 47),
      closed_date: stage === '4' ? new Date(at(i) + 3_600_000).toISOString() : null,
    });
  });
  const engagement = (kind: 'emails' | 'calls' | 'meetings', properties: (i: number) => Record<string, string>) =>
    lazyRecords(counts[kind] ?? 0, (i) =>
      record(String(i + 1), at(i), { hs_timestamp: new Date(at(i)).toISOString(), ...properties(i) }),
    );
  const emails = engagement('emails', (i) => ({
    hs_email_subject: `Re: your order ${i + 1}`,
    hs_email_direction: pick(['EMAIL', 'INCOMING_EMAIL'], i, 48),
    hs_email_status: 'SENT',
  }));
  const calls = engagement('calls', (i) => ({
    hs_call_title: `Call ${i + 1}`,
    hs_call_direction: pick(['INBOUND', 'OUTBOUND'], i, 49),
    hs_call_duration: String(60_000 + Math.floor(noise(i, 50) * 600_000)),
    hs_call_disposition: 'f240bbac-87c9-4f6e-bf70-924b57d47db7',
  }));
  const meetings = engagement('meetings', (i) => ({
    hs_meeting_title: `Meeting ${i + 1}`,
    hs_meeting_outcome: pick(['SCHEDULED', 'COMPLETED', 'NO_SHOW'], i, 51),
    hs_meeting_start_time: new Date(at(i) + 86_400_000).toISOString(),
    hs_meeting_end_time: new Date(at(i) + 86_400_000 + 1_800_000).toISOString(),
  }));
  function* associations(): Generator<readonly [HubSpotObjectType, string, HubSpotObjectType, string]> {
    for (let i = 0; i < deals.count; i++) {
      yield ['deals', String(i + 1), 'contacts', contactOf(i)];
      yield ['deals', String(i + 1), 'line_items', String(i + 1)];
    }
    for (let i = 0; i < tickets.count; i++) yield ['tickets', String(i + 1), 'contacts', contactOf(i)];
    for (const [kind, source] of [
      ['emails', emails],
      ['calls', calls],
      ['meetings', meetings],
    ] as const) {
      for (let i = 0; i < source.count; i++) yield [kind, String(i + 1), 'contacts', contactOf(i)];
    }
  }
  return { deals, line_items: lineItems, tickets, emails, calls, meetings, associations: associations() };
}
