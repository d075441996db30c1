import { isDeepStrictEqual } from 'node:util';
import { describeSourceConformance, type StreamReadResult } from '@plexus/sdk/testing';
import type { ProfileRecord } from '@plexus/sdk';
import source from '../../connectors/hubspot/index.js';
import type { HubSpotContact } from '../../connectors/hubspot/index.js';
import {
  startHubSpot,
  syntheticHubSpotCompanies,
  syntheticHubSpotContacts,
  type HubSpotEmulator,
} from '../emulators/index.js';

/** 230 contacts (every 23rd archived → 220 listed), associated with 7 companies: 5 list pages of 50. */
const CONTACTS = 230;
const ARCHIVED_EVERY = 23;
const LISTED = CONTACTS - Math.floor(CONTACTS / ARCHIVED_EVERY);
let hubspot: HubSpotEmulator;

const config = () => ({
  accessToken: 'hs-conformance-token',
  baseUrl: hubspot.url,
  pageSize: 50,
  recordsPerBatch: 50,
  userIdProperty: 'customer_id',
  requestsPerSecond: 50,
});

function profileOf(result: StreamReadResult, contactId: string): ProfileRecord | undefined {
  const external = `test-connection:contact:${contactId}`;
  return result.profiles.find((p) => p.identifiers.some((i) => i.type === 'external_id' && i.value === external));
}

describeSourceConformance({
  definition: source,
  setup: async () => {
    hubspot = await startHubSpot({
      tokens: ['hs-conformance-token'],
      contacts: syntheticHubSpotContacts(CONTACTS, { companies: 7, archivedEvery: ARCHIVED_EVERY }),
      companies: syntheticHubSpotCompanies(7),
      rateLimit: { max: 1000 },
    });
  },
  teardown: () => hubspot.close(),
  config,
  invalidCredentials: () => ({ ...config(), accessToken: 'revoked-token' }),
  streams: {
    contacts: {
      recordCount: LISTED,
      verify(result) {
        const problems: string[] = [];
        // Contact 1: person 0, company 1 (Acme 1), opted out of email (0 % 17 === 0).
        const first = profileOf(result, '1');
        const contact = hubspot.state.contacts.get('1')!;
        const expected: ProfileRecord = {
          identifiers: [
            { type: 'email', value: contact.properties.email! },
            { type: 'phone', value: contact.properties.phone! },
            { type: 'user_id', value: 'cus_1' },
            { type: 'external_id', value: 'test-connection:contact:1' },
          ],
          traits: {
            firstName: contact.properties.firstname!,
            lastName: contact.properties.lastname!,
            lifecycleStage: contact.properties.lifecyclestage!,
            company: 'Acme 1',
            companyName: 'Acme 1',
            companyDomain: 'acme1.example.com',
            country: contact.properties.country!,
          },
          consent: { email: false },
          country: contact.properties.country!,
          observedAt: '2024-01-01T00:00:00.000Z',
        };
        if (!isDeepStrictEqual(first, expected)) {
          problems.push(`contact 1 mapped to ${JSON.stringify(first)}`);
        }
        // Contact 2 has not opted out: consent stays unknown rather than granted.
        if (profileOf(result, '2')?.consent !== undefined) problems.push('contact 2 must have no consent');
        // Archived contacts are not listed, and nothing is deleted on a first sync.
        if (result.records.some((r) => (r as HubSpotContact).id === String(ARCHIVED_EVERY))) {
          problems.push('an archived contact was listed');
        }
        if (result.deletedIds.length > 0) problems.push(`a first sync deleted ${result.deletedIds.join(', ')}`);
        return problems;
      },
      addNewer: async () => {
        const updated = hubspot.state.contacts.update('5', { lifecyclestage: 'customer' });
        const created = hubspot.state.contacts.create({ email: 'new.contact@example.org', firstname: 'New' });
        return [updated.id, created.id];
      },
    },
  },
  injectFault: (fault) => {
    hubspot.faults.inject({ kind: fault.status === 429 ? '429' : '5xx', status: fault.status, times: fault.times });
  },
  pendingFaults: () => hubspot.faults.pending().reduce((n, f) => n + f.remaining, 0),
});
