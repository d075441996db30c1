import { ConfigurationError, ConnectorError, type FailureType, type HttpPolicy, type Verdict } from '@plexus/sdk';
import { instanceUrl, type SalesforceDestinationConfig } from './config.js';

/** Another long request finishes within a second or two (ConcurrentPerOrgLongTxn). */
export const CONCURRENCY_RETRY_MS = 2_000;
/** The org's daily request allowance is spent: requests free up slowly over its rolling 24 hours. */
export const DAILY_LIMIT_RETRY_MS = 60 * 60_000;
/** A record locked by another transaction, or a request that ran too long: try again shortly. */
export const RECORD_RETRY_MS = 5_000;

interface SalesforceError {
  errorCode?: string;
  message?: string;
}

function firstError(body: unknown): SalesforceError | undefined {
  const first: unknown = Array.isArray(body) ? body[0] : body;
  return first && typeof first === 'object' ? first : undefined;
}

/** `403 REQUEST_LIMIT_EXCEEDED` is throttling: concurrency clears in seconds, the daily allowance in an hour. */
export function salesforceThrottleDelay(status: number, body: unknown): number | undefined {
  const error = firstError(body);
  if (status !== 403 || error?.errorCode !== 'REQUEST_LIMIT_EXCEEDED') return undefined;
  return /TotalRequests/i.test(error.message ?? '') ? DAILY_LIMIT_RETRY_MS : CONCURRENCY_RETRY_MS;
}

/** A 2xx answer must be JSON (`204 No Content` aside); a request naming a field the org lacks is configuration. */
function classify(status: number, body: unknown): FailureType | undefined {
  if (status >= 200 && status < 300 && status !== 204 && (body === null || typeof body !== 'object'))
    return 'transient';
  const code = firstError(body)?.errorCode;
  if (status === 400 && (code === 'INVALID_FIELD' || code === 'INVALID_TYPE' || code === 'JSON_PARSER_ERROR'))
    return 'config';
  return undefined;
}

/** Salesforce's answer in its own terms, saying what to fix. */
function explain(status: number, body: unknown): string | undefined {
  const error = firstError(body);
  if (status === 401)
    return 'Salesforce rejected the session (401 INVALID_SESSION_ID): update the accessToken setting with a fresh token';
  if (status === 403 && error?.errorCode !== 'REQUEST_LIMIT_EXCEEDED')
    return `Salesforce refused the request (403 ${error?.errorCode ?? ''}): give the integration user edit access to the object, Campaign and CampaignMember`;
  if (status === 400 && error?.message)
    return `Salesforce refused the request (${error.errorCode ?? 400}: ${error.message.replace(/\s+/g, ' ').trim()}): check the fields and externalIdField settings`;
  return undefined;
}

export const salesforceDestinationHttpPolicy: HttpPolicy = {
  baseUrl: (config) => instanceUrl(config as SalesforceDestinationConfig),
  authHeaders: (config) => ({ Authorization: `Bearer ${(config as SalesforceDestinationConfig).accessToken}` }),
  throttle: (status, body) => salesforceThrottleDelay(status, body),
  classify,
  explain,
};

/** One per-record error of a SaveResult. */
export interface SaveError {
  statusCode?: string;
  message?: string;
  fields?: string[];
}
/** sObject Collections answer one SaveResult per record, in order. */
export interface SaveResult {
  id?: string;
  success?: boolean;
  errors?: SaveError[];
  created?: boolean;
}

const TRANSIENT_RECORD_ERRORS = new Set(['UNABLE_TO_LOCK_ROW', 'REQUEST_RUNNING_TOO_LONG', 'SERVER_UNAVAILABLE']);
/** Errors the admin must fix (a field not writable for the integration user): every item would hit them. */
const CONFIG_RECORD_ERRORS = new Set(['INVALID_FIELD_FOR_INSERT_UPDATE', 'INSUFFICIENT_ACCESS_OR_READONLY']);

/** The verdict for a failed SaveResult: retry locks and timeouts, stop on permissions, refuse bad data. */
export function verdictForSaveErrors(errors: SaveError[] | undefined): Verdict {
  const first = errors?.[0];
  const code = first?.statusCode ?? 'UNKNOWN_EXCEPTION';
  const reason = `Salesforce ${code}: ${first?.message ?? 'the record was not saved'}${first?.fields?.length ? ` (${first.fields.join(', ')})` : ''}`;
  if (TRANSIENT_RECORD_ERRORS.has(code)) return { retryInMs: RECORD_RETRY_MS, reason };
  if (CONFIG_RECORD_ERRORS.has(code)) return { abort: reason, failureType: 'config' };
  return { abort: reason, failureType: 'invalid' };
}

/** A ConfigurationError for a 404 on the campaign: it was deleted in Salesforce. */
export function campaignGone(campaignId: string, error: unknown): unknown {
  if (error instanceof ConnectorError && error.details.status === 404) {
    return new ConfigurationError(
      `Salesforce campaign ${campaignId} no longer exists (deleted?): clear the audience's external id so Plexus creates a new campaign, or give the id of an existing one`,
      { status: 404, cause: error },
    );
  }
  return error;
}
