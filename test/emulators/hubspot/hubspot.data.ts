import { lazyRecords, pick, syntheticPerson, type RecordSource } from '../common/table.js';

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
