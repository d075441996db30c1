import { isDeepStrictEqual } from 'node:util';
import type { ProfileRecord } from '@plexus/sdk';
import { describeSourceConformance, type StreamReadResult } from '@plexus/sdk/testing';
import source from '../../connectors/salesforce/index.js';
import type { SalesforceRecord } from '../../connectors/salesforce/index.js';
import {
  salesforceId,
  startSalesforce,
  syntheticSalesforceRecords,
  type SalesforceEmulator,
} from '../emulators/index.js';

const CONTACTS = 600;
const LEADS = 450;
let salesforce: SalesforceEmulator;

const config = () => ({
  accessToken: 'sf-conformance-token',
  baseUrl: salesforce.url,
  batchSize: 200,
  contactUserIdField: 'Customer_ID__c',
  requestsPerSecond: 100,
});

function profileOf(result: StreamReadResult, key: string): ProfileRecord | undefined {
  return result.profiles.find((p) => p.identifiers.some((i) => i.type === 'external_id' && i.value === key));
}

describeSourceConformance({
  definition: source,
  setup: async () => {
    salesforce = await startSalesforce({
      tokens: ['sf-conformance-token'],
      contacts: syntheticSalesforceRecords('Contact', CONTACTS),
      leads: syntheticSalesforceRecords('Lead', LEADS, { personOffset: 5_000 }),
    });
    // Rows in the recycle bin are not part of a first load.
    salesforce.state.contacts.delete(salesforceId('Contact', 7), Date.UTC(2023, 0, 1));
  },
  teardown: () => salesforce.close(),
  config,
  invalidCredentials: () => ({ ...config(), accessToken: 'expired-session' }),
  streams: {
    contacts: {
      recordCount: CONTACTS - 1,
      verify(result) {
        const id = salesforceId('Contact', 1);
        const row = salesforce.state.contacts.get(id)!;
        const expected: ProfileRecord = {
          identifiers: [
            { type: 'email', value: String(row.Email) },
            { type: 'phone', value: String(row.Phone) },
            { type: 'user_id', value: 'cus_1' },
            { type: 'external_id', value: `test-connection:contact:${id}` },
          ],
          traits: {
            firstName: String(row.FirstName),
            lastName: String(row.LastName),
            leadSource: String(row.LeadSource),
            jobTitle: String(row.Title),
            country: String(row.MailingCountry),
          },
          ...(row.HasOptedOutOfEmail === true ? { consent: { email: false } } : {}),
          observedAt: '2024-01-01T00:00:00.000Z',
        };
        const got = profileOf(result, `test-connection:contact:${id}`);
        const problems = isDeepStrictEqual(got, expected) ? [] : [`Contact 1 mapped to ${JSON.stringify(got)}`];
        const optedOut = result.records.filter((r) => (r as SalesforceRecord).HasOptedOutOfEmail === true).length;
        const denied = result.profiles.filter((p) => p.consent?.email === false).length;
        if (optedOut === 0 || optedOut !== denied) problems.push(`${optedOut} opted out, ${denied} with email denied`);
        return problems;
      },
      addNewer: async () => {
        const updated = salesforce.state.contacts.update(salesforceId('Contact', 3), { Title: 'CEO' });
        const inserted = salesforce.state.contacts.insert({ Email: 'late@example.org', LastName: 'Late' });
        return [updated.Id, inserted.Id];
      },
    },
    leads: {
      recordCount: LEADS,
      verify(result) {
        const id = salesforceId('Lead', 2);
        const got = profileOf(result, `test-connection:lead:${id}`);
        const row = salesforce.state.leads.get(id)!;
        return got?.traits?.company === row.Company &&
          got.traits.leadStatus === row.Status &&
          got.traits.lifecycleStage === 'lead' &&
          !got.identifiers.some((i) => i.type === 'user_id')
          ? []
          : [`Lead 2 mapped to ${JSON.stringify(got)}`];
      },
      addNewer: async () => [salesforce.state.leads.update(salesforceId('Lead', 400), { Status: 'Working' }).Id],
    },
  },
  injectFault: (fault) => {
    salesforce.faults.inject({ kind: fault.status === 429 ? '429' : '5xx', status: fault.status, times: fault.times });
  },
  pendingFaults: () => salesforce.faults.pending().reduce((n, f) => n + f.remaining, 0),
});
