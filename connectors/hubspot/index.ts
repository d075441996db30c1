import { defineSource, requestsPerSecond } from '@plexus/sdk';
import { HubSpotConfig } from './config.js';
import { contacts } from './contacts.stream.js';
import { calls, deals, emails, meetings, tickets } from './crm-objects.stream.js';
import { explainHubSpotError, hubspotHttpPolicy } from './policy.js';
import { hubSpotWebhook } from './webhook.js';

export { HubSpotConfig, HUBSPOT_API_URL, HUBSPOT_CRM_OBJECTS, type HubSpotCrmObject } from './config.js';
export * from './crm.mapping.js';
export type { HubSpotCheckpoint } from './crm-read.js';
export { mapContact, type HubSpotContact } from './mapping.js';
export { hubSpotWebhook, verifyHubSpotSignature } from './webhook.js';

/**
 * HubSpot CRM contacts (with their companies as traits), and the deals, tickets, emails, calls and meetings chosen
 * in `objects` as events and traits on their contacts. Each object's first run lists every record; later runs
 * search what changed since the last run and read archived records as deletes. See README.md in this folder.
 */
export default defineSource<HubSpotConfig>({
  id: 'hubspot',
  version: '0.1.0',
  sdk: '^0.1.0',
  kind: 'source',
  displayName: 'HubSpot',
  description:
    'Contacts from HubSpot CRM (private app or OAuth token), with company details, opt-outs and archived contacts as deletes; deals, tickets, emails, calls and meetings as events and traits on them.',
  config: HubSpotConfig,
  secrets: ['accessToken', 'clientSecret'],
  // Real time as well as scheduled: contact webhooks on POST /v1/webhooks/<sourceId>.
  webhook: hubSpotWebhook,
  // One budget for every request of the connection, shared by all workers; search is paced on top of it.
  rateLimit: (config) => requestsPerSecond((config as HubSpotConfig).requestsPerSecond ?? 10),
  http: hubspotHttpPolicy,
  identifiers: ['email', 'phone', 'user_id', 'external_id'],
  // Phone numbers without a country code (scheduled runs and webhooks alike) are read in this country.
  ingest: (config) => ({ defaultCountry: config.defaultCountry }),
  async check(ctx) {
    try {
      // Every object read: a missing scope shows now rather than in the middle of a sync.
      for (const type of ['contacts', ...(ctx.config.objects ?? [])]) {
        await ctx.http.get(`/crm/v3/objects/${type}`, { params: { limit: 1, archived: false } });
      }
    } catch (error) {
      throw explainHubSpotError(error);
    }
  },
  // Contacts first: the other objects' events land on the profiles their contacts' external ids point to.
  streams: [contacts, deals, tickets, emails, calls, meetings],
});
