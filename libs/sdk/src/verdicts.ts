import type { RequestReport, Verdict } from './connector.js';
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

/** What `sendInChunks` returns: one verdict per item, the request reports, and the failure that stopped it. */
export interface ChunkedSend {
  verdicts: Verdict[];
  requests: RequestReport[];
  /** The error of the request that failed; the items from there on were not sent and carry its verdict. */
  failure?: unknown;
}

/**
 * Sends `items` in requests of at most `size`, one after the other. When a request throws, it and every later
 * chunk get `verdictsForFailure(error)` unsent — a rejected token or a deleted audience fails them all alike,
 * and throttling asks to retry them all. Pass `failure` on to skip the removals after failed additions.
 *
 * @example
 * ```ts
 * const added = await sendInChunks(adds, 10_000, async (chunk) => {
 *   const { data } = await ctx.http.post(url, { members: chunk });
 *   return { verdicts: chunk.map(() => ({ ok: true })), requests: [{ operation: 'add', items: chunk.length }] };
 * });
 * ```
 */
export async function sendInChunks<Item>(
  items: Item[],
  size: number,
  send: (chunk: Item[]) => Promise<{ verdicts: Verdict[]; requests?: RequestReport[] }>,
): Promise<ChunkedSend> {
  const result: ChunkedSend = { verdicts: [], requests: [] };
  for (let start = 0; start < items.length; start += size) {
    try {
      const sent = await send(items.slice(start, start + size));
      result.verdicts.push(...sent.verdicts);
      result.requests.push(...(sent.requests ?? []));
    } catch (error) {
      result.verdicts.push(...verdictsForFailure(error, items.length - start));
      result.failure = error;
      return result;
    }
  }
  return result;
}

/**
 * A whole `write` from two senders: additions first, then removals — unless the additions failed, in which case
 * the removals get the same verdict unsent (the same token, audience or throttle would refuse them).
 */
export async function writeAddsThenRemoves<Item>(
  adds: Item[],
  removes: Item[],
  sendAdds: (items: Item[]) => Promise<ChunkedSend>,
  sendRemoves: (items: Item[]) => Promise<ChunkedSend>,
): Promise<{ adds: Verdict[]; removes: Verdict[]; requests: RequestReport[] }> {
  const added = await sendAdds(adds);
  const removed: ChunkedSend =
    added.failure === undefined
      ? await sendRemoves(removes)
      : { verdicts: verdictsForFailure(added.failure, removes.length), requests: [] };
  return { adds: added.verdicts, removes: removed.verdicts, requests: [...added.requests, ...removed.requests] };
}
