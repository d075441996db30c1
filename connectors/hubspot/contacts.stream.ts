import { defineStream } from '@plexus/sdk';
import type { HubSpotConfig } from './config.js';
import { accountDetails } from './crm-lookups.js';
import { hubspotRequest, readObjects, type Ctx, type HubSpotCheckpoint, type ObjectReadSpec } from './crm-read.js';
import { CONTACT_PROPERTIES, contactExternalId, mapContact, TRAIT_PROPERTIES, type HubSpotContact } from './mapping.js';

const COMPANY_CACHE_LIMIT = 50_000;
type CompanyCache = Map<string, { name: string | null; domain: string | null }>;

function propertiesOf(config: HubSpotConfig): string[] {
  const properties: string[] = [...CONTACT_PROPERTIES];
  if (config.userIdProperty && !properties.includes(config.userIdProperty)) properties.push(config.userIdProperty);
  return properties;
}

/** Adds the primary associated company's name and domain, reading companies not seen yet in one batch. */
async function addCompanies(ctx: Ctx, contacts: HubSpotContact[], cache: CompanyCache): Promise<void> {
  const primary = (c: HubSpotContact): string | undefined => {
    const links = c.associations?.companies?.results ?? [];
    return (links.find((l) => l.type === 'contact_to_company') ?? links[0])?.id;
  };
  const missing = [...new Set(contacts.map(primary).filter((id): id is string => id !== undefined && !cache.has(id)))];
  for (let i = 0; i < missing.length; i += 100) {
    const ids = missing.slice(i, i + 100);
    const { data } = await hubspotRequest<{
      results?: Array<{ id: string; properties?: Record<string, string | null> }>;
    }>(ctx, {
      method: 'post',
      url: '/crm/v3/objects/companies/batch/read',
      data: { inputs: ids.map((id) => ({ id })), properties: ['name', 'domain'] },
    });
    if (cache.size + ids.length > COMPANY_CACHE_LIMIT) cache.clear();
    for (const id of ids) cache.set(id, { name: null, domain: null }); // missing (207) companies are not asked again
    for (const company of data.results ?? []) {
      cache.set(company.id, { name: company.properties?.name ?? null, domain: company.properties?.domain ?? null });
    }
  }
  for (const contact of contacts) {
    const id = primary(contact);
    const company = id === undefined ? undefined : cache.get(id);
    if (id !== undefined && company) contact.company = { id, ...company };
  }
}

/** Contacts are read like every object, with their primary company's details added to full listings. */
function contactSpec(): ObjectReadSpec<HubSpotContact> {
  const companies: CompanyCache = new Map();
  return {
    type: 'contacts',
    modifiedProperty: 'lastmodifieddate',
    properties: propertiesOf,
    listParams: (config): Record<string, string> => (config.companyDetails ? { associations: 'companies' } : {}),
    completeListPage: (ctx, records) =>
      ctx.config.companyDetails ? addCompanies(ctx, records, companies) : Promise.resolve(),
  };
}

/** How Plexus names a HubSpot account in the write-back ledger (the destination reports its writes so). */
export function hubspotSystem(portalId: string): string {
  return `hubspot:${portalId}`;
}

/**
 * Marks the properties of each contact whose value is the one Plexus last wrote there (the hub's write-back
 * ledger), so their traits are not read back as observations of HubSpot.
 */
async function markPlexusWrites(ctx: Ctx, system: string, contacts: HubSpotContact[]): Promise<void> {
  if (!ctx.written || contacts.length === 0) return;
  const candidates = contacts.flatMap((c) =>
    TRAIT_PROPERTIES.filter((property) => typeof c.properties?.[property] === 'string').map((property) => ({
      id: c.id,
      property,
      value: c.properties![property],
    })),
  );
  const echoes = await ctx.written.matches(system, 'contacts', candidates);
  const byId = new Map(contacts.map((c) => [c.id, c]));
  candidates.forEach((candidate, i) => {
    if (!echoes[i]) return;
    const contact = byId.get(candidate.id)!;
    (contact.writtenByPlexus ??= []).push(candidate.property);
  });
}

export const contacts = defineStream<HubSpotConfig, HubSpotContact, HubSpotCheckpoint>({
  name: 'contacts',
  primaryKey: ['id'],
  mode: 'incremental',
  cursorField: 'lastmodifieddate',
  deletes: 'deleted-ids',
  async *read(ctx, checkpoint) {
    let system: string | undefined;
    for await (const batch of readObjects(ctx, contactSpec(), checkpoint)) {
      if (ctx.written && batch.records.length > 0) {
        system ??= hubspotSystem((await accountDetails(ctx)).portalId);
        await markPlexusWrites(ctx, system, batch.records);
      }
      yield batch;
    }
  },
  toProfile: (contact, ctx) =>
    mapContact(contact, {
      sourceId: ctx.connectionId,
      userIdProperty: ctx.config.userIdProperty,
      defaultCountry: ctx.config.defaultCountry,
    }),
  deletedIdentifier: (id, ctx) => contactExternalId(ctx.connectionId, id),
});
