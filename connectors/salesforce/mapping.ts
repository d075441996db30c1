import type { Consent, Identifier, ProfileRecord, TraitValue } from '@plexus/sdk';

export type SalesforceObject = 'Contact' | 'Lead';

/** A row of a SOQL answer: `attributes` plus the selected fields. */
export type SalesforceRecord = { attributes?: { type?: string; url?: string }; Id: string } & Record<string, unknown>;

/** Fields read per object (the configured user id field is added). */
export const OBJECT_FIELDS: Record<SalesforceObject, readonly string[]> = {
  Contact: [
    'Id',
    'IsDeleted',
    'FirstName',
    'LastName',
    'Email',
    'Phone',
    'MobilePhone',
    'HasOptedOutOfEmail',
    'DoNotCall',
    'Title',
    'MailingCountry',
    'LeadSource',
    'SystemModstamp',
  ],
  Lead: [
    'Id',
    'IsDeleted',
    'FirstName',
    'LastName',
    'Email',
    'Phone',
    'Company',
    'Status',
    'HasOptedOutOfEmail',
    'Country',
    'LeadSource',
    'IsConverted',
    'SystemModstamp',
  ],
};

export interface MappingOptions {
  sourceId: string;
  userIdField?: string;
  defaultCountry?: string;
}

const KEY: Record<SalesforceObject, string> = { Contact: 'contact', Lead: 'lead' };

/** `<sourceId>:contact:<Id>` or `<sourceId>:lead:<Id>`. */
export function recordExternalId(sourceId: string, object: SalesforceObject, id: string): Identifier {
  return { type: 'external_id', value: `${sourceId}:${KEY[object]}:${id}` };
}

/** Salesforce datetimes (`2024-05-01T10:00:00.000+0000`) in ms; NaN when unreadable. */
export function parseSalesforceDate(value: unknown): number {
  if (typeof value !== 'string') return NaN;
  return Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
}

function optionalText(record: SalesforceRecord, field: string): string | undefined {
  const value = record[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') throw new Error(`${record.Id}: ${field} is not text (${JSON.stringify(value)})`);
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/**
 * Maps a Contact or Lead. Throws — the hub quarantines the row with the reason — when it has no Id, an
 * unreadable SystemModstamp or a field of the wrong type.
 */
export function mapSalesforceRecord(
  object: SalesforceObject,
  record: SalesforceRecord,
  options: MappingOptions,
): ProfileRecord {
  if (typeof record?.Id !== 'string' || record.Id === '') throw new Error(`${object} row without an Id`);
  const stamp = parseSalesforceDate(record.SystemModstamp);
  if (Number.isNaN(stamp)) {
    throw new Error(
      `${object} ${record.Id}: SystemModstamp is not a datetime (${JSON.stringify(record.SystemModstamp)})`,
    );
  }
  const text = (field: string) => optionalText(record, field);

  const identifiers: Identifier[] = [];
  const email = text('Email');
  if (email) identifiers.push({ type: 'email', value: email });
  for (const field of object === 'Contact' ? ['Phone', 'MobilePhone'] : ['Phone']) {
    const phone = text(field);
    if (phone && !identifiers.some((i) => i.type === 'phone' && i.value === phone))
      identifiers.push({ type: 'phone', value: phone });
  }
  if (options.userIdField) {
    const userId = text(options.userIdField);
    if (userId) identifiers.push({ type: 'user_id', value: userId });
  }
  identifiers.push(recordExternalId(options.sourceId, object, record.Id));

  const traits: Record<string, TraitValue> = {};
  const put = (trait: string, field: string) => {
    const value = text(field);
    if (value !== undefined) traits[trait] = value;
  };
  put('firstName', 'FirstName');
  put('lastName', 'LastName');
  put('leadSource', 'LeadSource');
  if (object === 'Contact') {
    put('jobTitle', 'Title');
    put('country', 'MailingCountry');
    if (record.DoNotCall === true) traits.doNotCall = true;
  } else {
    put('company', 'Company');
    put('leadStatus', 'Status');
    put('country', 'Country');
    traits.lifecycleStage = record.IsConverted === true ? 'converted lead' : 'lead';
  }

  const consent: Consent = {};
  if (record.HasOptedOutOfEmail === true) consent.email = false;
  const out: ProfileRecord = { identifiers, traits, observedAt: new Date(stamp).toISOString() };
  if (Object.keys(consent).length > 0) out.consent = consent;
  if (options.defaultCountry) out.country = options.defaultCountry;
  return out;
}
