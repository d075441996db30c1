import type { EmulatorRequest, Reply } from '../common/server.js';
import type { HubSpotObject } from './hubspot.data.js';
import type { HubSpotState } from './hubspot.emulator.js';

/** The CRM object types the emulator serves under `/crm/v3/objects/{type}`. */
export const HUBSPOT_OBJECT_TYPES = [
  'contacts',
  'companies',
  'deals',
  'line_items',
  'tickets',
  'emails',
  'calls',
  'meetings',
] as const;
export type HubSpotObjectType = (typeof HUBSPOT_OBJECT_TYPES)[number];

const SINGULAR: Record<HubSpotObjectType, string> = {
  contacts: 'contact',
  companies: 'company',
  deals: 'deal',
  line_items: 'line_item',
  tickets: 'ticket',
  emails: 'email',
  calls: 'call',
  meetings: 'meeting',
};

/** HubSpot's upper-case name of an object type in error messages (`CONTACT`, `LINE_ITEM`). */
export function objectTypeLabel(type: HubSpotObjectType): string {
  return SINGULAR[type].toUpperCase();
}

/**
 * HUBSPOT_DEFINED association type ids of the default (unlabelled) associations, by `from→to` (HubSpot's
 * association type table).
 */
export const ASSOCIATION_TYPE_IDS: Record<string, number> = {
  'contacts→companies': 279,
  'companies→contacts': 280,
  'deals→contacts': 3,
  'contacts→deals': 4,
  'contacts→tickets': 15,
  'tickets→contacts': 16,
  'deals→line_items': 19,
  'line_items→deals': 20,
  'contacts→calls': 193,
  'calls→contacts': 194,
  'contacts→emails': 197,
  'emails→contacts': 198,
  'contacts→meetings': 199,
  'meetings→contacts': 200,
};

/** Associations v4 answers at most this many associated records per input and page. */
export const ASSOCIATIONS_PAGE_SIZE = 500;
/** Inputs allowed in one associations batch read (HubSpot's limit since February 2025). */
export const ASSOCIATIONS_BATCH_LIMIT = 1_000;

/** Associations between records, kept in both directions as HubSpot reports them. */
export class HubSpotAssociations {
  private readonly links = new Map<string, string[]>();

  private static key(type: string, id: string, toType: string): string {
    return `${type}:${id}:${toType}`;
  }

  /** Associates two records (both directions); associating twice is one association. */
  associate(fromType: HubSpotObjectType, fromId: string, toType: HubSpotObjectType, toId: string): void {
    this.add(HubSpotAssociations.key(fromType, fromId, toType), toId);
    this.add(HubSpotAssociations.key(toType, toId, fromType), fromId);
  }

  /** Removes an association (both directions). */
  dissociate(fromType: HubSpotObjectType, fromId: string, toType: HubSpotObjectType, toId: string): void {
    this.remove(HubSpotAssociations.key(fromType, fromId, toType), toId);
    this.remove(HubSpotAssociations.key(toType, toId, fromType), fromId);
  }

  /** Ids of the `toType` records associated with a record, in the order they were associated. */
  of(fromType: HubSpotObjectType, fromId: string, toType: HubSpotObjectType): readonly string[] {
    return this.links.get(HubSpotAssociations.key(fromType, fromId, toType)) ?? [];
  }

  private add(key: string, id: string): void {
    const list = this.links.get(key);
    if (!list) this.links.set(key, [id]);
    else if (!list.includes(id)) list.push(id);
  }

  private remove(key: string, id: string): void {
    const list = this.links.get(key);
    if (list)
      this.links.set(
        key,
        list.filter((other) => other !== id),
      );
  }
}

export interface HubSpotPipelineStage {
  id: string;
  label: string;
  displayOrder: number;
  /** Deals: `isClosed` and `probability` ("1.0" won, "0.0" lost); tickets: `ticketState` OPEN or CLOSED. */
  metadata: Record<string, string>;
}

