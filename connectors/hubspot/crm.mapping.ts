import type { ProfileEvent, ProfileRecord, TraitValue } from '@plexus/sdk';
import type { StageInfo } from './crm-lookups.js';
import { contactExternalId, parseHubSpotDate, type HubSpotRecord } from './mapping.js';

/** A record with the versions of some properties (`propertiesWithHistory`), newest first. */
export interface HubSpotRecordWithHistory extends HubSpotRecord {
  propertiesWithHistory?: Record<string, Array<{ value: string | null; timestamp: string }>>;
}

/** A deal with what the connector read around it: its contacts, line items, stages and each contact's totals. */
export interface DealRecord {
  kind: 'deal';
  /** The deal's id (the stream's primary key). */
  id: string;
  deal: HubSpotRecordWithHistory;
  contactIds: string[];
  lineItems: HubSpotRecord[];
  /** The stages of the deal's pipelines, by stage id. */
  stages: Record<string, StageInfo>;
  /** Deal traits of each associated contact, from all of the contact's deals. */
  contactTraits: Record<string, Record<string, TraitValue>>;
  /** The account's currency, for deals without `deal_currency_code`. */
  companyCurrency?: string;
  /** When the totals were read (ISO-8601). */
  observedAt: string;
}

/** A ticket with its contacts, stages and each contact's open ticket count. */
export interface TicketRecord {
  kind: 'ticket';
  id: string;
  ticket: HubSpotRecordWithHistory;
  contactIds: string[];
  stages: Record<string, StageInfo>;
  contactTraits: Record<string, Record<string, TraitValue>>;
  observedAt: string;
}

export type EngagementType = 'emails' | 'calls' | 'meetings';

/** An email, call or meeting with the contacts it is associated with. */
export interface EngagementRecord {
  kind: 'engagement';
  id: string;
  type: EngagementType;
  engagement: HubSpotRecord;
  contactIds: string[];
}

/** New traits of a contact whose deals or tickets changed without a record of their own (one was archived). */
export interface ContactTraitsRecord {
  kind: 'contact-traits';
  /** `contact:<contact id>`. */
  id: string;
  contactId: string;
  traits: Record<string, TraitValue>;
  observedAt: string;
}

export const DEAL_PROPERTIES = [
  'dealname',
  'amount',
  'amount_in_home_currency',
  'deal_currency_code',
  'pipeline',
  'dealstage',
  'closedate',
  'createdate',
  'hs_lastmodifieddate',
];
export const LINE_ITEM_PROPERTIES = ['name', 'hs_sku', 'quantity', 'price', 'amount'];
export const TICKET_PROPERTIES = [
  'subject',
  'hs_pipeline',
  'hs_pipeline_stage',
  'hs_ticket_priority',
  'closed_date',
  'createdate',
  'hs_lastmodifieddate',
];
export const ENGAGEMENT_PROPERTIES: Record<EngagementType, string[]> = {
  emails: ['hs_timestamp', 'hs_email_subject', 'hs_email_direction', 'hs_email_status', 'hs_lastmodifieddate'],
  calls: [
    'hs_timestamp',
    'hs_call_title',
    'hs_call_direction',
    'hs_call_duration',
    'hs_call_disposition',
    'hs_lastmodifieddate',
  ],
  meetings: [
    'hs_timestamp',
    'hs_meeting_title',
    'hs_meeting_outcome',
    'hs_meeting_start_time',
    'hs_meeting_end_time',
    'hs_lastmodifieddate',
  ],
};

const text = (value: string | null | undefined): string | undefined => {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
};

const number = (value: string | null | undefined): number | undefined => {
  const t = text(value);
  if (t === undefined) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
};

/** Only defined values: events and traits carry no empty properties. */
function defined(values: Record<string, TraitValue | undefined>): Record<string, TraitValue> {
  const out: Record<string, TraitValue> = {};
  for (const [key, value] of Object.entries(values)) if (value !== undefined) out[key] = value;
  return out;
}

