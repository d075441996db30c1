import type { FailureType, HttpPolicy } from '@plexus/sdk';
import { DEFAULT_API_VERSION, DEFAULT_BASE_URL, type MetaCustomAudiencesConfig } from './config.js';

/** The Graph API error body: `{ error: { message, type, code, error_subcode, is_transient, fbtrace_id } }`. */
export interface GraphError {
  message?: string;
  code?: number;
  error_subcode?: number;
  is_transient?: boolean;
  error_user_msg?: string;
  fbtrace_id?: string;
}

export function graphError(body: unknown): GraphError | undefined {
  const error = body && typeof body === 'object' ? (body as { error?: unknown }).error : undefined;
  return error && typeof error === 'object' ? error : undefined;
}

/** Rate limiting: 4 (app), 17 (user), 613 (API), 80003 (Custom Audience calls on the ad account). */
export const THROTTLE_CODES = new Set([4, 17, 613, 80003]);
/** The audience was deleted in Ads Manager (subcode, sometimes given as the code). */
export const AUDIENCE_DELETED = 1487366;

/** Permission errors: 200–299 ("(#200) Requires ads_management permission"), 294 (Ads Management API access), 10. */
function isPermission(code: number | undefined): boolean {
  return code !== undefined && (code === 10 || (code >= 200 && code <= 299));
}

/**
 * Milliseconds Meta asks to wait, from the largest `estimated_time_to_regain_access` (minutes) in the
 * `x-business-use-case-usage` header; undefined when the header says nothing (under a minute).
 */
export function regainAccessMs(headers: Record<string, string>): number | undefined {
  const raw = headers['x-business-use-case-usage'];
  if (!raw) return undefined;
  try {
    const usage = JSON.parse(raw) as Record<string, Array<{ estimated_time_to_regain_access?: number }>>;
    const minutes = Math.max(
      0,
      ...Object.values(usage).flatMap((entries) => entries.map((e) => Number(e.estimated_time_to_regain_access) || 0)),
    );
    return minutes > 0 ? minutes * 60_000 : undefined;
  } catch {
    return undefined;
  }
}

/** Meta's codes to failure types: throttling and `is_transient` retry; token, permission, deleted audience stop. */
export function classifyMetaError(status: number, body: unknown): FailureType | undefined {
  const error = graphError(body);
  if (!error || status < 400) return undefined;
  if (THROTTLE_CODES.has(error.code ?? -1) || error.is_transient === true) return 'transient';
  if (error.code === 190 || error.code === 102 || error.code === 104) return 'config';
  if (isPermission(error.code)) return 'config';
  if (error.code === AUDIENCE_DELETED || error.error_subcode === AUDIENCE_DELETED) return 'config';
  return undefined;
}

/** What to fix, in Meta's terms, for the errors the admin must act on. */
export function explainMetaError(status: number, body: unknown): string | undefined {
  const error = graphError(body);
  if (!error || status < 400) return undefined;
  const said = `Meta said (#${error.code}${error.error_subcode ? `/${error.error_subcode}` : ''}): ${error.message ?? ''}`;
  if (error.code === 190 || error.code === 102 || error.code === 104) {
    return `Meta rejected the access token — ${said}. Generate a new system-user token with ads_management and update the accessToken setting`;
  }
  if (isPermission(error.code)) {
    return `Meta refused access to the ad account — ${said}. Give the system user the ads_management permission on the ad account (adAccountId) and accept the Custom Audience terms`;
  }
  if (error.code === AUDIENCE_DELETED || error.error_subcode === AUDIENCE_DELETED) {
    return `The Meta custom audience was deleted — ${said}. Clear the destination's audience id so Plexus creates a new one, or link another audience`;
  }
  return undefined;
}

export function metaBaseUrl(config: MetaCustomAudiencesConfig): string {
  return `${(config.baseUrl ?? DEFAULT_BASE_URL).replace(/\/$/, '')}/${config.apiVersion ?? DEFAULT_API_VERSION}`;
}

export const metaHttpPolicy: HttpPolicy = {
  baseUrl: (config) => metaBaseUrl(config as MetaCustomAudiencesConfig),
  authHeaders: (config) => ({ Authorization: `Bearer ${(config as MetaCustomAudiencesConfig).accessToken}` }),
  throttle: (status, body, headers) =>
    status >= 400 && THROTTLE_CODES.has(graphError(body)?.code ?? -1) ? regainAccessMs(headers) : undefined,
  classify: classifyMetaError,
  explain: explainMetaError,
};
