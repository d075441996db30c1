import { COUNTRY_NAMES, lazyRecords, noise, pick, syntheticPerson, type RecordSource } from '../common/table.js';

/** The sObjects the emulator serves. */
export const SALESFORCE_OBJECTS = [
  'Contact',
  'Lead',
  'Opportunity',
  'OpportunityContactRole',
  'Case',
  'Task',
  'EmailMessage',
  'Campaign',
  'CampaignMember',
] as const;
export type SalesforceObject = (typeof SALESFORCE_OBJECTS)[number];

/** A stored sObject row: field name → value (`attributes` is added when served). Must have `Id` and `SystemModstamp`. */
export type SalesforceRecord = Record<string, string | number | boolean | null> & {
  Id: string;
  SystemModstamp: string;
};

/** Field types as `describe` names them (the subset the emulator needs). */
export type SalesforceFieldType =
  | 'id'
  | 'reference'
  | 'string'
  | 'email'
  | 'phone'
  | 'picklist'
  | 'textarea'
  | 'boolean'
  | 'datetime'
  | 'date'
  | 'currency'
  | 'double';

export interface SalesforceField {
  type: SalesforceFieldType;
  /** Writable through the API (false for system fields and formulas). */
  updateable?: boolean;
  /** Usable as the key of an upsert (`externalId` custom fields). */
  externalId?: boolean;
  /** Required on create. */
  required?: boolean;
}

const SYSTEM: Record<string, SalesforceField> = {
  Id: { type: 'id' },
  IsDeleted: { type: 'boolean' },
  CreatedDate: { type: 'datetime' },
  LastModifiedDate: { type: 'datetime' },
  SystemModstamp: { type: 'datetime' },
};
const text = (type: SalesforceFieldType = 'string'): SalesforceField => ({ type, updateable: true });

/** The fields of each object (SOQL field names are case-insensitive; these are the canonical spellings). */
export const SALESFORCE_SCHEMA: Record<SalesforceObject, Record<string, SalesforceField>> = {
  Contact: {
    ...SYSTEM,
    FirstName: text(),
    LastName: { type: 'string', updateable: true, required: true },
    Name: { type: 'string' },
    Email: text('email'),
    Phone: text('phone'),
    MobilePhone: text('phone'),
    HasOptedOutOfEmail: text('boolean'),
    DoNotCall: text('boolean'),
    Title: text(),
    AccountId: text('reference'),
    MailingCountry: text(),
    LeadSource: text('picklist'),
    Description: text('textarea'),
    Customer_ID__c: { type: 'string', updateable: true, externalId: true },
    Lifetime_Value__c: text('currency'),
    Plexus_Segment__c: text(),
  },
  Lead: {
    ...SYSTEM,
    FirstName: text(),
    LastName: { type: 'string', updateable: true, required: true },
    Name: { type: 'string' },
    Email: text('email'),
    Phone: text('phone'),
    Company: { type: 'string', updateable: true, required: true },
    Status: text('picklist'),
    HasOptedOutOfEmail: text('boolean'),
    Country: text(),
    IsConverted: { type: 'boolean' },
    LeadSource: text('picklist'),
    Description: text('textarea'),
    Lead_Key__c: { type: 'string', updateable: true, externalId: true },
  },
  Opportunity: {
    ...SYSTEM,
    Name: text(),
    AccountId: text('reference'),
    Amount: text('currency'),
    CurrencyIsoCode: text('picklist'),
    StageName: text('picklist'),
    IsClosed: { type: 'boolean' },
    IsWon: { type: 'boolean' },
    CloseDate: text('date'),
    Type: text('picklist'),
    LeadSource: text('picklist'),
  },
  OpportunityContactRole: {
    ...SYSTEM,
    OpportunityId: text('reference'),
    ContactId: text('reference'),
    Role: text('picklist'),
    IsPrimary: text('boolean'),
  },
  Case: {
    ...SYSTEM,
    CaseNumber: { type: 'string' },
    ContactId: text('reference'),
    Subject: text(),
    Status: text('picklist'),
    Priority: text('picklist'),
    Origin: text('picklist'),
    Type: text('picklist'),
    IsClosed: { type: 'boolean' },
    ClosedDate: { type: 'datetime' },
  },
  Task: {
    ...SYSTEM,
    WhoId: text('reference'),
    WhatId: text('reference'),
    Subject: text(),
    Status: text('picklist'),
    Priority: text('picklist'),
    TaskSubtype: { type: 'picklist' },
    Type: text('picklist'),
    ActivityDate: text('date'),
    IsClosed: { type: 'boolean' },
    CompletedDateTime: { type: 'datetime' },
  },
  EmailMessage: {
    ...SYSTEM,
    ParentId: text('reference'),
    ActivityId: text('reference'),
    Subject: text(),
    FromAddress: text('email'),
    FromName: text(),
    ToAddress: text(),
    CcAddress: text(),
    Incoming: text('boolean'),
    MessageDate: text('datetime'),
    Status: text('picklist'),
  },
  Campaign: {
    ...SYSTEM,
    Name: { type: 'string', updateable: true, required: true },
    IsActive: text('boolean'),
    Status: text('picklist'),
    Type: text('picklist'),
    Description: text('textarea'),
  },
  CampaignMember: {
    ...SYSTEM,
    CampaignId: { type: 'reference', updateable: true, required: true },
    ContactId: text('reference'),
    LeadId: text('reference'),
    Status: text('picklist'),
  },
};