/** The properties of a record, checked: an id, an object of string (or null) values. Throws with the reason. */
function propertiesOf(record: HubSpotRecord, what: string): Record<string, string | null> {
  if (typeof record?.id !== 'string' || record.id === '') throw new Error(`${what} without an id`);
  const p = record.properties;
  if (p === null || typeof p !== 'object' || Array.isArray(p)) {
    throw new Error(`${what} ${record.id}: properties are missing (${p === null ? 'null' : typeof p})`);
  }
  for (const [name, value] of Object.entries(p)) {
    if (value !== null && typeof value !== 'string') {
      throw new Error(`${what} ${record.id}: property ${name} is not a string (${JSON.stringify(value)})`);
    }
  }
  return p;
}

/** A date property in ms; throws when it is set but unreadable, undefined when unset. */
function dateOf(p: Record<string, string | null>, name: string, what: string): number | undefined {
  const raw = text(p[name]);
  if (raw === undefined) return undefined;
  const ms = parseHubSpotDate(raw);
  if (Number.isNaN(ms)) throw new Error(`${what}: ${name} is not a date (${JSON.stringify(raw)})`);
  return ms;
}

/** When the record was created: `createdate`, else `createdAt`. */
function createdOf(record: HubSpotRecord, p: Record<string, string | null>, what: string): number {
  const ms = dateOf(p, 'createdate', what) ?? parseHubSpotDate(String(record.createdAt));
  if (Number.isNaN(ms)) throw new Error(`${what}: createdate/createdAt is not a date`);
  return ms;
}

/** The versions of a property, oldest first; the current value alone when no history was read. */
function versionsOf(
  record: HubSpotRecordWithHistory,
  name: string,
  created: number,
): Array<{ value: string; at: number }> {
  const history = record.propertiesWithHistory?.[name];
  const current = text(record.properties?.[name]);
  const versions = (Array.isArray(history) ? history : [])
    .map((v) => ({ value: text(v?.value), at: parseHubSpotDate(String(v?.timestamp)) }))
    .filter((v): v is { value: string; at: number } => v.value !== undefined && !Number.isNaN(v.at))
    .sort((a, b) => a.at - b.at);
  if (versions.length === 0 && current !== undefined) return [{ value: current, at: created }];
  return versions;
}

/** When the record entered its current value of `name` (the latest version holding it). */
function enteredAt(versions: Array<{ value: string; at: number }>, value: string): number | undefined {
  for (let i = versions.length - 1; i >= 0; i--) {
    if (versions[i].value !== value) return versions[i + 1]?.at;
  }
  return versions[0]?.at;
}

/**
 * One profile record per associated contact, carrying `events` (their ids made unique per contact, so the
 * same deal on two people is two events) and that contact's `traits`.
 */
function perContact(
  sourceId: string,
  contactIds: string[],
  events: ProfileEvent[],
  traitsOf: (contactId: string) => Record<string, TraitValue> | undefined,
  observedAt?: string,
): ProfileRecord[] {
  return [...new Set(contactIds)].map((contactId) => {
    const record: ProfileRecord = {
      identifiers: [contactExternalId(sourceId, contactId)],
      events: events.map((e) => ({ ...e, id: `${e.id}:contact:${contactId}` })),
    };
    const traits = traitsOf(contactId);
    if (traits && Object.keys(traits).length > 0) record.traits = traits;
    if (observedAt) record.observedAt = observedAt;
    return record;
  });
}

/** A deal's amount in the account's currency: `amount_in_home_currency`, else `amount` when in that currency. */
function homeAmount(deal: HubSpotRecord, companyCurrency: string | undefined): number | undefined {
  const p = deal.properties ?? {};
  const home = number(p.amount_in_home_currency);
  if (home !== undefined) return home;
  const currency = text(p.deal_currency_code);
  return currency === undefined || currency === companyCurrency ? number(p.amount) : undefined;
}

/**
 * The deal traits of a contact from all of the contact's deals: `lifetime_deal_value` (won deals, in the
 * account's currency, named by `lifetime_deal_value_currency`), `won_deals`, `lost_deals` and `open_deals`.
 */
