import { defineSource } from '@plexus/sdk';
import { SalesforceConfig } from './config.js';
import { explainSalesforceError, salesforceHttpPolicy } from './policy.js';
import { salesforceStream } from './records.stream.js';

export { SalesforceConfig, instanceUrl } from './config.js';
export type { SalesforceCheckpoint } from './records.stream.js';
export { mapSalesforceRecord, type SalesforceRecord } from './mapping.js';

/**
 * Salesforce Contacts and Leads through the REST API's SOQL `query`, incremental on `SystemModstamp` with a
 * lookback window; deleted rows (seen through `queryAll`) become deletes.
 */
export default defineSource<SalesforceConfig>({
  id: 'salesforce',
  version: '0.1.0',
  sdk: '^0.1.0',
  kind: 'source',
  displayName: 'Salesforce',
  description: 'Contacts and Leads from Salesforce (REST API, SOQL), incremental on SystemModstamp, deletes included.',
  config: SalesforceConfig,
  secrets: ['accessToken'],
  // baseUrl counts as an address by its @IsUrl(); myDomain names the instance the token is sent to.
  addresses: ['myDomain'],
  rateLimit: (config) => ({ requests: (config as SalesforceConfig).requestsPerSecond ?? 10, perMs: 1_000 }),
  http: salesforceHttpPolicy,
  identifiers: ['email', 'phone', 'user_id', 'external_id'],
  ingest: (config) => ({ defaultCountry: config.defaultCountry }),
  async check(ctx) {
    try {
      await ctx.http.get(`/services/data/${ctx.config.apiVersion}/query`, {
        params: { q: 'SELECT Id FROM Contact LIMIT 1' },
      });
    } catch (error) {
      throw explainSalesforceError(error);
    }
  },
  streams: [salesforceStream('contacts', 'Contact'), salesforceStream('leads', 'Lead')],
});
