import { createHmac, timingSafeEqual } from 'node:crypto';
import { defineSource, IsString, Length, type ProfileRecord, type WebhookRequest } from '@plexus/sdk';

/** A webhook-only HubSpot source (see the Shopify one): signature v3 and contact events. */
export class HubSpotWebhookConfig {
  @IsString()
  @Length(8, 200)
  clientSecret!: string;
}

const MAX_AGE_MS = 5 * 60_000;

/**
 * Signature v3: `X-HubSpot-Signature-v3` = base64 HMAC-SHA256 (app client secret) of method + the URL HubSpot
 * called + raw body + `X-HubSpot-Request-Timestamp`; requests older than 5 minutes are refused (replays).
 */
export function verifyHubSpotWebhook(request: WebhookRequest, secret: string, now = Date.now()): boolean {
  const given = request.headers['x-hubspot-signature-v3'];
  const timestamp = request.headers['x-hubspot-request-timestamp'];
  if (!given || !timestamp || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(now - Number(timestamp)) > MAX_AGE_MS) return false;
  const uri = request.publicUrl ?? request.url;
  const expected = createHmac('sha256', secret)
    .update(`${request.method.toUpperCase()}${uri}${request.rawBody.toString('utf8')}${timestamp}`, 'utf8')
    .digest();
  const actual = Buffer.from(given, 'base64');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

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
  },
});