export function dealTraits(
  deals: HubSpotRecord[],
  stages: Record<string, StageInfo>,
  companyCurrency: string | undefined,
): Record<string, TraitValue> {
  let value = 0;
  let won = 0;
  let lost = 0;
  let open = 0;
  for (const deal of deals) {
    const stage = stages[text(deal.properties?.dealstage) ?? ''];
    if (!stage?.closed) open++;
    else if (stage.won) {
      won++;
      value += homeAmount(deal, companyCurrency) ?? 0;
    } else lost++;
  }
  return defined({
    lifetime_deal_value: Math.round(value * 100) / 100,
    lifetime_deal_value_currency: companyCurrency,
    won_deals: won,
    lost_deals: lost,
    open_deals: open,
  });
}

/** The `open_tickets` trait of a contact from all of the contact's tickets. */
export function ticketTraits(tickets: HubSpotRecord[], stages: Record<string, StageInfo>): Record<string, TraitValue> {
  const open = tickets.filter((t) => !stages[text(t.properties?.hs_pipeline_stage) ?? '']?.closed).length;
  return { open_tickets: open };
}

/**
 * A deal as events on each associated contact: `Deal Created`, `Deal Stage Changed` for each later stage of its
 * history, and `Deal Won` or `Deal Lost` (with amount, currency and line items) once it sits in a closed stage;
 * plus the contact's deal traits. Throws (quarantine) on an unreadable deal; no contacts → no records.
 */
export function mapDeal(record: DealRecord, sourceId: string): ProfileRecord[] {
  const { deal } = record;
  const p = propertiesOf(deal, 'deal');
  const what = `deal ${deal.id}`;
  const created = createdOf(deal, p, what);
  const stageId = text(p.dealstage);
  const stage = stageId === undefined ? undefined : record.stages[stageId];
  const amount = number(p.amount);
  const base = defined({
    dealId: deal.id,
    dealName: text(p.dealname),
    pipeline: text(p.pipeline),
    amount,
    currency: text(p.deal_currency_code) ?? record.companyCurrency,
  });
  const events: ProfileEvent[] = [
    {
      name: 'Deal Created',
      occurredAt: new Date(created).toISOString(),
      id: `deal:${deal.id}:created`,
      properties: defined({ ...base, stage: stageId, stageLabel: stage?.label }),
    },
  ];
  const versions = versionsOf(deal, 'dealstage', created);
  versions.forEach((version, i) => {
    if (i === 0) return;
    events.push({
      name: 'Deal Stage Changed',
      occurredAt: new Date(version.at).toISOString(),
      id: `deal:${deal.id}:stage:${version.value}:${version.at}`,
      properties: defined({
        ...base,
        stage: version.value,
        stageLabel: record.stages[version.value]?.label,
        previousStage: versions[i - 1].value,
      }),
    });
  });
  if (stageId !== undefined && stage?.closed) {
    const closed = dateOf(p, 'closedate', what) ?? enteredAt(versions, stageId) ?? created;
    const products = record.lineItems.map((item) =>
      defined({
        name: text(item.properties?.name),
        sku: text(item.properties?.hs_sku),
        quantity: number(item.properties?.quantity),
        price: number(item.properties?.price),
        amount: number(item.properties?.amount),
      }),
    );
    events.push({
      name: stage.won ? 'Deal Won' : 'Deal Lost',
      occurredAt: new Date(closed).toISOString(),
      id: `deal:${deal.id}:${stage.won ? 'won' : 'lost'}`,
      properties: { ...base, stage: stageId, stageLabel: stage.label, products },
    });
  }
  return perContact(sourceId, record.contactIds, events, (c) => record.contactTraits[c], record.observedAt);
}

/**
 * A ticket as events on each associated contact: `Ticket Opened` (priority, pipeline stage) and, once in a closed
 * stage, `Ticket Closed`; plus the contact's `open_tickets`.
 */