export interface HubSpotPipeline {
  id: string;
  label: string;
  displayOrder: number;
  stages: HubSpotPipelineStage[];
}

/** HubSpot's default sales pipeline and support pipeline with their stage ids. */
export function defaultPipelines(): Record<'deals' | 'tickets', HubSpotPipeline[]> {
  const deal = (id: string, label: string, order: number, probability: string, isClosed = false) => ({
    id,
    label,
    displayOrder: order,
    metadata: { isClosed: String(isClosed), probability },
  });
  const ticket = (id: string, label: string, order: number, ticketState: 'OPEN' | 'CLOSED') => ({
    id,
    label,
    displayOrder: order,
    metadata: { ticketState, isClosed: String(ticketState === 'CLOSED') },
  });
  return {
    deals: [
      {
        id: 'default',
        label: 'Sales Pipeline',
        displayOrder: 0,
        stages: [
          deal('appointmentscheduled', 'Appointment Scheduled', 0, '0.2'),
          deal('qualifiedtobuy', 'Qualified To Buy', 1, '0.4'),
          deal('presentationscheduled', 'Presentation Scheduled', 2, '0.6'),
          deal('decisionmakerboughtin', 'Decision Maker Bought-In', 3, '0.8'),
          deal('contractsent', 'Contract Sent', 4, '0.9'),
          deal('closedwon', 'Closed Won', 5, '1.0', true),
          deal('closedlost', 'Closed Lost', 6, '0.0', true),
        ],
      },
    ],
    tickets: [
      {
        id: '0',
        label: 'Support Pipeline',
        displayOrder: 0,
        stages: [
          ticket('1', 'New', 0, 'OPEN'),
          ticket('2', 'Waiting on contact', 1, 'OPEN'),
          ticket('3', 'Waiting on us', 2, 'OPEN'),
          ticket('4', 'Closed', 3, 'CLOSED'),
        ],
      },
    ],
  };
}

/** `propertiesWithHistory` of one record: each asked property's versions, newest first. */
export function historyOf(
  object: HubSpotObject,
  names: string[],
): Record<string, Array<{ value: string | null; timestamp: string; sourceType: string }>> {
  const out: Record<string, Array<{ value: string | null; timestamp: string; sourceType: string }>> = {};
  for (const name of names) {
    const versions = object.history?.[name] ?? [
      { value: object.properties[name] ?? null, timestamp: object.createdAt },
    ];
    out[name] = versions.filter((v) => v.value !== null).map((v) => ({ ...v, sourceType: 'CRM_UI' }));
  }
  return out;
}

/**
 * A batch answer: 200 `COMPLETE` with the results, or 207 with them and the errors when some inputs failed.
 */
export function batchAnswer(results: unknown[], errors: unknown[]): Reply {
  const now = new Date().toISOString();
  const answer = { status: 'COMPLETE', results, startedAt: now, completedAt: now };
  if (errors.length === 0) return { status: 200, json: answer };
  return { status: 207, json: { ...answer, numErrors: errors.length, errors } };
}

/** The 207 error of a batch read naming the ids that are deleted or do not exist. */
export function objectsNotFound(type: HubSpotObjectType, ids: string[]): unknown[] {
  if (ids.length === 0) return [];
  return [
    {
      status: 'error',
      category: 'OBJECT_NOT_FOUND',
      message: `Could not get some ${objectTypeLabel(type)} objects, they may be deleted or not exist. Check that ids are valid.`,
      context: { ids },
    },
  ];
}

type ErrorReply = (status: number, category: string, message: string, extra?: Record<string, unknown>) => Reply;

const isObjectType = (value: string): value is HubSpotObjectType =>
  (HUBSPOT_OBJECT_TYPES as readonly string[]).includes(value);

/**
 * Associations v4 batch reads, pipelines and the account's details; undefined for any other path. Associations of
 * archived records stay readable (HubSpot keeps them so a restore brings them back).
 */
