import { defineStream, type Batch, type TraitValue } from '@plexus/sdk';
import type { HubSpotConfig, HubSpotCrmObject } from './config.js';
import { accountDetails, associatedIds, batchRead, pipelineStages, type StageInfo } from './crm-lookups.js';
import { readObjects, type Ctx, type HubSpotCheckpoint, type ObjectReadSpec } from './crm-read.js';
import {
  dealTraits,
  DEAL_PROPERTIES,
  ENGAGEMENT_PROPERTIES,
  LINE_ITEM_PROPERTIES,
  mapContactTraits,
  mapDeal,
  mapEngagement,
  mapTicket,
  ticketTraits,
  TICKET_PROPERTIES,
  type ContactTraitsRecord,
  type DealRecord,
  type EngagementRecord,
  type EngagementType,
  type HubSpotRecordWithHistory,
  type TicketRecord,
} from './crm.mapping.js';
import type { HubSpotRecord } from './mapping.js';
import { prefetch } from './prefetch.js';

/** Batches enriched ahead while the hub stores the previous one (their lookups are most of a batch's requests). */
const ENRICHED_AHEAD = 2;

/** Records asked with their property history per batch read (HubSpot answers history for fewer records). */
const HISTORY_BATCH = 50;

type DealStreamRecord = DealRecord | ContactTraitsRecord;
type TicketStreamRecord = TicketRecord | ContactTraitsRecord;

const enabled = (ctx: Ctx, object: HubSpotCrmObject): boolean => (ctx.config.objects ?? []).includes(object);

const spec = (type: string, properties: string[]): ObjectReadSpec<HubSpotRecordWithHistory> => ({
  type,
  modifiedProperty: 'hs_lastmodifieddate',
  properties: () => properties,
});

/** Pipeline stages read once per run, and again when a record names a stage not seen (a pipeline added meanwhile). */
function stageCache(type: 'deals' | 'tickets') {
  let stages: Record<string, StageInfo> | undefined;
  return async (ctx: Ctx, stageIds: Array<string | null | undefined>): Promise<Record<string, StageInfo>> => {
    if (!stages || stageIds.some((id) => id && !stages![id])) {
      stages = Object.fromEntries(await pipelineStages(ctx, type));
    }
    return stages;
  };
}

/** Adds the version history of `property` to records that came without it (searches never carry history). */
async function withHistory(
  ctx: Ctx,
  type: string,
  records: HubSpotRecordWithHistory[],
  properties: string[],
  property: string,
): Promise<void> {
  const missing = records.filter((r) => !r.propertiesWithHistory?.[property]).map((r) => r.id);
  const read = await batchRead<HubSpotRecordWithHistory>(ctx, type, missing, properties, [property], HISTORY_BATCH);
  for (const record of records) {
    const fresh = read.get(record.id);
    if (fresh?.propertiesWithHistory) record.propertiesWithHistory = fresh.propertiesWithHistory;
  }
}

/**
 * The traits of each contact computed from all of its records of `type` (deals, tickets): the records of the
 * batch are used as read, the contact's other records are read by id.
 */
async function contactTraitsFrom(
  ctx: Ctx,
  type: string,
  contactIds: string[],
  inBatch: Map<string, HubSpotRecord>,
  properties: string[],
  compute: (records: HubSpotRecord[]) => Record<string, TraitValue>,
): Promise<Record<string, Record<string, TraitValue>>> {
  const byContact = await associatedIds(ctx, 'contacts', type, contactIds);
  const others = [...new Set([...byContact.values()].flat())].filter((id) => !inBatch.has(id));
  const read = await batchRead(ctx, type, others, properties);
  const out: Record<string, Record<string, TraitValue>> = {};
  for (const [contactId, ids] of byContact) {
    const records = ids.map((id) => inBatch.get(id) ?? read.get(id)).filter((r): r is HubSpotRecord => !!r);
    out[contactId] = compute(records);
  }
  return out;
}

