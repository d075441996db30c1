import type { FailureType, HttpPolicy } from '@plexus/sdk';
import type { GoogleCustomerMatchConfig } from './config.js';

/** A `google.rpc.Status` error body: `{ error: { code, message, status, details? } }`. */
export interface RpcError {
  code?: number;
  message?: string;
  status?: string;
  details?: Array<{
    '@type'?: string;
    reason?: string;
    retryDelay?: string;
    fieldViolations?: Array<{ field?: string; description?: string }>;
  }>;
}

export function rpcError(body: unknown): RpcError | undefined {
  const error = body && typeof body === 'object' ? (body as { error?: unknown }).error : undefined;
  return error && typeof error === 'object' ? error : undefined;
}

/** Milliseconds of a `RetryInfo.retryDelay` duration (`"30s"`, `"1.5s"`). */
export function retryDelayMs(body: unknown): number | undefined {
  for (const detail of rpcError(body)?.details ?? []) {
    const match = /^(\d+(?:\.\d+)?)s$/.exec(detail.retryDelay ?? '');
    if (match) return Math.round(Number(match[1]) * 1000);
  }
  return undefined;
}

/** Members a 400 names (`audience_members[3]…`), or undefined when a violation concerns the request itself. */
export function rejectedMembers(body: unknown): Map<number, string> | undefined {
  const violations = (rpcError(body)?.details ?? []).flatMap((d) => d.fieldViolations ?? []);
  if (violations.length === 0) return undefined;
  const rejected = new Map<number, string>();
  for (const violation of violations) {
    const index = /^audience_members\[(\d+)\]/.exec(violation.field ?? '')?.[1];
    if (index === undefined) return undefined;
    rejected.set(Number(index), `${violation.field}: ${violation.description ?? 'invalid'}`);
  }
  return rejected;
}

export function classifyGoogleError(status: number, body: unknown): FailureType | undefined {
  const error = rpcError(body);
  if (status === 429 || error?.status === 'RESOURCE_EXHAUSTED' || error?.status === 'UNAVAILABLE') return 'transient';
  // A user list that does not exist (deleted, or the wrong id) needs the admin, like a rejected token.
  if (status === 404 && error?.status === 'NOT_FOUND') return 'config';
  return undefined;
}

export function explainGoogleError(status: number, body: unknown): string | undefined {
  const error = rpcError(body);
  const said = `Google said (${error?.status ?? status}): ${error?.message ?? ''}`;
  if (status === 401) {
    return `Google rejected the OAuth access token — ${said}. Issue a new token with the datamanager scope and update the accessToken setting`;
  }
  if (status === 403) {
    return `Google refused access — ${said}. Give the Google account access to the operating account (operatingAccountId, through loginAccountId for a manager account)`;
  }
  if (status === 404 && error?.status === 'NOT_FOUND') {
    return `The Customer Match user list was not found — ${said}. It may have been deleted: link another user list`;
  }
  if (status === 400 && error?.details?.some((d) => d.reason === 'TERMS_AND_CONDITIONS_NOT_SIGNED')) {
    return `Google refused the upload: the Customer Match terms of service are not accepted — ${said}`;
  }
  return undefined;
}

export const googleHttpPolicy: HttpPolicy = {
  baseUrl: (config) =>
    ((config as GoogleCustomerMatchConfig).baseUrl ?? 'https://datamanager.googleapis.com').replace(/\/$/, ''),
  authHeaders: (config) => {
    const c = config as GoogleCustomerMatchConfig;
    return {
      Authorization: `Bearer ${c.accessToken}`,
      ...(c.quotaProjectId ? { 'x-goog-user-project': c.quotaProjectId } : {}),
    };
  },
  throttle: (status, body) =>
    status === 429 || rpcError(body)?.status === 'RESOURCE_EXHAUSTED' ? retryDelayMs(body) : undefined,
  classify: classifyGoogleError,
  explain: explainGoogleError,
};
