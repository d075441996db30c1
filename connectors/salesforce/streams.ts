import type { ConnectorContext } from '@plexus/sdk';
import {
  ACTIVITY_FIELDS,
  CONTACT_ROLES_SUBQUERY,
  COUNT_ONLY,
  mapCase,
  mapEmailMessage,
  mapOpportunity,
  mapTask,
  OPEN_CASES,
} from './activity.mapping.js';
import type { ActivityObject, SalesforceConfig } from './config.js';
import { mapSalesforceRecord, OBJECT_FIELDS, recordExternalId, type SalesforceRecord } from './mapping.js';
import { explainSalesforceError } from './policy.js';
import { soqlStream } from './records.stream.js';

type Ctx = ConnectorContext<SalesforceConfig>;

/** Ids per `IN (…)` list: 200 quoted 18-character ids keep the query URL near 4 KB. */
const IDS_PER_QUERY = 200;

/** Runs a REST query to its end (following `nextRecordsUrl`) and returns every row. */
export async function queryRows(ctx: Ctx, soql: string): Promise<SalesforceRecord[]> {
  const rows: SalesforceRecord[] = [];
  let url = `/services/data/${ctx.config.apiVersion}/query`;
  let params: Record<string, string> | undefined = { q: soql };
  for (;;) {
    let data: { done?: boolean; nextRecordsUrl?: string; records?: SalesforceRecord[] };
    try {
      ({ data } = await ctx.http.get<typeof data>(url, { params }));
    } catch (error) {
      throw explainSalesforceError(error);
    }
    rows.push(...(data.records ?? []));
    if (data.done !== false || !data.nextRecordsUrl) return rows;
    url = data.nextRecordsUrl;
    params = undefined;
  }
}

const quoted = (ids: string[]) => ids.map((id) => `'${id.replace(/['\\]/g, '\\$&')}'`).join(', ');

/** How many open Cases each of these Contacts has (Contacts without any count 0). */
async function openCasesOf(ctx: Ctx, contactIds: string[]): Promise<Map<string, number>> {
  const counts = new Map(contactIds.map((id) => [id, 0]));
  for (let i = 0; i < contactIds.length; i += IDS_PER_QUERY) {
    const chunk = contactIds.slice(i, i + IDS_PER_QUERY);
    const rows = await queryRows(
      ctx,
      `SELECT ContactId FROM Case WHERE IsClosed = false AND ContactId IN (${quoted(chunk)})`,
    );
    for (const row of rows) {
      const id = String(row.ContactId);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  return counts;
}

const withUserIdField = (fields: readonly string[], extra: string | undefined) =>
  extra && !fields.includes(extra) ? [...fields, extra] : [...fields];

const activityOn = (object: ActivityObject) => (config: SalesforceConfig) => config.activities.includes(object);

export const contactsStream = soqlStream({
  name: 'contacts',
  object: 'Contact',
  select: (config) => withUserIdField(OBJECT_FIELDS.Contact, config.contactUserIdField),
  bulk: true,
  booleanFields: ['IsDeleted', 'HasOptedOutOfEmail', 'DoNotCall'],
  deletes: 'deleted-ids',
  toProfile: (record, ctx) =>
    mapSalesforceRecord('Contact', record, {
      sourceId: ctx.connectionId,
      userIdField: ctx.config.contactUserIdField,
      defaultCountry: ctx.config.defaultCountry,
    }),
  deletedIdentifier: (id, ctx) => recordExternalId(ctx.connectionId, 'Contact', id),
});

export const leadsStream = soqlStream({
  name: 'leads',
  object: 'Lead',
  select: (config) => withUserIdField(OBJECT_FIELDS.Lead, config.leadUserIdField),
  bulk: true,
  booleanFields: ['IsDeleted', 'HasOptedOutOfEmail', 'IsConverted'],
  deletes: 'deleted-ids',
  toProfile: (record, ctx) =>
    mapSalesforceRecord('Lead', record, {
      sourceId: ctx.connectionId,
      userIdField: ctx.config.leadUserIdField,
      defaultCountry: ctx.config.defaultCountry,
    }),
  deletedIdentifier: (id, ctx) => recordExternalId(ctx.connectionId, 'Lead', id),
});

/**
 * Opportunities with their contact roles in one REST query (a parent-to-child subquery, which Bulk API 2.0 does
 * not take). Adding a contact role does not touch the Opportunity's SystemModstamp: the role is picked up when
 * the Opportunity next changes.
 */
export const opportunitiesStream = soqlStream({
  name: 'opportunities',
  object: 'Opportunity',
  select: (config) => [
    ...ACTIVITY_FIELDS.Opportunity,
    ...(config.currencyIsoCode ? [] : ['CurrencyIsoCode']),
    CONTACT_ROLES_SUBQUERY,
  ],
  bulk: false,
  enabled: activityOn('Opportunity'),
  deletes: 'none',
  toProfile: (record, ctx) =>
    mapOpportunity(record, { sourceId: ctx.connectionId, currencyIsoCode: ctx.config.currencyIsoCode }),
});

/** Cases; each batch also recounts the open Cases of the Contacts it touched (deleted Cases included). */
export const casesStream = soqlStream({
  name: 'cases',
  object: 'Case',
  select: () => [...ACTIVITY_FIELDS.Case],
  bulk: true,
  enabled: activityOn('Case'),
  booleanFields: ['IsDeleted', 'IsClosed'],
  deletes: 'none',
  async enrich(ctx, records, deleted) {
    const contacts = new Set<string>();
    for (const row of [...records, ...deleted]) if (typeof row.ContactId === 'string') contacts.add(row.ContactId);
    if (contacts.size === 0) return;
    const counts = await openCasesOf(ctx, [...contacts]);
    // A Contact whose only change is a deleted Case still needs its count: the deleted row carries it.
    const carried = new Set(records.map((r) => r.ContactId));
    for (const row of deleted) {
      if (carried.has(row.ContactId)) continue;
      carried.add(row.ContactId);
      records.push(Object.assign({ ...row }, { [COUNT_ONLY]: true }));
    }
    for (const record of records) (record as unknown as Record<symbol, unknown>)[OPEN_CASES] = counts;
  },
  toProfile: (record, ctx) => mapCase(record, { sourceId: ctx.connectionId }),
});

export const tasksStream = soqlStream({
  name: 'tasks',
  object: 'Task',
  select: () => [...ACTIVITY_FIELDS.Task],
  bulk: true,
  enabled: activityOn('Task'),
  booleanFields: ['IsDeleted', 'IsClosed'],
  deletes: 'none',
  toProfile: (record, ctx) => mapTask(record, { sourceId: ctx.connectionId }),
});

export const emailMessagesStream = soqlStream({
  name: 'email_messages',
  object: 'EmailMessage',
  select: () => [...ACTIVITY_FIELDS.EmailMessage],
  bulk: true,
  enabled: activityOn('EmailMessage'),
  booleanFields: ['IsDeleted', 'Incoming'],
  deletes: 'none',
  toProfile: (record) => mapEmailMessage(record),
});
