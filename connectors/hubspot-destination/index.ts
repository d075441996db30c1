import {
  ConfigurationError,
  defineDestination,
  requestsPerSecond,
  sendInChunks,
  sha256Hex,
  SystemError,
  verdictsForFailure,
  writeAddsThenRemoves,
  type ConnectorContext,
  type RequestReport,
  type Verdict,
  type WrittenRecord,
} from '@plexus/sdk';
import { HubSpotDestinationConfig } from './config.js';
import { contactProperties, toContactItem, type HubSpotContactItem } from './items.js';
import { hubspotDestinationHttpPolicy, unusableProperties } from './policy.js';

export { HubSpotDestinationConfig } from './config.js';
export * from './items.js';
export * from './policy.js';

/** Contacts one batch upsert (and one batch read) takes. */
export const UPSERT_LIMIT = 100;
/** The object type id of contacts in Lists v3. */
const CONTACTS_OBJECT_TYPE_ID = '0-1';
/**
 * The contact property Plexus keeps the SHA-256 of the contact's email in. The activation ledger keeps only the hash
 * of the email it sent (never the address), so a removal or an erasure that comes after the profile was erased finds
 * the contact by this property.
 */
export const EMAIL_HASH_PROPERTY = 'plexus_email_sha256';
const HASHED = /^sha256:([0-9a-f]{64})$/;

type Ctx = ConnectorContext<HubSpotDestinationConfig>;

interface PropertyDefinition {
  name: string;
  modificationMetadata?: { readOnlyValue?: boolean };
}
interface HubSpotErrorBody {
  message?: string;
  category?: string;
  errors?: Array<{ message?: string; code?: string; context?: { propertyName?: string[] } }>;
}
interface UpsertAnswer {
  results?: Array<{ id: string; properties?: Record<string, string | null> }>;
}
interface HubSpotList {
  list?: { listId: string; name?: string; processingType?: string };
}

const bodyOf = (data: unknown): HubSpotErrorBody => (data && typeof data === 'object' ? data : {});

/** The account's id, asked once per connection: written values are recorded under `hubspot:<portalId>`. */
const portals = new Map<string, string>();
async function systemOf(ctx: Ctx): Promise<string> {
  const key = `${ctx.connectionId}|${ctx.config.baseUrl}`;
  let portalId = portals.get(key);
  if (portalId === undefined) {
    const { data } = await ctx.http.get<{ portalId?: number | string }>('/account-info/v3/details');
    if (data.portalId === undefined) throw new SystemError('HubSpot answered the account details without a portalId');
    portalId = String(data.portalId);
    if (portals.size > 10_000) portals.clear();
    portals.set(key, portalId);
  }
  return `hubspot:${portalId}`;
}

/** The mapped properties HubSpot lacks, and those it cannot take (read-only, or the upsert key). */
async function mappedProperties(ctx: Ctx): Promise<{ missing: string[]; problems: string[]; hashProperty: boolean }> {
  const { data } = await ctx.http.get<{ results?: PropertyDefinition[] }>('/crm/v3/properties/contacts');
  const known = new Map((data.results ?? []).map((p) => [p.name, p]));
  const missing: string[] = [];
  const problems: string[] = [];
  for (const [trait, property] of Object.entries(ctx.config.properties ?? {})) {
    if (property === EMAIL_HASH_PROPERTY) problems.push(`${trait} → ${property}: Plexus keeps its own value there`);
    const definition = known.get(property);
    if (property === 'email') problems.push(`${trait} → email: email is the key contacts are matched on`);
    else if (!definition) missing.push(property);
    else if (definition.modificationMetadata?.readOnlyValue) {
      problems.push(`${trait} → ${property}: HubSpot computes ${property} (read-only)`);
    }
  }
  return { missing: [...new Set(missing)], problems, hashProperty: known.has(EMAIL_HASH_PROPERTY) };
}

