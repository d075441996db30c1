import { isDeepStrictEqual } from 'node:util';
import type { ProfileRecord } from '@plexus/sdk';
import { describeSourceConformance, type StreamReadResult } from '@plexus/sdk/testing';
import source from '../../connectors/salesforce/index.js';
import type { SalesforceRecord } from '../../connectors/salesforce/index.js';
import {
  salesforceId,
  startSalesforce,
  syntheticSalesforceActivity,
  syntheticSalesforceRecords,
  type SalesforceEmulator,
} from '../emulators/index.js';

const CONTACTS = 600;
const LEADS = 450;
/** Activity of 1,500 people (more than the Contacts seeded: events reach profiles by external id alone). */
const activity = syntheticSalesforceActivity(1_500);
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
      opportunities: activity.opportunities,
      contactRoles: activity.contactRoles,
      cases: activity.cases,
      tasks: activity.tasks,
      emailMessages: activity.emailMessages,
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
    opportunities: {
      recordCount: activity.opportunities.length,
      verify(result) {
        const won = activity.opportunities.find((o) => o.IsWon === true)!;
        const roles = activity.contactRoles.filter((r) => r.OpportunityId === won.Id);
        const landed = result.profiles.filter((p) =>
          p.events?.some((e) => e.name === 'Opportunity Won' && e.properties?.opportunityId === won.Id),
        );
        const problems: string[] = [];
        if (landed.length !== roles.length)
          problems.push(`won opportunity on ${landed.length} of ${roles.length} contacts`);
        const event = landed[0]?.events?.find((e) => e.name === 'Opportunity Won');
        if (event?.properties?.amount !== won.Amount || event.properties.currency !== won.CurrencyIsoCode)
          problems.push(`won event ${JSON.stringify(event)}`);
        return problems;
      },
      addNewer: async () => [
        salesforce.state.opportunities.update(salesforceId('Opportunity', 3), {
          StageName: 'Closed Won',
          IsClosed: true,
          IsWon: true,
        }).Id,
      ],
    },
    cases: {
      recordCount: activity.cases.length,
      verify(result) {
        const open = result.profiles.filter((p) => p.traits?.openCases === 1).length;
        const expected = activity.cases.filter((c) => c.IsClosed === false).length;
        return open === expected ? [] : [`${open} profiles with one open case, expected ${expected}`];
      },
      addNewer: async () => [
        salesforce.state.cases.update(salesforceId('Case', 2), { Status: 'Closed', IsClosed: true }).Id,
      ],
    },
    tasks: {
      recordCount: activity.tasks.length,
      addNewer: async () => [
        salesforce.state.tasks.insert({ WhoId: salesforceId('Contact', 5), Subject: 'Call', TaskSubtype: 'Call' }).Id,
      ],
    },
    email_messages: {
      recordCount: activity.emailMessages.length,
      addNewer: async () => [
        salesforce.state.emailMessages.insert({ FromAddress: 'late@plexus-test.io', Incoming: true, Status: '0' }).Id,
      ],
    },
  },
  injectFault: (fault) => {
    salesforce.faults.inject({ kind: fault.status === 429 ? '429' : '5xx', status: fault.status, times: fault.times });
  },
  pendingFaults: () => salesforce.faults.pending().reduce((n, f) => n + f.remaining, 0),
});
