import { defineSource, IsString, Length, type ProfileRecord, type WebhookRequest } from '@plexus/sdk';
import { hubSpotDeliveryId, verifyHubSpotSignature } from '../../../../connectors/hubspot/webhook.js';

/** A webhook-only HubSpot source (see the Shopify one): signature v3 and contact events. */
export class HubSpotWebhookConfig {
  @IsString()
  @Length(8, 200)
  clientSecret!: string;
}

/** The real connector's signature v3 check (method + URL + body + timestamp, 5-minute replay window). */
export const verifyHubSpotWebhook = verifyHubSpotSignature;

interface HubSpotEvent {
  subscriptionType: string;
  objectId: number;
  occurredAt: number;
  propertyName?: string;
  propertyValue?: string;
}

/** `contact.creation` / `contact.propertyChange` → the contact's external id, the changed property as a trait. */
export function hubSpotWebhookRecords(request: WebhookRequest): ProfileRecord[] {
  const events = JSON.parse(request.rawBody.toString('utf8')) as HubSpotEvent[];
  const out: ProfileRecord[] = [];
  for (const e of events) {
    if (e.subscriptionType !== 'contact.creation' && e.subscriptionType !== 'contact.propertyChange') continue;
    const record: ProfileRecord = {
      identifiers: [{ type: 'external_id', value: `hubspot:contact:${e.objectId}` }],
      observedAt: new Date(e.occurredAt).toISOString(),
    };
    if (e.propertyName) {
      record.traits = { [e.propertyName]: e.propertyValue ?? null };
      if (e.propertyName === 'email' && e.propertyValue)
        record.identifiers.push({ type: 'email', value: e.propertyValue });
    }
    out.push(record);
  }
  return out;
}

export default defineSource<HubSpotWebhookConfig>({
  id: 'hubspot-webhooks',
  version: '0.1.0',
  sdk: '^0.1.0',
  kind: 'source',
  displayName: 'HubSpot webhooks (test)',
  config: HubSpotWebhookConfig,
  secrets: ['clientSecret'],
  async check() {},
  streams: [],
  webhook: {
    verify: (request, config) => verifyHubSpotWebhook(request, config.clientSecret),
    toProfiles: (request) => hubSpotWebhookRecords(request),
    deliveryId: hubSpotDeliveryId,
  },
});
