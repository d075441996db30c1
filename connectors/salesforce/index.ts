import { defineSource, requestsPerSecond } from '@plexus/sdk';
import { SalesforceConfig } from './config.js';
import { explainSalesforceError, salesforceHttpPolicy } from './policy.js';
import {
  casesStream,
  contactsStream,
  emailMessagesStream,
  leadsStream,
  opportunitiesStream,
  tasksStream,
} from './streams.js';

export { ACTIVITY_OBJECTS, SalesforceConfig, instanceUrl } from './config.js';
export * from './activity.mapping.js';
export type { SalesforceCheckpoint } from './records.stream.js';
export { mapSalesforceRecord, type SalesforceRecord } from './mapping.js';

/**
 * Salesforce Contacts and Leads as profiles, and Opportunities, Cases, Tasks and EmailMessages as events on them.
 * Full syncs run as Bulk API 2.0 query jobs (or REST `query`, by `fullSyncMethod`); incremental reads use REST
 * `queryAll` on `SystemModstamp` with a lookback window, and deleted Contacts and Leads become deletes.
 */
export default defineSource<SalesforceConfig>({
  id: 'salesforce',
  version: '0.2.0',
  sdk: '^0.1.0',
  kind: 'source',
  displayName: 'Salesforce',
  description:
    'Contacts and Leads from Salesforce, with Opportunities, Cases, Tasks and EmailMessages as events; full syncs through Bulk API 2.0, incremental on SystemModstamp, deletes included.',
  config: SalesforceConfig,
  secrets: ['accessToken'],
  // baseUrl counts as an address by its @IsUrl(); myDomain names the instance the token is sent to.
  addresses: ['myDomain'],
  rateLimit: (config) => requestsPerSecond((config as SalesforceConfig).requestsPerSecond ?? 10),
  http: salesforceHttpPolicy,
  identifiers: ['email', 'phone', 'user_id', 'external_id'],
  ingest: (config) => ({ defaultCountry: config.defaultCountry }),
  async check(ctx) {
    try {
      // Every object read must be readable: an org without Email-to-Case has no EmailMessage to query.
      for (const object of ['Contact', 'Lead', ...ctx.config.activities]) {
        await ctx.http.get(`/services/data/${ctx.config.apiVersion}/query`, {
          params: { q: `SELECT Id FROM ${object} LIMIT 1` },
        });
      }
    } catch (error) {
      throw explainSalesforceError(error);
    }
  },
  streams: [contactsStream, leadsStream, opportunitiesStream, casesStream, tasksStream, emailMessagesStream],
});