/** Mappings whose properties exist (created when missing and allowed), per connection and mapping. */
const ensured = new Set<string>();
async function ensureProperties(ctx: Ctx): Promise<void> {
  const key = `${ctx.connectionId}|${ctx.config.baseUrl}|${JSON.stringify(ctx.config.properties ?? {})}`;
  if (ensured.has(key)) return;
  const { missing, problems, hashProperty } = await mappedProperties(ctx);
  if (problems.length > 0) throw unusableProperties(problems);
  if (missing.length > 0 && !ctx.config.createMissingProperties) {
    throw unusableProperties([`${missing.join(', ')} do not exist (create them, or turn createMissingProperties on)`]);
  }
  if (!hashProperty) {
    await ctx.http.post(
      '/crm/v3/properties/contacts',
      {
        name: EMAIL_HASH_PROPERTY,
        label: 'Plexus email SHA-256',
        type: 'string',
        fieldType: 'text',
        groupName: 'contactinformation',
      },
      { acceptStatus: [409] },
    );
  }
  for (const name of missing) {
    const trait = Object.entries(ctx.config.properties).find(([, p]) => p === name)?.[0] ?? name;
    // 409: created meanwhile by another worker, which is what was wanted.
    await ctx.http.post(
      '/crm/v3/properties/contacts',
      { name, label: trait, type: 'string', fieldType: 'text', groupName: 'contactinformation' },
      { acceptStatus: [409] },
    );
  }
  if (ensured.size > 10_000) ensured.clear();
  ensured.add(key);
}

/** What one upsert request answered: the contact id per email and the values HubSpot stored. */
interface Upserted {
  ids: Map<string, string>;
  values: Map<string, Record<string, string | null>>;
  /** Emails HubSpot refused, with its reason (the rest of the request went through). */
  refused: Map<string, string>;
}

/**
 * Upserts contacts by email (`batch/upsert`, one input per email: HubSpot refuses a batch naming an id twice).
 * A 400 about a property fails the mapping (a configuration error); a 400 about a value is narrowed down by
 * sending the batch's contacts one by one, so only the contacts HubSpot refuses fail.
 */
async function upsert(ctx: Ctx, items: HubSpotContactItem[]): Promise<Upserted> {
  const inputs = new Map<string, Record<string, string>>();
  for (const item of items) {
    inputs.set(item.email, {
      ...inputs.get(item.email),
      ...contactProperties(item, ctx.config.properties ?? {}),
      [EMAIL_HASH_PROPERTY]: sha256Hex(item.email),
    });
  }
  const result: Upserted = { ids: new Map(), values: new Map(), refused: new Map() };
  const send = async (emails: string[]): Promise<void> => {
    const response = await ctx.http.post<UpsertAnswer>(
      '/crm/v3/objects/contacts/batch/upsert',
      { inputs: emails.map((email) => ({ idProperty: 'email', id: email, properties: inputs.get(email) })) },
      { acceptStatus: [400] },
    );
    if (response.status === 400) {
      const body = bodyOf(response.data);
      const codes = (body.errors ?? []).map((e) => e.code);
      if (codes.some((c) => c === 'PROPERTY_DOESNT_EXIST' || c === 'READ_ONLY_VALUE')) {
        ensured.clear();
        throw unusableProperties([body.message ?? 'HubSpot refused a mapped property']);
      }
      if (emails.length === 1) {
        result.refused.set(emails[0], body.message ?? 'HubSpot refused the contact');
        return;
      }
      for (const email of emails) await send([email]);
      return;
    }
    for (const contact of response.data.results ?? []) {
      const email = (contact.properties?.email ?? '').trim().toLowerCase();
      if (!inputs.has(email)) continue;
      result.ids.set(email, String(contact.id));
      result.values.set(email, contact.properties ?? {});
    }
  };
  await send([...inputs.keys()]);
  return result;
}

/** Adds or removes contacts of a MANUAL list; the ids HubSpot did not find come back. */
async function changeMembership(
  ctx: Ctx,
  listId: string,
  change: 'add' | 'remove',
  ids: string[],
): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const { data } = await ctx.http.put<{ recordIdsMissing?: Array<string | number> }>(
    `/crm/v3/lists/${encodeURIComponent(listId)}/memberships/${change}`,
    ids,
  );
  return new Set((data.recordIdsMissing ?? []).map(String));
}

/**
 * Contact ids of the emails HubSpot knows: clear emails by `batch/read`, emails the ledger kept hashed
 * (`sha256:<hex>`) by a search on {@link EMAIL_HASH_PROPERTY}. Keyed by the email as given; unknown ones are left out.
 */