/**
 * Records of a batch with their contacts and contact traits; the contacts of the batch's archived records get
 * their traits recomputed as `contact-traits` records (HubSpot keeps an archived record's associations for its
 * restore window; when it answers none, there is nothing to recompute).
 */
async function withContacts<R extends HubSpotRecord>(
  ctx: Ctx,
  type: string,
  batch: Batch<R, HubSpotCheckpoint>,
  traits?: (
    contactIds: string[],
    inBatch: Map<string, HubSpotRecord>,
  ) => Promise<Record<string, Record<string, TraitValue>>>,
) {
  const ids = batch.records.map((r) => r.id);
  const deleted = batch.deletedIds ?? [];
  const contactsOf = await associatedIds(ctx, type, 'contacts', [...ids, ...(traits ? deleted : [])]);
  const touched = [...new Set([...contactsOf.values()].flat())];
  const contactTraits =
    traits && touched.length > 0 ? await traits(touched, new Map(batch.records.map((r) => [r.id, r]))) : {};
  const covered = new Set(ids.flatMap((id) => contactsOf.get(id) ?? []));
  const observedAt = new Date().toISOString();
  const recomputed: ContactTraitsRecord[] = [
    ...new Set(deleted.flatMap((id) => contactsOf.get(id) ?? []).filter((c) => !covered.has(c))),
  ].map((contactId) => ({
    kind: 'contact-traits',
    id: `contact:${contactId}`,
    contactId,
    traits: contactTraits[contactId] ?? {},
    observedAt,
  }));
  return { contactsOf, contactTraits, recomputed, observedAt };
}

export const deals = defineStream<HubSpotConfig, DealStreamRecord, HubSpotCheckpoint>({
  name: 'deals',
  primaryKey: ['id'],
  mode: 'incremental',
  cursorField: 'hs_lastmodifieddate',
  deletes: 'deleted-ids',
  async *read(ctx, checkpoint) {
    if (!enabled(ctx, 'deals')) return;
    yield* prefetch(enrichedDeals(ctx, checkpoint), ENRICHED_AHEAD);
  },
  toProfile: (record, ctx) =>
    record.kind === 'deal' ? mapDeal(record, ctx.connectionId) : mapContactTraits(record, ctx.connectionId),
});

/** The line items of deals, by deal id. */
async function lineItemsOf(ctx: Ctx, dealIds: string[]) {
  const itemsOf = await associatedIds(ctx, 'deals', 'line_items', dealIds);
  const items = await batchRead(ctx, 'line_items', [...itemsOf.values()].flat(), LINE_ITEM_PROPERTIES);
  return { itemsOf, items };
}

/** Deal batches with their history, contacts, line items and the contacts' deal traits. */
async function* enrichedDeals(
  ctx: Ctx,
  checkpoint: HubSpotCheckpoint | undefined,
): AsyncGenerator<Batch<DealStreamRecord, HubSpotCheckpoint>> {
  const stagesFor = stageCache('deals');
  let currency: string | undefined;
  for await (const batch of readObjects(ctx, spec('deals', DEAL_PROPERTIES), checkpoint)) {
    currency ??= (await accountDetails(ctx)).currency;
    const stages = await stagesFor(
      ctx,
      batch.records.map((d) => d.properties?.dealstage),
    );
    const closed = batch.records.filter((d) => stages[d.properties?.dealstage ?? '']?.closed).map((d) => d.id);
    // Independent lookups go out together; the connection's rate budget paces them.
    const [, { contactsOf, contactTraits, recomputed, observedAt }, { itemsOf, items }] = await Promise.all([
      withHistory(ctx, 'deals', batch.records, DEAL_PROPERTIES, 'dealstage'),
      withContacts(ctx, 'deals', batch, (contactIds, inBatch) =>
        contactTraitsFrom(ctx, 'deals', contactIds, inBatch, DEAL_PROPERTIES, (all) =>
          dealTraits(all, stages, currency),
        ),
      ),
      lineItemsOf(ctx, closed),
    ]);
    const records: DealStreamRecord[] = batch.records.map((deal) => ({
      kind: 'deal',
      id: deal.id,
      deal,
      contactIds: contactsOf.get(deal.id) ?? [],
      lineItems: (itemsOf.get(deal.id) ?? []).map((id) => items.get(id)).filter((i): i is HubSpotRecord => !!i),
      stages,
      contactTraits,
      companyCurrency: currency,
      observedAt,
    }));
    yield { ...batch, records: [...records, ...recomputed] };
  }
}

