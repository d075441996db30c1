import { createHmac } from 'node:crypto';

/** Headers HubSpot sends with a v3-signed webhook request. */
export interface HubSpotWebhookHeaders {
  'X-HubSpot-Signature-v3': string;
  'X-HubSpot-Request-Timestamp': string;
  'Content-Type': 'application/json';
}

/**
 * Signs a webhook request the way HubSpot does (signature v3): base64 HMAC-SHA256, keyed with the app's
 * client secret, of `method + uri + body + timestamp` where `uri` is the full URL the request is sent to.
 *
 * @example
 * const body = JSON.stringify([{ subscriptionType: 'contact.propertyChange', objectId: 123 }]);
 * const headers = signHubSpotWebhook({ secret, method: 'POST', uri: `${hub}/webhooks/hubspot`, body });
 * await fetch(`${hub}/webhooks/hubspot`, { method: 'POST', headers, body });
 */
export function signHubSpotWebhook(input: {
  secret: string;
  method: string;
  uri: string;
  body: string;
  /** Milliseconds since the epoch (default now); HubSpot's receivers reject timestamps older than 5 minutes. */
  timestamp?: number;
}): HubSpotWebhookHeaders {
  const timestamp = String(input.timestamp ?? Date.now());
  const signature = createHmac('sha256', input.secret)
    .update(`${input.method.toUpperCase()}${input.uri}${input.body}${timestamp}`, 'utf8')
    .digest('base64');
  return {
    'X-HubSpot-Signature-v3': signature,
    'X-HubSpot-Request-Timestamp': timestamp,
    'Content-Type': 'application/json',
  };
}

/** A contact webhook event shaped like HubSpot's (`contact.creation`, `contact.propertyChange`, `contact.deletion`). */
export function hubSpotContactEvent(input: {
  objectId: number;
  subscriptionType: 'contact.creation' | 'contact.propertyChange' | 'contact.deletion';
  portalId?: number;
  appId?: number;
  propertyName?: string;
  propertyValue?: string;
  occurredAt?: number;
  eventId?: number;
}): Record<string, unknown> {
  return {
    eventId: input.eventId ?? Math.floor(Math.random() * 2 ** 31),
    subscriptionId: 1,
    portalId: input.portalId ?? 62515,
    appId: input.appId ?? 1160452,
    occurredAt: input.occurredAt ?? Date.now(),
    subscriptionType: input.subscriptionType,
    attemptNumber: 0,
    objectId: input.objectId,
    changeFlag:
      input.subscriptionType === 'contact.creation'
        ? 'CREATED'
        : input.subscriptionType === 'contact.deletion'
          ? 'DELETED'
          : 'UPDATED',
    changeSource: 'CRM',
    ...(input.propertyName ? { propertyName: input.propertyName, propertyValue: input.propertyValue ?? '' } : {}),
  };
}
