import { SystemError } from '@plexus/sdk';
import { hubspotRequest, type Ctx } from './crm-read.js';
import type { HubSpotRecord } from './mapping.js';

/** Inputs of one associations v4 batch read (HubSpot's limit). */
export const ASSOCIATION_BATCH = 1_000;
/** Inputs of one objects batch read. */
export const OBJECT_BATCH = 100;
/** Batch reads one lookup has in flight at once. */
const READS_IN_FLIGHT = 3;

/** `work` over every item, at most `limit` at a time; results in the items' order. */
async function inParallel<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

interface AssociationsAnswer {
  results?: Array<{
    from: { id: string };
    to?: Array<{ toObjectId: number | string }>;
    paging?: { next?: { after?: string } };
  }>;
}

/**
 * The `toType` records associated with each of `ids` (associations v4 batch read, 1,000 inputs a request; an
 * input whose associations span pages is asked again with its `after`). Ids without associations map to `[]`
 * (HubSpot reports them as `NO_ASSOCIATIONS_FOUND` errors of a 207 answer).
 */
export async function associatedIds(
  ctx: Ctx,
  fromType: string,
  toType: string,
  ids: readonly string[],
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(ids.map((id) => [id, []]));
  let pending: Array<{ id: string; after?: string }> = [...new Set(ids)].map((id) => ({ id }));
  while (pending.length > 0) {
    const next: Array<{ id: string; after?: string }> = [];
    for (let i = 0; i < pending.length; i += ASSOCIATION_BATCH) {
      const inputs = pending.slice(i, i + ASSOCIATION_BATCH);
      const { data } = await hubspotRequest<AssociationsAnswer>(ctx, {
        method: 'post',
        url: `/crm/v4/associations/${fromType}/${toType}/batch/read`,
        data: { inputs },
      });
      for (const result of data.results ?? []) {
        const from = String(result.from?.id);
        const list = out.get(from);
        if (!list) continue;
        for (const to of result.to ?? []) list.push(String(to.toObjectId));
        const after = result.paging?.next?.after;
        if (after !== undefined) {
          if (inputs.some((input) => input.id === from && input.after === after)) {
            throw new SystemError(`HubSpot returned the association cursor ${after} of ${fromType} ${from} twice`);
          }
          next.push({ id: from, after });
        }
      }
    }
    pending = next;
  }
  return out;
}

/**
 * Reads records by id (`POST /crm/v3/objects/{type}/batch/read`, 100 a request); deleted ones are left out
 * (HubSpot's 207 names them).
 */
export async function batchRead<R extends HubSpotRecord>(
  ctx: Ctx,
  type: string,
  ids: readonly string[],
  properties: string[],
  propertiesWithHistory: string[] = [],
  chunkSize = OBJECT_BATCH,
): Promise<Map<string, R>> {
  const unique = [...new Set(ids)];
  const chunks: string[][] = [];
  for (let i = 0; i < unique.length; i += chunkSize) chunks.push(unique.slice(i, i + chunkSize));
  // A few chunks at a time: the connection's rate budget paces them rather than the round trips.
  const answers = await inParallel(chunks, READS_IN_FLIGHT, (chunk) =>
    hubspotRequest<{ results?: R[] }>(ctx, {
      method: 'post',
      url: `/crm/v3/objects/${type}/batch/read`,
      data: {
        inputs: chunk.map((id) => ({ id })),
        properties,
        ...(propertiesWithHistory.length > 0 ? { propertiesWithHistory } : {}),
      },
    }),
  );
  const out = new Map<string, R>();
  for (const { data } of answers) for (const record of data.results ?? []) out.set(String(record.id), record);
  return out;
}

/** A pipeline stage as the mapping needs it. */
export interface StageInfo {
  label: string;
  /** Deals: the stage closes the deal; tickets: `ticketState` is CLOSED. */
  closed: boolean;
  /** Deals only: a closed stage with probability 1 (won); closed with probability 0 is lost. */
  won: boolean;
}

interface PipelinesAnswer {
  results?: Array<{ id: string; stages?: Array<{ id: string; label?: string; metadata?: Record<string, string> }> }>;
}

/** Every stage of every pipeline of `deals` or `tickets`, by stage id (`GET /crm/v3/pipelines/{type}`). */
export async function pipelineStages(ctx: Ctx, type: 'deals' | 'tickets'): Promise<Map<string, StageInfo>> {
  const { data } = await hubspotRequest<PipelinesAnswer>(ctx, { url: `/crm/v3/pipelines/${type}` });
  const stages = new Map<string, StageInfo>();
  for (const pipeline of data.results ?? []) {
    for (const stage of pipeline.stages ?? []) {
      const m = stage.metadata ?? {};
      const closed = type === 'tickets' ? m.ticketState === 'CLOSED' : m.isClosed === 'true';
      const won = type === 'deals' && closed && Number(m.probability) === 1;
      stages.set(stage.id, { label: stage.label ?? stage.id, closed, won });
    }
  }
  return stages;
}

/** The account's id and company currency (`GET /account-info/v3/details`). */
export async function accountDetails(ctx: Ctx): Promise<{ portalId: string; currency?: string }> {
  const { data } = await hubspotRequest<{ portalId?: number | string; companyCurrency?: string }>(ctx, {
    url: '/account-info/v3/details',
  });
  if (data.portalId === undefined) throw new SystemError('HubSpot answered the account details without a portalId');
  return { portalId: String(data.portalId), currency: data.companyCurrency };
}