export function mapTicket(record: TicketRecord, sourceId: string): ProfileRecord[] {
  const { ticket } = record;
  const p = propertiesOf(ticket, 'ticket');
  const what = `ticket ${ticket.id}`;
  const created = createdOf(ticket, p, what);
  const stageId = text(p.hs_pipeline_stage);
  const stage = stageId === undefined ? undefined : record.stages[stageId];
  const base = defined({
    ticketId: ticket.id,
    subject: text(p.subject),
    priority: text(p.hs_ticket_priority),
    pipeline: text(p.hs_pipeline),
  });
  const opened = versionsOf(ticket, 'hs_pipeline_stage', created)[0]?.value ?? stageId;
  const events: ProfileEvent[] = [
    {
      name: 'Ticket Opened',
      occurredAt: new Date(created).toISOString(),
      id: `ticket:${ticket.id}:opened`,
      properties: defined({ ...base, stage: opened, stageLabel: opened ? record.stages[opened]?.label : undefined }),
    },
  ];
  if (stageId !== undefined && stage?.closed) {
    const closed =
      dateOf(p, 'closed_date', what) ?? enteredAt(versionsOf(ticket, 'hs_pipeline_stage', created), stageId) ?? created;
    events.push({
      name: 'Ticket Closed',
      occurredAt: new Date(closed).toISOString(),
      // A reopened ticket closed again is a second closing.
      id: `ticket:${ticket.id}:closed:${closed}`,
      properties: defined({ ...base, stage: stageId, stageLabel: stage.label }),
    });
  }
  return perContact(sourceId, record.contactIds, events, (c) => record.contactTraits[c], record.observedAt);
}

const EMAIL_EVENTS: Record<string, string> = {
  EMAIL: 'Email Sent',
  INCOMING_EMAIL: 'Email Received',
  FORWARDED_EMAIL: 'Email Forwarded',
};

/**
 * An email (`Email Sent`, `Email Received`, `Email Forwarded` by direction), call (`Call Logged`) or meeting
 * (`Meeting Logged`) as an event on each associated contact, at its `hs_timestamp`. Email bodies are not read.
 */
export function mapEngagement(record: EngagementRecord, sourceId: string): ProfileRecord[] {
  const { engagement, type } = record;
  const singular = type.slice(0, -1);
  const p = propertiesOf(engagement, singular);
  const what = `${singular} ${engagement.id}`;
  const at = dateOf(p, 'hs_timestamp', what) ?? createdOf(engagement, p, what);
  let event: ProfileEvent;
  if (type === 'emails') {
    event = {
      name: EMAIL_EVENTS[text(p.hs_email_direction) ?? 'EMAIL'] ?? 'Email Sent',
      occurredAt: '',
      properties: defined({
        emailId: engagement.id,
        subject: text(p.hs_email_subject),
        direction: text(p.hs_email_direction),
        status: text(p.hs_email_status),
      }),
    };
  } else if (type === 'calls') {
    event = {
      name: 'Call Logged',
      occurredAt: '',
      properties: defined({
        callId: engagement.id,
        title: text(p.hs_call_title),
        direction: text(p.hs_call_direction),
        durationMs: number(p.hs_call_duration),
        disposition: text(p.hs_call_disposition),
      }),
    };
  } else {
    event = {
      name: 'Meeting Logged',
      occurredAt: '',
      properties: defined({
        meetingId: engagement.id,
        title: text(p.hs_meeting_title),
        outcome: text(p.hs_meeting_outcome),
        startTime: text(p.hs_meeting_start_time),
        endTime: text(p.hs_meeting_end_time),
      }),
    };
  }
  event.occurredAt = new Date(at).toISOString();
  event.id = `${singular}:${engagement.id}`;
  return perContact(sourceId, record.contactIds, [event], () => undefined);
}

/** Fresh deal or ticket traits of one contact (after an archive), as a record without events. */
export function mapContactTraits(record: ContactTraitsRecord, sourceId: string): ProfileRecord {
  return {
    identifiers: [contactExternalId(sourceId, record.contactId)],
    traits: record.traits,
    observedAt: record.observedAt,
  };
}