async function contactIds(ctx: Ctx, emails: string[]): Promise<Map<string, string>> {
  const clear = emails.filter((e) => !HASHED.test(e));
  const out = clear.length > 0 ? await idsByEmail(ctx, clear) : new Map<string, string>();
  const hashes = [...new Set(emails.map((e) => HASHED.exec(e)?.[1]).filter((h): h is string => h !== undefined))];
  if (hashes.length === 0) return out;
  const { data } = await ctx.http.post<{ results?: Array<{ id: string; properties?: Record<string, string | null> }> }>(
    '/crm/v3/objects/contacts/search',
    {
      filterGroups: [{ filters: [{ propertyName: EMAIL_HASH_PROPERTY, operator: 'IN', values: hashes }] }],
      properties: [EMAIL_HASH_PROPERTY],
      limit: UPSERT_LIMIT,
    },
  );
  for (const contact of data.results ?? []) {
    const hash = contact.properties?.[EMAIL_HASH_PROPERTY];
    if (hash) out.set(`sha256:${hash}`, String(contact.id));
  }
  return out;
}

/** Contact ids of the emails HubSpot knows (`batch/read` by email; unknown ones are left out). */
async function idsByEmail(ctx: Ctx, emails: string[]): Promise<Map<string, string>> {
  const { data } = await ctx.http.post<{ results?: Array<{ id: string; properties?: { email?: string } }> }>(
    '/crm/v3/objects/contacts/batch/read',
    { idProperty: 'email', inputs: [...new Set(emails)].map((id) => ({ id })), properties: ['email'] },
  );
  return new Map((data.results ?? []).map((c) => [(c.properties?.email ?? '').trim().toLowerCase(), String(c.id)]));
}

function listName(config: HubSpotDestinationConfig, audience: { name: string; activationId: string }): string {
  // The Plexus activation's id keeps the name unique and stable: a create whose answer was lost is found, not
  // repeated, and another activation in the same portal (of this audience too) never finds it.
  return `${config.listNamePrefix ?? ''}${audience.name} [${audience.activationId}]`;
}

/**
 * HubSpot contacts and lists: enriched traits written to contact properties (batch upsert by email, 100 a request),
 * audience membership as a MANUAL list (Lists v3 memberships), GDPR deletion as erasure. Reports the values it
 * wrote so the HubSpot source does not read them back as changes. See README.md.
 */
