import type { Consent, Identifier, ProfileRecord, TraitValue } from '@plexus/sdk';

/** A CRM record as the v3 objects API returns it. */
export interface HubSpotRecord {
  id: string;
  properties: Record<string, string | null> | null;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
}

/** A contact as the HubSpot CRM v3 API returns it, with the company details the connector looked up. */
export interface HubSpotContact extends HubSpotRecord {
  associations?: { companies?: { results?: Array<{ id: string; type?: string }> } };
  /** The primary associated company (name, domain), added by the connector. */
  company?: { id: string; name: string | null; domain: string | null };
  /**
   * Properties whose value is the one Plexus itself last wrote to this contact (a HubSpot destination): they are
   * not observations of HubSpot, so they yield no traits. Added by the connector.
   */
  writtenByPlexus?: string[];
}

/** Contact properties that become traits (the ones a write-back can echo). */
export const TRAIT_PROPERTIES = [
  'firstname',
  'lastname',
  'lifecyclestage',
  'hs_lead_status',
  'company',
  'jobtitle',
  'country',
  'city',
] as const;

/** Contact properties the connector reads (the configured user id property is added to them). */
export const CONTACT_PROPERTIES = [
  'email',
  'hs_additional_emails',
  'firstname',
  'lastname',
  'phone',
  'mobilephone',
  'company',
  'jobtitle',
  'country',
  'city',
  'lifecyclestage',
  'hs_lead_status',
  'hs_email_optout',
  'lastmodifieddate',
] as const;

export interface MappingOptions {
  /** The configured source id: `external_id` is `<sourceId>:contact:<id>`. */
  sourceId: string;
  userIdProperty?: string;
  defaultCountry?: string;
}

/** The `external_id` of a HubSpot contact in a configured source. */
export function contactExternalId(sourceId: string, contactId: string): Identifier {
  return { type: 'external_id', value: `${sourceId}:contact:${contactId}` };
}

/** The modification time of a contact in ms (its `lastmodifieddate`, else `updatedAt`); NaN when unreadable. */
export function modifiedAt(contact: HubSpotContact): number {
  const raw = contact.properties?.lastmodifieddate ?? contact.updatedAt;
  return typeof raw === 'string' ? parseHubSpotDate(raw) : NaN;
}

/** HubSpot dates are ISO-8601 strings, or epoch milliseconds in older properties. */
export function parseHubSpotDate(raw: string): number {
  return /^\d{10,}$/.test(raw) ? Number(raw) : Date.parse(raw);
}

const text = (value: string | null | undefined): string | undefined => {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
};

/**
 * Maps one contact to a profile record. Throws — so the hub quarantines the contact with the reason — when the
 * record is unusable: no id, no properties, or an unreadable modification date.
 */
export function mapContact(contact: HubSpotContact, options: MappingOptions): ProfileRecord {
  if (typeof contact?.id !== 'string' || contact.id === '') throw new Error('contact without an id');
  const p = contact.properties;
  if (p === null || typeof p !== 'object' || Array.isArray(p)) {
    throw new Error(`contact ${contact.id}: properties are missing (${p === null ? 'null' : typeof p})`);
  }
  for (const [name, value] of Object.entries(p)) {
    if (value !== null && typeof value !== 'string') {
      throw new Error(`contact ${contact.id}: property ${name} is not a string (${JSON.stringify(value)})`);
    }
  }
  const observed = modifiedAt(contact);
  if (Number.isNaN(observed)) {
    throw new Error(
      `contact ${contact.id}: lastmodifieddate/updatedAt is not a date (${JSON.stringify(p.lastmodifieddate ?? contact.updatedAt)})`,
    );
  }

  const identifiers: Identifier[] = [];
  const email = text(p.email);
  if (email) identifiers.push({ type: 'email', value: email });
  for (const extra of (text(p.hs_additional_emails) ?? '').split(/[;,]/)) {
    const value = extra.trim();
    if (value && value.toLowerCase() !== email?.toLowerCase()) identifiers.push({ type: 'email', value });
  }
  for (const phone of [text(p.phone), text(p.mobilephone)]) {
    if (phone && !identifiers.some((i) => i.type === 'phone' && i.value === phone)) {
      identifiers.push({ type: 'phone', value: phone });
    }
  }
  if (options.userIdProperty) {
    const userId = text(p[options.userIdProperty]);
    if (userId) identifiers.push({ type: 'user_id', value: userId });
  }
  identifiers.push(contactExternalId(options.sourceId, contact.id));

  const traits: Record<string, TraitValue> = {};
  const put = (trait: string, value: string | null | undefined): void => {
    const v = text(value);
    if (v !== undefined) traits[trait] = v;
  };
  // What Plexus wrote and reads back is not news from HubSpot: the profile keeps the value's real provenance.
  const echoes = new Set(contact.writtenByPlexus ?? []);
  const fromHubSpot = (property: (typeof TRAIT_PROPERTIES)[number]) => (echoes.has(property) ? undefined : p[property]);
  put('firstName', fromHubSpot('firstname'));
  put('lastName', fromHubSpot('lastname'));
  put('lifecycleStage', fromHubSpot('lifecyclestage'));
  put('leadStatus', fromHubSpot('hs_lead_status'));
  put('company', fromHubSpot('company') ?? contact.company?.name);
  put('companyName', contact.company?.name);
  put('companyDomain', contact.company?.domain);
  put('jobTitle', fromHubSpot('jobtitle'));
  put('country', fromHubSpot('country'));
  put('city', fromHubSpot('city'));

  const consent: Consent = {};
  // Opting out of email is a refusal; not having opted out is not a consent, so it stays unknown.
  if (text(p.hs_email_optout)?.toLowerCase() === 'true') consent.email = false;

  const country = text(p.country)?.toUpperCase();
  const record: ProfileRecord = { identifiers, traits, observedAt: new Date(observed).toISOString() };
  if (Object.keys(consent).length > 0) record.consent = consent;
  const phoneCountry = country && /^[A-Z]{2}$/.test(country) ? country : options.defaultCountry;
  if (phoneCountry) record.country = phoneCountry;
  return record;
}
