import { ConfigurationError, ConnectorError, type FailureType, type HttpPolicy } from '@plexus/sdk';
import type { HubSpotConfig } from './config.js';

/**
 * A rolling window frees slots continuously as old requests age out, so a short wait finds one; a longer wait
 * only idles the connection (five such retries still fail the run as transient when the account stays saturated).
 */
export const BURST_RETRY_MS = 500;
/** A rolling 1-second window (and search's own) frees a slot sooner still. */
export const SECONDLY_RETRY_MS = 250;
/** Never retry a spent daily limit sooner than this, whatever the clock says. */
export const MIN_DAILY_RETRY_MS = 15 * 60_000;

/**
 * How long to wait after a HubSpot 429, by the `policyName` of its body: `SECONDLY` (also search's own
 * per-second limit) a quarter of a second, `TEN_SECONDLY_ROLLING` half a second; `DAILY` resets at midnight
 * in the account's time zone, which the API does not tell, so the run is retried after the next midnight UTC
 * (at least 15 minutes later). A delay beyond a minute makes the HTTP client throw a `TransientError` with
 * `retryAfterMs` at once, so the hub reschedules the run instead of holding a worker.
 */
export function hubspotThrottleDelay(body: unknown, now = Date.now()): number {
  const policy = body && typeof body === 'object' ? (body as { policyName?: unknown }).policyName : undefined;
  if (policy === 'DAILY') {
    const midnight = new Date(now);
    midnight.setUTCHours(24, 0, 0, 0);
    return Math.max(MIN_DAILY_RETRY_MS, midnight.getTime() - now);
  }
  return policy === 'SECONDLY' ? SECONDLY_RETRY_MS : BURST_RETRY_MS;
}

/** A 2xx answer must be a JSON object; anything else is a page cut short on the way (retried). */
export function classifyHubSpotAnswer(status: number, body: unknown): FailureType | undefined {
  if (status >= 200 && status < 300 && (body === null || typeof body !== 'object')) return 'transient';
  return undefined;
}

export const hubspotHttpPolicy: HttpPolicy = {
  baseUrl: (config) => (config as HubSpotConfig).baseUrl,
  authHeaders: (config) => ({ Authorization: `Bearer ${(config as HubSpotConfig).accessToken}` }),
  throttle: (status, body) => (status === 429 ? hubspotThrottleDelay(body) : undefined),
  classify: classifyHubSpotAnswer,
};

/**
 * Rewrites the client's generic configuration errors so they say what to fix in HubSpot terms; other errors
 * pass through unchanged.
 */
export function explainHubSpotError(error: unknown): unknown {
  if (!(error instanceof ConnectorError) || error.failureType !== 'config') return error;
  const vendor = /\((?:401|403)\) by [^ ]+(?: for [^ ]+)? \((.*)\):/.exec(error.message)?.[1];
  const detail = vendor ? ` (${vendor})` : '';
  if (error.details.status === 401) {
    return new ConfigurationError(
      `HubSpot rejected the access token (401)${detail}: check the accessToken setting — the private app token (Settings → Integrations → Private Apps) may have been rotated or the app uninstalled; OAuth tokens expire and must be refreshed`,
      { status: 401, cause: error },
    );
  }
  if (error.details.status === 403) {
    return new ConfigurationError(
      `HubSpot refused access (403)${detail}: give the private app the crm.objects.contacts.read scope (and crm.objects.companies.read for company details, and the read scope of each object in the objects setting: crm.objects.deals.read, tickets, sales-email-read)`,
      { status: 403, cause: error },
    );
  }
  return error;
}