export default defineDestination<HubSpotDestinationConfig, HubSpotContactItem>({
  id: 'hubspot-destination',
  version: '0.1.0',
  sdk: '^0.1.0',
  kind: 'destination',
  displayName: 'HubSpot (contacts and lists)',
  description:
    'Writes profile and computed traits to HubSpot contact properties and audiences to HubSpot lists; erases contacts with the GDPR delete',
  config: HubSpotDestinationConfig,
  secrets: ['accessToken'],
  rateLimit: (config) => requestsPerSecond((config as HubSpotDestinationConfig).requestsPerSecond ?? 10),
  http: hubspotDestinationHttpPolicy,
  identifiers: ['email'],
  accepts: ['email'],
  purpose: 'personalization',
  batch: { maxItems: UPSERT_LIMIT },

  async check(ctx) {
    const { missing, problems } = await mappedProperties(ctx);
    if (missing.length > 0 && !ctx.config.createMissingProperties) {
      problems.push(`${missing.join(', ')} do not exist (create them, or turn createMissingProperties on)`);
    }
    if (problems.length > 0) throw unusableProperties(problems);
    await ctx.http.get(
      `/crm/v3/lists/object-type-id/${CONTACTS_OBJECT_TYPE_ID}/name/${encodeURIComponent('plexus-check')}`,
      {
        acceptStatus: [404],
      },
    );
  },

  async ensureAudience(ctx, audience) {
    if (audience.externalId) {
      const response = await ctx.http.get<HubSpotList>(`/crm/v3/lists/${encodeURIComponent(audience.externalId)}`, {
        acceptStatus: [404],
      });
      if (response.status === 404 || !response.data.list) {
        throw new ConfigurationError(
          `HubSpot list ${audience.externalId} of audience ${audience.name} no longer exists: clear the audience's list id to create a new one`,
          { status: 404 },
        );
      }
      return { externalId: String(response.data.list.listId) };
    }
    const name = listName(ctx.config, audience);
    const found = await ctx.http.get<HubSpotList>(
      `/crm/v3/lists/object-type-id/${CONTACTS_OBJECT_TYPE_ID}/name/${encodeURIComponent(name)}`,
      { acceptStatus: [404] },
    );
    if (found.status !== 404 && found.data.list) return { externalId: String(found.data.list.listId) };
    const { data } = await ctx.http.post<HubSpotList>(
      '/crm/v3/lists',
      { name, objectTypeId: CONTACTS_OBJECT_TYPE_ID, processingType: 'MANUAL' },
      { retries: 0 },
    );
    if (!data.list?.listId) throw new SystemError('HubSpot created the list without answering its id');
    return { externalId: String(data.list.listId) };
  },

  toItem: toContactItem,

  async write(ctx, audience, { adds, removes }) {
    const written: WrittenRecord[] = [];
    const addChunk = async (chunk: HubSpotContactItem[]) => {
      await ensureProperties(ctx);
      const system = await systemOf(ctx);
      const upserted = await upsert(ctx, chunk);
      const missing = await changeMembership(ctx, audience.externalId, 'add', [...new Set(upserted.ids.values())]);
      const reported = new Set<string>();
      const verdicts = chunk.map((item): Verdict => {
        const refused = upserted.refused.get(item.email);
        if (refused !== undefined)
          return { abort: `HubSpot refused ${item.email}: ${refused}`, failureType: 'invalid' };
        const id = upserted.ids.get(item.email);
        if (id === undefined || missing.has(id)) {
          return { abort: `HubSpot did not keep the contact ${item.email}`, failureType: 'system' };
        }
        if (!reported.has(id)) {
          reported.add(id);
          const stored = upserted.values.get(item.email) ?? {};
          const values: Record<string, string | null> = {};
          for (const [property, value] of Object.entries(contactProperties(item, ctx.config.properties ?? {}))) {
            values[property] = stored[property] ?? value;
          }
          if (Object.keys(values).length > 0) {
            written.push({ system, object: 'contacts', id, profileId: item.profileId, values });
          }
        }
        return { ok: true };
      });
      const report: RequestReport = {
        operation: 'add',
        items: chunk.length,
        received: chunk.length - upserted.refused.size,
        invalid: upserted.refused.size,
        invalidSamples: [...upserted.refused.entries()].slice(0, 10).map(([value, reason]) => ({ value, reason })),
      };
      return { verdicts, requests: [report] };
    };
    const removeChunk = async (chunk: HubSpotContactItem[]) => {
      const ids = await contactIds(
        ctx,
        chunk.map((i) => i.email),
      );
      // A contact HubSpot does not know is in no list: its removal is done.
      await changeMembership(ctx, audience.externalId, 'remove', [...new Set(ids.values())]);
      return {
        verdicts: chunk.map((): Verdict => ({ ok: true })),
        requests: [{ operation: 'remove' as const, items: chunk.length }],
      };
    };
    const result = await writeAddsThenRemoves(
      adds,
      removes,
      (items) => sendInChunks(items, UPSERT_LIMIT, addChunk),
      (items) => sendInChunks(items, UPSERT_LIMIT, removeChunk),
    );
    return { ...result, ...(written.length > 0 ? { written } : {}) };
  },

  /**
   * GDPR delete of each contact (`/crm/v3/objects/contacts/gdpr-delete`): by email, or, for an email the ledger kept
   * hashed, by the id of the contact whose {@link EMAIL_HASH_PROPERTY} matches. An unknown contact is done.
   */
  async delete(ctx, items) {
    const verdicts: Verdict[] = [];
    const hashedIds = await contactIds(
      ctx,
      items.map((i) => i.email).filter((e) => HASHED.test(e)),
    );
    for (const item of items) {
      const hashed = HASHED.test(item.email);
      const id = hashed ? hashedIds.get(item.email) : undefined;
      if (hashed && id === undefined) {
        verdicts.push({ ok: true });
        continue;
      }
      try {
        await ctx.http.post(
          '/crm/v3/objects/contacts/gdpr-delete',
          id === undefined ? { objectId: item.email, idProperty: 'email' } : { objectId: id },
          { acceptStatus: [404] },
        );
        verdicts.push({ ok: true });
      } catch (error) {
        verdicts.push(...verdictsForFailure(error, 1));
      }
    }
    return { verdicts, requests: [{ operation: 'remove', items: items.length }] };
  },
});
