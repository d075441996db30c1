import type { FailureType, HttpPolicy } from '@plexus/sdk';
import type { TikTokAudiencesConfig } from './config.js';

/** Every TikTok answer: HTTP 200 with `{ code, message, request_id, data }`; `code` 0 is success. */
export interface TikTokAnswer {
  code?: number;
  message?: string;
  request_id?: string;
}

export const THROTTLED = 40100;
/** TikTok asks to retry throttled requests "in some time"; its limits are per second. */
export const THROTTLE_RETRY_MS = 1000;
const TOKEN_CODES = new Set([40102, 40104, 40105]);
const PERMISSION_CODES = new Set([40001]);

const codeOf = (body: unknown): number | undefined =>
  body && typeof body === 'object' ? (body as TikTokAnswer).code : undefined;

/** A validation error (40002) is returned to the connector, which reads which user it names. */
export const INVALID_PARAMETER = 40002;

export function classifyTikTokAnswer(status: number, body: unknown): FailureType | undefined {
  const code = codeOf(body);
  if (status >= 300 || code === undefined || code === 0 || code === INVALID_PARAMETER) return undefined;
  if (TOKEN_CODES.has(code) || PERMISSION_CODES.has(code)) return 'config';
  if (code >= 50000) return 'transient';
  return 'system';
}

export function explainTikTokAnswer(status: number, body: unknown): string | undefined {
  const code = codeOf(body);
  if (code === undefined || code === 0) return undefined;
  const said = `TikTok said (${code}): ${(body as TikTokAnswer).message ?? ''}`;
  if (TOKEN_CODES.has(code)) {
    return `TikTok rejected the access token — ${said}. Authorise the app again and update the accessToken setting`;
  }
  if (PERMISSION_CODES.has(code)) {
    return `TikTok refused access to the advertiser — ${said}. Grant the app the Audience Management scope on advertiserId`;
  }
  return said;
}

export const tiktokHttpPolicy: HttpPolicy = {
  baseUrl: (config) =>
    ((config as TikTokAudiencesConfig).baseUrl ?? 'https://business-api.tiktok.com').replace(/\/$/, ''),
  authHeaders: (config) => ({ 'Access-Token': (config as TikTokAudiencesConfig).accessToken }),
  throttle: (_status, body) => (codeOf(body) === THROTTLED ? THROTTLE_RETRY_MS : undefined),
  classify: classifyTikTokAnswer,
  explain: explainTikTokAnswer,
};
