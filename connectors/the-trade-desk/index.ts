import { createHmac } from 'node:crypto';
import {
  defineDestination,
  requestsPerSecond,
  sendInChunks,
  writeAddsThenRemoves,
  type ConnectorContext,
  type Verdict,
} from '@plexus/sdk';
import { TheTradeDeskConfig } from './config.js';
import { toTtdItem, type TtdItem } from './normalize.js';

export { TheTradeDeskConfig } from './config.js';
export * from './normalize.js';

export const TTD_MAX_ITEMS = 10_000;
export const TTD_MAX_BYTES = 2_500_000;
export const DEFAULT_TTL_MINUTES = 43_200;
type Ctx = ConnectorContext<TheTradeDeskConfig>;

interface TtdAnswer {
  FailedLines?: Array<{ ErrorCode?: string; Message?: string; LineNumber?: number }>;
}

/** `TtdSignature`: base64 HMAC-SHA1 of the exact body bytes, keyed with the advertiser's secret. */
export function ttdSignature(body: string, secret: string): string {
  return createHmac('sha1', secret).update(body).digest('base64');
}

async function post(ctx: Ctx, items: unknown[]) {
  const body = JSON.stringify({ AdvertiserId: ctx.config.advertiserId, Items: items });
  return ctx.http.post<TtdAnswer>('/data/advertiser', body, {
    headers: { 'Content-Type': 'application/json', TtdSignature: ttdSignature(body, ctx.config.secretKey) },
  });
}

/** Adds (TTL from the config) or removes (`TTLInMinutes: 0`) items in the segment; `FailedLines` become `invalid`. */
function send(ctx: Ctx, segment: string, ttl: number, items: TtdItem[]) {
  return sendInChunks(items, TTD_MAX_ITEMS, async (chunk) => {
    const { data } = await post(
      ctx,
      chunk.map((item) => ({ [item.idType]: item.id, Data: [{ Name: segment, TTLInMinutes: ttl }] })),
    );
    const failed = new Map((data?.FailedLines ?? []).map((line) => [line.LineNumber, line]));
    const verdicts: Verdict[] = chunk.map((_, i) => {
      const line = failed.get(i);
      return line
        ? {
            abort: `The Trade Desk refused the line: ${line.ErrorCode ?? ''} ${line.Message ?? ''}`.trim(),
            failureType: 'invalid',
          }
        : { ok: true };
    });
    const operation = ttl === 0 ? ('remove' as const) : ('add' as const);
    const invalid = data?.FailedLines?.length ?? 0;
    return {
      verdicts,
      requests: [
        {
          operation,
          items: chunk.length,
          received: chunk.length - invalid,
          invalid,
          invalidSamples: (data?.FailedLines ?? []).slice(0, 10).map((line) => ({
            value: chunk[line.LineNumber ?? -1]?.id ?? '',
            reason: `${line.ErrorCode ?? ''}: ${line.Message ?? ''}`,
          })),
        },
      ],
    };
  });
}

/**
 * The Trade Desk first-party data: device ids and TTD cookie ids placed in a segment with a time to live, removed
 * with a TTL of 0. See README.md.
 */
export default defineDestination<TheTradeDeskConfig, TtdItem>({
  id: 'the-trade-desk',
  version: '1.0.0',
  sdk: '^0.1.0',
  kind: 'destination',
  displayName: 'The Trade Desk',
  description: 'First-party data segments of a The Trade Desk advertiser (device ids and TTD cookies)',
  config: TheTradeDeskConfig,
  secrets: ['secretKey'],
  rateLimit: (config) => requestsPerSecond((config as TheTradeDeskConfig).requestsPerSecond ?? 5),
  http: {
    baseUrl: (config) => ((config as TheTradeDeskConfig).baseUrl ?? 'https://use-data.adsrvr.org').replace(/\/$/, ''),
    explain: (status, body) =>
      status === 403
        ? `The Trade Desk refused the request (403: ${(body as { Message?: string } | undefined)?.Message ?? ''}): check advertiserId and secretKey (the signature is made with it), and that the advertiser may upload first-party data`
        : undefined,
  },
  identifiers: ['device_id', 'cookie_id'],
  accepts: ['device_id', 'cookie_id'],
  purpose: 'ads',
  batch: { maxItems: TTD_MAX_ITEMS, maxBytes: TTD_MAX_BYTES },

  async check(ctx) {
    await post(ctx, []);
  },

  /** TTD creates a first-party segment when data first names it: the segment is named after the Plexus activation. */
  async ensureAudience(_ctx, audience) {
    return { externalId: audience.externalId ?? `plexus-${audience.activationId}` };
  },

  toItem: toTtdItem,

  write: (ctx, audience, { adds, removes }) =>
    writeAddsThenRemoves(
      adds,
      removes,
      (items) => send(ctx, audience.externalId, ctx.config.ttlMinutes ?? DEFAULT_TTL_MINUTES, items),
      (items) => send(ctx, audience.externalId, 0, items),
    ),
});
