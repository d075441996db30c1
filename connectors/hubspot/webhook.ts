import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ProfileRecord, WebhookDefinition, WebhookRequest } from '@plexus/sdk';
import type { HubSpotConfig } from './config.js';
import { contactExternalId, mapContact } from './mapping.js';

const MAX_AGE_MS = 5 * 60_000;

/**
 * Signature v3: `X-HubSpot-Signature-v3` is the base64 HMAC-SHA256, keyed with the app's client secret, of
 * method + the URL HubSpot called + raw body + `X-HubSpot-Request-Timestamp`. Requests older than 5 minutes are
 * refused (replays); the comparison is constant-time.
 */
export function verifyHubSpotSignature(request: WebhookRequest, secret: string, now = Date.now()): boolean {
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

interface HubSpotWebhookEvent {
  eventId?: number | string;
  subscriptionType: string;
  objectId: number | string;
  occurredAt: number;
  propertyName?: string;
  propertyValue?: string;
}

/**
 * `contact.creation` and `contact.propertyChange` events, mapped exactly as a contact read by the stream with
 * only that property: the same external id, identifiers (a changed `email` or `phone`) and trait names.
 */
export function hubSpotWebhookRecords(
  request: WebhookRequest,
  config: HubSpotConfig,
  sourceId: string,
): ProfileRecord[] {
  const parsed = JSON.parse(request.rawBody.toString('utf8')) as unknown;
  const events = (Array.isArray(parsed) ? parsed : [parsed]) as HubSpotWebhookEvent[];
  const out: ProfileRecord[] = [];
  for (const e of events) {
    if (e.subscriptionType !== 'contact.creation' && e.subscriptionType !== 'contact.propertyChange') continue;
    const id = String(e.objectId);
    const observedAt = new Date(e.occurredAt).toISOString();
    if (!e.propertyName) {
      out.push({ identifiers: [contactExternalId(sourceId, id)], observedAt });
      continue;
    }
    out.push(
      mapContact(
        {
          id,
          properties: { [e.propertyName]: e.propertyValue ?? null, lastmodifieddate: observedAt },
          createdAt: observedAt,
          updatedAt: observedAt,
          archived: false,
        },
        { sourceId, userIdProperty: config.userIdProperty, defaultCountry: config.defaultCountry },
      ),
    );
  }
  return out;
}

/**
 * A HubSpot delivery is a batch of events, each with its `eventId`; a retry resends the same batch. The delivery's
 * id is its sorted event ids (undefined when an event has none, or the body is not HubSpot's).
 */
export function hubSpotDeliveryId(request: WebhookRequest): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(request.rawBody.toString('utf8'));
  } catch {
    return undefined;
  }
  const events = (Array.isArray(parsed) ? parsed : [parsed]) as Array<HubSpotWebhookEvent | null>;
  const ids = events.map((e) => e?.eventId);
  if (ids.length === 0 || ids.some((id) => (typeof id !== 'number' && typeof id !== 'string') || id === ''))
    return undefined;
  return ids.map(String).sort().join(',');
}

/** Real-time HubSpot: subscribe the app's webhooks to `POST /v1/webhooks/<sourceId>` and set `clientSecret`. */
export const hubSpotWebhook: WebhookDefinition<HubSpotConfig> = {
  verify: (request, config) =>
    typeof config.clientSecret === 'string' && verifyHubSpotSignature(request, config.clientSecret),
  toProfiles: (request, config, source) => hubSpotWebhookRecords(request, config, source.connectionId),
  deliveryId: hubSpotDeliveryId,
};
