import type { Identifier, ProfileEvent, ProfileRecord, TraitValue } from '@plexus/sdk';
import { parseSalesforceDate, recordExternalId, type SalesforceRecord } from './mapping.js';

/** Fields read per activity object. */
export const ACTIVITY_FIELDS = {
  Opportunity: [
    'Id',
    'IsDeleted',
    'Name',
    'Amount',
    'StageName',
    'IsClosed',
    'IsWon',
    'CloseDate',
    'Type',
    'LeadSource',
    'CreatedDate',
    'SystemModstamp',
  ],
  Case: [
    'Id',
    'IsDeleted',
    'CaseNumber',
    'ContactId',
    'Subject',
    'Status',
    'Priority',
    'Origin',
    'Type',
    'IsClosed',
    'ClosedDate',
    'CreatedDate',
    'SystemModstamp',
  ],
  Task: [
    'Id',
    'IsDeleted',
    'WhoId',
    'WhatId',
    'Subject',
    'Status',
    'Priority',
    'TaskSubtype',
    'Type',
    'ActivityDate',
    'IsClosed',
    'CompletedDateTime',
    'CreatedDate',
    'SystemModstamp',
  ],
  EmailMessage: [
    'Id',
    'IsDeleted',
    'ParentId',
    'Subject',
    'FromAddress',
    'ToAddress',
    'Incoming',
    'MessageDate',
    'Status',
    'CreatedDate',
    'SystemModstamp',
  ],
} as const;

/** The subquery that brings each Opportunity's contacts along (REST only: Bulk API 2.0 takes no subqueries). */
export const CONTACT_ROLES_SUBQUERY = '(SELECT ContactId, Role, IsPrimary FROM OpportunityContactRoles)';

/** Trait set on a Contact's profile by the Case stream: how many of the Contact's Cases are open. */
export const OPEN_CASES_TRAIT = 'openCases';
/** Where the Case stream puts the open-case counts it fetched for a batch (ContactId → count). */
export const OPEN_CASES = Symbol('open cases of the batch');
/** Marks a deleted Case handed over only to carry its Contact's new `openCases` count (no events). */
export const COUNT_ONLY = Symbol('deleted case, count only');

const ID = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;

function text(record: SalesforceRecord, field: string): string | undefined {
  const value = record[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value !== 'string') throw new Error(`${record.Id}: ${field} is not text (${JSON.stringify(value)})`);
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function amount(record: SalesforceRecord, field: string): number | null {
  const value = record[field];
  if (value === undefined || value === null || value === '') return null;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) throw new Error(`${record.Id}: ${field} is not a number (${JSON.stringify(value)})`);
  return n;
}

/** A datetime field as ISO; a date (`2024-05-01`) as midnight UTC; throws when unreadable and required. */
function instant(record: SalesforceRecord, field: string): string | undefined {
  const value = record[field];
  if (value === undefined || value === null || value === '') return undefined;
  const ms =
    typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)
      ? Date.parse(`${value}T00:00:00Z`)
      : parseSalesforceDate(value);
  if (Number.isNaN(ms)) throw new Error(`${record.Id}: ${field} is not a date (${JSON.stringify(value)})`);
  return new Date(ms).toISOString();
}

function checked(object: string, record: SalesforceRecord): string {
  if (typeof record?.Id !== 'string' || record.Id === '') throw new Error(`${object} row without an Id`);
  const stamp = instant(record, 'SystemModstamp');
  if (!stamp) throw new Error(`${object} ${record.Id}: SystemModstamp is missing`);
  return stamp;
}

function props(entries: Record<string, TraitValue | undefined>): Record<string, TraitValue> {
  return Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined)) as Record<string, TraitValue>;
}

/** The profile a Contact or Lead id (`WhoId`, `ContactId`) points at, by the key prefix of the id. */
export function personOf(sourceId: string, id: string | undefined): Identifier | undefined {
  if (!id || !ID.test(id)) return undefined;
  if (id.startsWith('003')) return recordExternalId(sourceId, 'Contact', id);
  if (id.startsWith('00Q')) return recordExternalId(sourceId, 'Lead', id);
  return undefined;
}

/**
 * An Opportunity as events on each of its contacts (from `OpportunityContactRoles`): `Opportunity Created`, and
 * `Opportunity Won` or `Opportunity Lost` once closed, with amount, currency and stage. An Opportunity without
 * contact roles concerns nobody: null.
 */
export function mapOpportunity(
  record: SalesforceRecord,
  options: { sourceId: string; currencyIsoCode?: string },
): ProfileRecord[] | null {
  const observedAt = checked('Opportunity', record);
  const roles = (record.OpportunityContactRoles as { records?: SalesforceRecord[] } | null)?.records ?? [];
  if (!Array.isArray(roles)) throw new Error(`Opportunity ${record.Id}: OpportunityContactRoles is not a list`);
  const created = instant(record, 'CreatedDate') ?? observedAt;
  const currency = options.currencyIsoCode ?? text(record, 'CurrencyIsoCode');
  const base = props({
    opportunityId: record.Id,
    name: text(record, 'Name'),
    amount: amount(record, 'Amount'),
    currency,
    stage: text(record, 'StageName'),
    type: text(record, 'Type'),
    leadSource: text(record, 'LeadSource'),
    closeDate: text(record, 'CloseDate'),
  });
  const out: ProfileRecord[] = [];
  for (const role of roles) {
    const person = personOf(options.sourceId, text(role, 'ContactId'));
    if (!person) continue;
    const contactId = text(role, 'ContactId')!;
    const properties = { ...base, ...props({ role: text(role, 'Role'), isPrimary: role.IsPrimary === true }) };
    const events: ProfileEvent[] = [
      {
        name: 'Opportunity Created',
        occurredAt: created,
        properties,
        id: `opportunity:${record.Id}:${contactId}:created`,
      },
    ];
    if (record.IsClosed === true) {
      const won = record.IsWon === true;
      events.push({
        name: won ? 'Opportunity Won' : 'Opportunity Lost',
        occurredAt: instant(record, 'CloseDate') ?? observedAt,
        properties,
        id: `opportunity:${record.Id}:${contactId}:${won ? 'won' : 'lost'}`,
      });
    }
    out.push({ identifiers: [person], events, observedAt });
  }
  return out.length > 0 ? out : null;
}

