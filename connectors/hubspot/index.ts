import { defineSource } from '@plexus/sdk';
import { HubSpotConfig } from './config.js';
import { contacts } from './contacts.stream.js';
import { explainHubSpotError, hubspotHttpPolicy } from './policy.js';
import { hubSpotWebhook } from './webhook.js';

export { HubSpotConfig, HUBSPOT_API_URL } from './config.js';
export type { HubSpotCheckpoint } from './crm-read.js';
export { mapContact, type HubSpotContact } from './mapping.js';
export { hubSpotWebhook, verifyHubSpotSignature } from './webhook.js';

/**
 * HubSpot CRM contacts (with their companies as traits). Full sync lists every contact; later runs search what
 * changed since the last run and turn archived contacts into deletes. See README.md in this folder.
 */
export default defineSource<HubSpotConfig>({
  id: 'hubspot',
  version: '0.1.0',
  sdk: '^0.1.0',
  kind: 'source',
  displayName: 'HubSpot',
  description:
    'Contacts from HubSpot CRM (private app or OAuth token), with company details, opt-outs and archived contacts as deletes.',
  config: HubSpotConfig,
  secrets: ['accessToken', 'clientSecret'],
  // Real time as well as scheduled: contact webhooks on POST /v1/webhooks/<sourceId>.
  webhook: hubSpotWebhook,
  // One budget for every request of the connection, shared by all workers; search is paced on top of it.
  rateLimit: (config) => ({ requests: (config as HubSpotConfig).requestsPerSecond ?? 10, perMs: 1_000 }),
  http: hubspotHttpPolicy,
  identifiers: ['email', 'phone', 'user_id', 'external_id'],
  // Phone numbers without a country code (scheduled runs and webhooks alike) are read in this country.
  ingest: (config) => ({ defaultCountry: config.defaultCountry }),
  async check(ctx) {
    try {
      await ctx.http.get('/crm/v3/objects/contacts', { params: { limit: 1, archived: false } });
    } catch (error) {
      throw explainHubSpotError(error);
    }
  },
  streams: [contacts],
});
