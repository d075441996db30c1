import { COUNTRY_NAMES, lazyRecords, noise, pick, syntheticPerson, type RecordSource } from '../common/table.js';

export type SalesforceObject = 'Contact' | 'Lead';

/** A stored sObject row: field name → value (`attributes` is added when served). Must have `Id` and `SystemModstamp`. */
export type SalesforceRecord = Record<string, string | number | boolean | null> & {
  Id: string;
  SystemModstamp: string;
};

/** The fields each object exposes (SOQL field names are case-insensitive; these are the canonical spellings). */
export const SALESFORCE_FIELDS: Record<SalesforceObject, readonly string[]> = {
  Contact: [
    'Id',
    'IsDeleted',
    'FirstName',
    'LastName',
    'Name',
    'Email',
    'Phone',
    'MobilePhone',
    'HasOptedOutOfEmail',
    'DoNotCall',
    'Title',
    'AccountId',
    'MailingCountry',
    'LeadSource',
    'Customer_ID__c',
    'CreatedDate',
    'LastModifiedDate',
    'SystemModstamp',
  ],
  Lead: [
    'Id',
    'IsDeleted',
    'FirstName',
    'LastName',
    'Name',
    'Email',
    'Phone',
    'Company',
    'Status',
    'HasOptedOutOfEmail',
    'Country',
    'IsConverted',
    'LeadSource',
    'CreatedDate',
    'LastModifiedDate',
    'SystemModstamp',
  ],
};

export const KEY_PREFIX: Record<SalesforceObject, string> = { Contact: '003', Lead: '00Q' };

/** Salesforce's datetime format in JSON: `2024-05-01T10:00:00.000+0000`. */
export function sfDateTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/** A 15-character id extended with Salesforce's 3-character case-safe checksum. */
export function salesforceId(object: SalesforceObject, n: number): string {
  const id15 = `${KEY_PREFIX[object]}Dn0${n.toString(36).padStart(9, '0')}`;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let j = 0; j < 5; j++) {
      const c = id15[chunk * 5 + j];
      if (c >= 'A' && c <= 'Z') bits |= 1 << j;
    }
    suffix += alphabet[bits];
  }
  return id15 + suffix;
}

const LEAD_SOURCES = ['Web', 'Phone Inquiry', 'Partner Referral', 'Trade Show', 'Other'] as const;
const LEAD_STATUSES = ['Open - Not Contacted', 'Working - Contacted', 'Closed - Not Converted'] as const;

export interface SyntheticSalesforceOptions {
  /** Person index of the first record (so Contacts and Leads can cover different people). Default 0. */
  personOffset?: number;
  /** SystemModstamp of the first record (default 2024-01-01T00:00:00Z). */
  startMs?: number;
  /** Time between records (default 1 s). */
  stepMs?: number;
}

/** `count` synthetic Contacts or Leads, generated on demand, modified in id order. */
export function syntheticSalesforceRecords(
  object: SalesforceObject,
  count: number,
  options: SyntheticSalesforceOptions = {},
): RecordSource<SalesforceRecord> {
  const start = options.startMs ?? Date.UTC(2024, 0, 1);
  const step = options.stepMs ?? 1_000;
  const offset = options.personOffset ?? 0;
  return lazyRecords(count, (i) => {
    const p = syntheticPerson(i + offset);
    const stamp = sfDateTime(start + i * step);
    const common = {
      Id: salesforceId(object, i + 1),
      IsDeleted: false,
      FirstName: p.firstName,
      LastName: p.lastName,
      Name: `${p.firstName} ${p.lastName}`,
      Email: p.email,
      Phone: p.phone,
      HasOptedOutOfEmail: noise(i, 41) < 0.1,
      LeadSource: pick(LEAD_SOURCES, i, 42),
      CreatedDate: stamp,
      LastModifiedDate: stamp,
      SystemModstamp: stamp,
    };
    return object === 'Contact'
      ? {
          ...common,
          MobilePhone: null,
          DoNotCall: false,
          Title: pick(['Buyer', 'CFO', 'Engineer', 'Manager'], i, 43),
          AccountId: null,
          MailingCountry: COUNTRY_NAMES[p.country],
          Customer_ID__c: `cus_${i + offset + 1}`,
        }
      : {
          ...common,
          Company: `${p.lastName} Ltd`,
          Status: pick(LEAD_STATUSES, i, 44),
          Country: COUNTRY_NAMES[p.country],
          IsConverted: false,
        };
  });
}