/**
 * A Case as events on its contact: `Case Opened`, and `Case Closed` once closed, with priority and status; and
 * the contact's `openCases` count when the read fetched it for the batch.
 */
export function mapCase(record: SalesforceRecord, options: { sourceId: string }): ProfileRecord | null {
  const observedAt = checked('Case', record);
  const contactId = text(record, 'ContactId');
  const person = personOf(options.sourceId, contactId);
  if (!person) return null;
  const counts = (record as unknown as { [OPEN_CASES]?: Map<string, number> })[OPEN_CASES];
  const open = contactId === undefined ? undefined : counts?.get(contactId);
  if ((record as unknown as { [COUNT_ONLY]?: boolean })[COUNT_ONLY] === true) {
    return open === undefined ? null : { identifiers: [person], traits: { [OPEN_CASES_TRAIT]: open }, observedAt };
  }
  const properties = props({
    caseId: record.Id,
    caseNumber: text(record, 'CaseNumber'),
    subject: text(record, 'Subject'),
    status: text(record, 'Status'),
    priority: text(record, 'Priority'),
    origin: text(record, 'Origin'),
    type: text(record, 'Type'),
  });
  const events: ProfileEvent[] = [
    {
      name: 'Case Opened',
      occurredAt: instant(record, 'CreatedDate') ?? observedAt,
      properties,
      id: `case:${record.Id}:opened`,
    },
  ];
  if (record.IsClosed === true) {
    events.push({
      name: 'Case Closed',
      occurredAt: instant(record, 'ClosedDate') ?? observedAt,
      properties,
      id: `case:${record.Id}:closed`,
    });
  }
  const out: ProfileRecord = { identifiers: [person], events, observedAt };
  if (open !== undefined) out.traits = { [OPEN_CASES_TRAIT]: open };
  return out;
}

const TASK_EVENT: Record<string, string> = { Call: 'Call Logged', Email: 'Email Logged' };

/** A Task on the Contact or Lead in `WhoId`: `Call Logged` / `Email Logged` / `Task Created`, and `Task Completed`. */
export function mapTask(record: SalesforceRecord, options: { sourceId: string }): ProfileRecord | null {
  const observedAt = checked('Task', record);
  const person = personOf(options.sourceId, text(record, 'WhoId'));
  if (!person) return null;
  const subtype = text(record, 'TaskSubtype');
  const properties = props({
    taskId: record.Id,
    subject: text(record, 'Subject'),
    status: text(record, 'Status'),
    priority: text(record, 'Priority'),
    subtype,
    type: text(record, 'Type'),
    relatedToId: text(record, 'WhatId'),
  });
  const events: ProfileEvent[] = [
    {
      name: TASK_EVENT[subtype ?? ''] ?? 'Task Created',
      occurredAt: instant(record, 'CreatedDate') ?? observedAt,
      properties,
      id: `task:${record.Id}:created`,
    },
  ];
  if (record.IsClosed === true) {
    events.push({
      name: 'Task Completed',
      occurredAt: instant(record, 'CompletedDateTime') ?? instant(record, 'ActivityDate') ?? observedAt,
      properties,
      id: `task:${record.Id}:completed`,
    });
  }
  return { identifiers: [person], events, observedAt };
}

/** Draft emails were never sent. */
const DRAFT = '5';

/**
 * An EmailMessage on the people it was exchanged with, found by address: `Email Received` on the sender of an
 * incoming email, `Email Sent` on each recipient of an outgoing one.
 */
export function mapEmailMessage(record: SalesforceRecord): ProfileRecord[] | null {
  const observedAt = checked('EmailMessage', record);
  if (text(record, 'Status') === DRAFT) return null;
  const incoming = record.Incoming === true;
  const addresses = incoming
    ? [text(record, 'FromAddress')]
    : (text(record, 'ToAddress') ?? '').split(/[;,]/).map((a) => a.trim());
  const occurredAt = instant(record, 'MessageDate') ?? instant(record, 'CreatedDate') ?? observedAt;
  const properties = props({
    emailMessageId: record.Id,
    subject: text(record, 'Subject'),
    caseId: text(record, 'ParentId'),
    direction: incoming ? 'incoming' : 'outgoing',
  });
  const out: ProfileRecord[] = [];
  for (const address of new Set(addresses.filter((a): a is string => !!a && a.includes('@')))) {
    out.push({
      identifiers: [{ type: 'email', value: address }],
      events: [
        {
          name: incoming ? 'Email Received' : 'Email Sent',
          occurredAt,
          properties,
          id: `email:${record.Id}:${address.toLowerCase()}`,
        },
      ],
      observedAt,
    });
  }
  return out.length > 0 ? out : null;
}
