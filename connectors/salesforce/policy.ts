import { ConfigurationError, ConnectorError, type FailureType, type HttpPolicy } from '@plexus/sdk';
import { instanceUrl, type SalesforceConfig } from './config.js';

/** Concurrent long-running request limit: another request finishes within a second or two. */
export const CONCURRENCY_RETRY_MS = 2_000;
/**
 * The org's API request allowance is counted over a rolling 24 hours: once spent, requests free up slowly, so
 * the run is rescheduled an hour later instead of waiting in a worker.
 */
export const DAILY_LIMIT_RETRY_MS = 60 * 60_000;

interface SalesforceError {
  errorCode?: string;
  message?: string;
}

function firstError(body: unknown): SalesforceError | undefined {
  const first: unknown = Array.isArray(body) ? body[0] : body;
  return first && typeof first === 'object' ? first : undefined;
}

/**
 * `403 REQUEST_LIMIT_EXCEEDED` is throttling, not a permission problem: "ConcurrentPerOrgLongTxn Limit
 * exceeded" (too many long requests at once) is retried in a couple of seconds; "TotalRequests Limit
 * exceeded" (the daily allowance) waits an hour, which the HTTP client turns into a `TransientError` with
 * `retryAfterMs` so the hub reschedules the run.
 */
export function salesforceThrottleDelay(status: number, body: unknown): number | undefined {
  const error = firstError(body);
  if (status !== 403 || error?.errorCode !== 'REQUEST_LIMIT_EXCEEDED') return undefined;
  return /TotalRequests/i.test(error.message ?? '') ? DAILY_LIMIT_RETRY_MS : CONCURRENCY_RETRY_MS;
}

/**
 * A 2xx answer must be JSON or a stream (a page cut short is retried; `204 No Content` has no body); a query
 * naming a field or object the org lacks is configuration.
 */
export function classifySalesforceAnswer(status: number, body: unknown): FailureType | undefined {
  if (status >= 200 && status < 300 && status !== 204 && (body === null || typeof body !== 'object'))
    return 'transient';
  const code = firstError(body)?.errorCode;
  if (status === 400 && (code === 'INVALID_FIELD' || code === 'INVALID_TYPE')) return 'config';
  return undefined;
}

export const salesforceHttpPolicy: HttpPolicy = {
  baseUrl: (config) => instanceUrl(config as SalesforceConfig),
  authHeaders: (config) => ({ Authorization: `Bearer ${(config as SalesforceConfig).accessToken}` }),
  throttle: (status, body) => salesforceThrottleDelay(status, body),
  classify: classifySalesforceAnswer,
};

/** Rewrites the client's generic configuration errors in Salesforce terms; other errors pass through. */
export function explainSalesforceError(error: unknown): unknown {
  if (!(error instanceof ConnectorError) || error.failureType !== 'config') return error;
  const status = error.details.status;
  if (status === 401) {
    return new ConfigurationError(
      'Salesforce rejected the session (401 INVALID_SESSION_ID): the access token expired or was revoked — update the accessToken setting with a fresh token, and check that baseUrl is the instance URL the token was issued for',
      { status, cause: error },
    );
  }
  if (status === 403) {
    return new ConfigurationError(
      `Salesforce refused the request (403): give the integration user the "API Enabled" permission and read access to the objects synced (${error.message})`,
      { status, cause: error },
    );
  }
  if (status === 400) {
    const message = error.message.replace(/\s+/g, ' ');
    const object = /sObject type '([^']+)'/.exec(message)?.[1];
    return new ConfigurationError(
      object
        ? `Salesforce refused the query (${message}): give the integration user read access to ${object}, or remove it from the activities setting`
        : `Salesforce refused the query (${message}): check contactUserIdField / leadUserIdField name fields that exist on the object; a single-currency org has no CurrencyIsoCode: set currencyIsoCode to its currency`,
      { status, cause: error },
    );
  }
  return error;
}
