import type { Verdict } from './connector.js';
import { ConnectorError } from './errors.js';

/**
 * One verdict per item for a request that failed as a whole: a transient failure asks to retry (after the
 * vendor's delay when it gave one, else `defaultRetryMs`), anything else aborts with the error's message and its
 * failure type (`config`: the connection needs the admin; `system`: anything else).
 *
 * @example
 * ```ts
 * try { await ctx.http.post(url, body); return { adds: adds.map(() => ({ ok: true })), removes: [] }; }
 * catch (error) { return { adds: verdictsForFailure(error, adds.length), removes: [] }; }
 * ```
 */
export function verdictsForFailure(error: unknown, count: number, defaultRetryMs = 60_000): Verdict[] {
  const message = error instanceof Error ? error.message : String(error);
  const verdict: Verdict =
    error instanceof ConnectorError && error.failureType === 'transient'
      ? { retryInMs: error.details.retryAfterMs ?? defaultRetryMs, reason: message }
      : { abort: message, failureType: error instanceof ConnectorError ? error.failureType : 'system' };
  return Array.from({ length: count }, () => ({ ...verdict }));
}