/** The field names of each object, for the query parser. */
export const SALESFORCE_FIELDS: Record<SalesforceObject, readonly string[]> = Object.fromEntries(
  SALESFORCE_OBJECTS.map((o) => [o, Object.keys(SALESFORCE_SCHEMA[o])]),
) as unknown as Record<SalesforceObject, readonly string[]>;

/** Child relationships usable in a parent-to-child subquery: parent → relationship name → child and its key. */
export const CHILD_RELATIONSHIPS: Partial<
  Record<SalesforceObject, Record<string, { child: SalesforceObject; field: string }>>
> = {
  Opportunity: { OpportunityContactRoles: { child: 'OpportunityContactRole', field: 'OpportunityId' } },
  Contact: {
    OpportunityContactRoles: { child: 'OpportunityContactRole', field: 'ContactId' },
    Cases: { child: 'Case', field: 'ContactId' },
    CampaignMembers: { child: 'CampaignMember', field: 'ContactId' },
  },
  Campaign: { CampaignMembers: { child: 'CampaignMember', field: 'CampaignId' } },
  Case: { EmailMessages: { child: 'EmailMessage', field: 'ParentId' } },
};

export const KEY_PREFIX: Record<SalesforceObject, string> = {
  Contact: '003',
  Lead: '00Q',
  Opportunity: '006',
  OpportunityContactRole: '00K',
  Case: '500',
  Task: '00T',
  EmailMessage: '02s',
  Campaign: '701',
  CampaignMember: '00v',
};

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
  object: 'Contact' | 'Lead',
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

/** Sales and support history of synthetic Contacts: one row set per object, generated eagerly (small). */
export interface SyntheticSalesforceActivity {
  opportunities: SalesforceRecord[];
  contactRoles: SalesforceRecord[];
  cases: SalesforceRecord[];
  tasks: SalesforceRecord[];
  emailMessages: SalesforceRecord[];
}

const STAGES_OPEN = ['Prospecting', 'Qualification', 'Proposal/Price Quote', 'Negotiation/Review'] as const;

/**
 * Opportunities (each with one or two contact roles), Cases, Tasks and EmailMessages for the first `contacts`
 * synthetic Contacts (`syntheticSalesforceRecords('Contact', n)` ids), dated from 2024-02-01 on. Deterministic.
 */
