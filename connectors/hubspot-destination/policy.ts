import { ConfigurationError, type HttpPolicy } from '@plexus/sdk';
import type { HubSpotDestinationConfig } from './config.js';

/**
 * How long to wait after a 429, by the `policyName` of HubSpot's body: rolling windows free a slot within a
 * second; the daily limit resets at the account's midnight (unknown to the API), so at least an hour.
 */
export function throttleDelayMs(body: unknown): number {
  const policy = body && typeof body === 'object' ? (body as { policyName?: unknown }).policyName : undefined;
  if (policy === 'DAILY') return 60 * 60_000;
  return policy === 'SECONDLY' ? 250 : 500;
}

export const hubspotDestinationHttpPolicy: HttpPolicy = {
  baseUrl: (config) => (config as HubSpotDestinationConfig).baseUrl,
  authHeaders: (config) => ({ Authorization: `Bearer ${(config as HubSpotDestinationConfig).accessToken}` }),
  throttle: (status, body) => (status === 429 ? throttleDelayMs(body) : undefined),
  explain(status, body) {
    const message = body && typeof body === 'object' ? (body as { message?: unknown }).message : undefined;
    const detail = typeof message === 'string' ? ` (${message.slice(0, 300)})` : '';
    if (status === 401) return `HubSpot rejected the access token (401)${detail}: check the accessToken setting`;
    if (status === 403) {
      return `HubSpot refused access (403)${detail}: give the private app crm.objects.contacts.write, crm.objects.contacts.read, crm.schemas.contacts.write and crm.lists.write`;
    }
    return undefined;
  },
};

/** A configuration error naming the mapped properties HubSpot cannot take. */
export function unusableProperties(problems: string[]): ConfigurationError {
  return new ConfigurationError(`the properties mapping cannot be written to HubSpot: ${problems.join('; ')}`);
}