export function serveCrmExtras(req: EmulatorRequest, state: HubSpotState, error: ErrorReply): Reply | undefined {
  if (req.path === '/account-info/v3/details' && req.method === 'GET') {
    return {
      status: 200,
      json: {
        portalId: state.portalId,
        accountType: 'STANDARD',
        timeZone: 'US/Eastern',
        companyCurrency: 'USD',
        additionalCurrencies: ['EUR', 'GBP'],
        utcOffset: '-05:00',
        utcOffsetMilliseconds: -18_000_000,
        uiDomain: 'app.hubspot.com',
        dataHostingLocation: 'na1',
      },
    };
  }
  const pipelines = /^\/crm\/v3\/pipelines\/([^/]+)$/.exec(req.path);
  if (pipelines && req.method === 'GET') {
    const type = pipelines[1];
    if (type !== 'deals' && type !== 'tickets') {
      return error(400, 'VALIDATION_ERROR', `Unable to infer object type from: ${type}`);
    }
    return { status: 200, json: { results: state.pipelines[type] } };
  }
  const batch = /^\/crm\/v4\/associations\/([^/]+)\/([^/]+)\/batch\/read$/.exec(req.path);
  if (!batch) return undefined;
  if (req.method !== 'POST') return error(405, 'VALIDATION_ERROR', `Method ${req.method} not allowed on ${req.path}`);
  const [, from, to] = batch;
  if (!isObjectType(from) || !isObjectType(to)) {
    return error(400, 'VALIDATION_ERROR', `Unable to infer object type from: ${isObjectType(from) ? to : from}`);
  }
  let body: { inputs?: unknown };
  try {
    body = req.json() as typeof body;
  } catch {
    return error(
      400,
      'VALIDATION_ERROR',
      'Invalid input JSON on line 1, column 1: Cannot build BatchInputPublicFetchAssociationsBatchRequest',
    );
  }
  if (!Array.isArray(body?.inputs)) return error(400, 'VALIDATION_ERROR', 'inputs must be an array');
  if (body.inputs.length > ASSOCIATIONS_BATCH_LIMIT) {
    return error(400, 'VALIDATION_ERROR', `Batch size must be ${ASSOCIATIONS_BATCH_LIMIT} or fewer inputs.`);
  }
  const typeId = ASSOCIATION_TYPE_IDS[`${from}→${to}`];
  const results: unknown[] = [];
  const missing: string[] = [];
  for (const raw of body.inputs as Array<{ id?: unknown; after?: unknown }>) {
    if (raw === null || typeof raw !== 'object' || (typeof raw.id !== 'string' && typeof raw.id !== 'number')) {
      return error(400, 'VALIDATION_ERROR', `every input needs an id, got ${JSON.stringify(raw)}`);
    }
    const id = String(raw.id);
    const all = state.associations.of(from, id, to);
    const start = raw.after === undefined ? 0 : Number(raw.after);
    if (!Number.isInteger(start) || start < 0) {
      return error(400, 'VALIDATION_ERROR', `after is not a valid paging token: ${String(raw.after)}`);
    }
    if (all.length === 0) {
      missing.push(id);
      continue;
    }
    const page = all.slice(start, start + ASSOCIATIONS_PAGE_SIZE);
    const next = start + page.length < all.length ? String(start + page.length) : undefined;
    results.push({
      from: { id },
      to: page.map((toId) => ({
        toObjectId: Number(toId),
        associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: typeId ?? 1, label: null }],
      })),
      ...(next === undefined ? {} : { paging: { next: { after: next, link: null } } }),
    });
  }
  return batchAnswer(
    results,
    missing.map((id) => ({
      status: 'error',
      category: 'OBJECT_NOT_FOUND',
      subCategory: 'crm.associations.NO_ASSOCIATIONS_FOUND',
      message: `No ${SINGULAR[to]} is associated with ${SINGULAR[from]} ${id}.`,
      context: { fromObjectId: [id], toObjectType: [SINGULAR[to]] },
    })),
  );
}