export function syntheticSalesforceActivity(
  contacts: number,
  options: { personOffset?: number; startMs?: number } = {},
): SyntheticSalesforceActivity {
  const start = options.startMs ?? Date.UTC(2024, 1, 1);
  const offset = options.personOffset ?? 0;
  const out: SyntheticSalesforceActivity = {
    opportunities: [],
    contactRoles: [],
    cases: [],
    tasks: [],
    emailMessages: [],
  };
  let clock = start;
  const tick = () => sfDateTime((clock += 60_000));
  const contactId = (i: number) => salesforceId('Contact', i + 1);
  for (let i = 0; i < contacts; i++) {
    const person = syntheticPerson(i + offset);
    if (i % 3 === 0) {
      const n = out.opportunities.length + 1;
      const stamp = tick();
      const outcome = noise(i, 51);
      const won = outcome < 0.4;
      const lost = !won && outcome < 0.6;
      out.opportunities.push({
        Id: salesforceId('Opportunity', n),
        IsDeleted: false,
        Name: `${person.lastName} renewal ${n}`,
        AccountId: null,
        Amount: 250 * (1 + Math.floor(noise(i, 52) * 20)),
        CurrencyIsoCode: pick(['USD', 'EUR', 'GBP'], i, 53),
        StageName: won ? 'Closed Won' : lost ? 'Closed Lost' : pick(STAGES_OPEN, i, 54),
        IsClosed: won || lost,
        IsWon: won,
        CloseDate: stamp.slice(0, 10),
        Type: 'New Customer',
        LeadSource: 'Web',
        CreatedDate: stamp,
        LastModifiedDate: stamp,
        SystemModstamp: stamp,
      });
      const roles = i + 1 < contacts && noise(i, 55) < 0.3 ? [i, i + 1] : [i];
      roles.forEach((c, r) =>
        out.contactRoles.push({
          Id: salesforceId('OpportunityContactRole', out.contactRoles.length + 1),
          IsDeleted: false,
          OpportunityId: salesforceId('Opportunity', n),
          ContactId: contactId(c),
          Role: r === 0 ? 'Decision Maker' : 'Influencer',
          IsPrimary: r === 0,
          CreatedDate: stamp,
          LastModifiedDate: stamp,
          SystemModstamp: stamp,
        }),
      );
    }
    if (i % 4 === 1) {
      const n = out.cases.length + 1;
      const opened = tick();
      const closed = noise(i, 61) < 0.5;
      out.cases.push({
        Id: salesforceId('Case', n),
        IsDeleted: false,
        CaseNumber: String(1000 + n).padStart(8, '0'),
        ContactId: contactId(i),
        Subject: pick(['Login problem', 'Invoice question', 'Delivery late', 'Feature request'], i, 62),
        Status: closed ? 'Closed' : pick(['New', 'Working', 'Escalated'], i, 63),
        Priority: pick(['High', 'Medium', 'Low'], i, 64),
        Origin: pick(['Email', 'Phone', 'Web'], i, 65),
        Type: 'Problem',
        IsClosed: closed,
        ClosedDate: closed ? opened : null,
        CreatedDate: opened,
        LastModifiedDate: opened,
        SystemModstamp: opened,
      });
    }
    if (i % 5 === 2) {
      const n = out.tasks.length + 1;
      const stamp = tick();
      const call = noise(i, 71) < 0.5;
      out.tasks.push({
        Id: salesforceId('Task', n),
        IsDeleted: false,
        WhoId: contactId(i),
        WhatId: null,
        Subject: call ? 'Call' : 'Follow up',
        Status: 'Completed',
        Priority: 'Normal',
        TaskSubtype: call ? 'Call' : 'Task',
        Type: call ? 'Call' : 'Other',
        ActivityDate: stamp.slice(0, 10),
        IsClosed: true,
        CompletedDateTime: stamp,
        CreatedDate: stamp,
        LastModifiedDate: stamp,
        SystemModstamp: stamp,
      });
    }
    if (i % 6 === 3) {
      const n = out.emailMessages.length + 1;
      const stamp = tick();
      const incoming = noise(i, 81) < 0.5;
      out.emailMessages.push({
        Id: salesforceId('EmailMessage', n),
        IsDeleted: false,
        ParentId: null,
        ActivityId: null,
        Subject: incoming ? 'Question about my order' : 'Your quote',
        FromAddress: incoming ? person.email : 'sales@acme-crm.example',
        FromName: incoming ? `${person.firstName} ${person.lastName}` : 'Acme Sales',
        ToAddress: incoming ? 'support@acme-crm.example' : person.email,
        CcAddress: null,
        Incoming: incoming,
        MessageDate: stamp,
        Status: incoming ? '0' : '3',
        CreatedDate: stamp,
        LastModifiedDate: stamp,
        SystemModstamp: stamp,
      });
    }
  }
  return out;
}