export const tickets = defineStream<HubSpotConfig, TicketStreamRecord, HubSpotCheckpoint>({
  name: 'tickets',
  primaryKey: ['id'],
  mode: 'incremental',
  cursorField: 'hs_lastmodifieddate',
  deletes: 'deleted-ids',
  async *read(ctx, checkpoint) {
    if (!enabled(ctx, 'tickets')) return;
    yield* prefetch(enrichedTickets(ctx, checkpoint), ENRICHED_AHEAD);
  },
  toProfile: (record, ctx) =>
    record.kind === 'ticket' ? mapTicket(record, ctx.connectionId) : mapContactTraits(record, ctx.connectionId),
});

/** Ticket batches with their history, contacts and the contacts' open ticket counts. */
async function* enrichedTickets(
  ctx: Ctx,
  checkpoint: HubSpotCheckpoint | undefined,
): AsyncGenerator<Batch<TicketStreamRecord, HubSpotCheckpoint>> {
  const stagesFor = stageCache('tickets');
  for await (const batch of readObjects(ctx, spec('tickets', TICKET_PROPERTIES), checkpoint)) {
    const stages = await stagesFor(
      ctx,
      batch.records.map((t) => t.properties?.hs_pipeline_stage),
    );
    await withHistory(ctx, 'tickets', batch.records, TICKET_PROPERTIES, 'hs_pipeline_stage');
    const { contactsOf, contactTraits, recomputed, observedAt } = await withContacts(
      ctx,
      'tickets',
      batch,
      (contactIds, inBatch) =>
        contactTraitsFrom(ctx, 'tickets', contactIds, inBatch, TICKET_PROPERTIES, (all) => ticketTraits(all, stages)),
    );
    const records: TicketStreamRecord[] = batch.records.map((ticket) => ({
      kind: 'ticket',
      id: ticket.id,
      ticket,
      contactIds: contactsOf.get(ticket.id) ?? [],
      stages,
      contactTraits,
      observedAt,
    }));
    yield { ...batch, records: [...records, ...recomputed] };
  }
}

/** Emails, calls or meetings as events on their contacts; archived ones are counted as deletes (events stay). */
function engagementStream(type: EngagementType) {
  return defineStream<HubSpotConfig, EngagementRecord, HubSpotCheckpoint>({
    name: type,
    primaryKey: ['id'],
    mode: 'incremental',
    cursorField: 'hs_lastmodifieddate',
    deletes: 'deleted-ids',
    async *read(ctx, checkpoint) {
      if (!enabled(ctx, type)) return;
      for await (const batch of readObjects(ctx, spec(type, ENGAGEMENT_PROPERTIES[type]), checkpoint)) {
        const { contactsOf } = await withContacts(ctx, type, batch);
        yield {
          ...batch,
          records: batch.records.map((engagement) => ({
            kind: 'engagement' as const,
            id: engagement.id,
            type,
            engagement,
            contactIds: contactsOf.get(engagement.id) ?? [],
          })),
        };
      }
    },
    toProfile: (record, ctx) => mapEngagement(record, ctx.connectionId),
  });
}

export const emails = engagementStream('emails');
export const calls = engagementStream('calls');
export const meetings = engagementStream('meetings');
