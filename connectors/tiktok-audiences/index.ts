import {
  defineDestination,
  requestsPerSecond,
  sendInChunks,
  SystemError,
  writeAddsThenRemoves,
  type ConnectorContext,
  type RequestReport,
  type Verdict,
} from '@plexus/sdk';
import { TikTokAudiencesConfig } from './config.js';
import { TIKTOK_SCHEMA, toTikTokItem, type TikTokItem } from './normalize.js';
import { INVALID_PARAMETER, tiktokHttpPolicy, type TikTokAnswer } from './policy.js';

export { TikTokAudiencesConfig } from './config.js';
export * from './normalize.js';
export * from './policy.js';

export const TIKTOK_MAX_USERS = 10_000;
type Ctx = ConnectorContext<TikTokAudiencesConfig>;
type Action = 'add' | 'delete';

/**
 * One request. TikTok validates a request whole and names the first bad user (`batch_data[i]…`) in a 40002: that
 * user is refused as `invalid` and the request is sent again without it (bounded by the batch size).
 */
async function sendBatch(ctx: Ctx, audienceId: string, action: Action, items: TikTokItem[], requests: RequestReport[]) {
  const verdicts: Verdict[] = new Array<Verdict>(items.length);
  let pending = items.map((_, i) => i);
  while (pending.length > 0) {
    const { data } = await ctx.http.post<TikTokAnswer>('/open_api/v1.3/segment/mapping/', {
      advertiser_ids: [ctx.config.advertiserId],
      action,
      id_schema: [...TIKTOK_SCHEMA],
      batch_data: pending.map((i) =>
        TIKTOK_SCHEMA.map((type) => {
          const id = items[i][type];
          return id ? { id, audience_ids: [audienceId] } : {};
        }),
      ),
    });
    const operation = action === 'add' ? 'add' : 'remove';
    if (data.code === 0) {
      for (const i of pending) verdicts[i] = { ok: true };
      requests.push({ operation, items: pending.length, received: pending.length, requestId: data.request_id });
      return verdicts;
    }
    const row = data.code === INVALID_PARAMETER ? /^batch_data\[(\d+)\]/.exec(data.message ?? '')?.[1] : undefined;
    if (row === undefined || Number(row) >= pending.length) {
      throw new SystemError(`TikTok refused the request (${data.code}): ${data.message ?? ''}`);
    }
    const refused = pending[Number(row)];
    verdicts[refused] = { abort: `TikTok refused the user: ${data.message ?? ''}`, failureType: 'invalid' };
    requests.push({
      operation,
      items: 1,
      received: 0,
      invalid: 1,
      invalidSamples: [{ value: Object.values(items[refused])[0] ?? '', reason: data.message }],
      requestId: data.request_id,
    });
    pending = pending.filter((i) => i !== refused);
  }
  return verdicts;
}

function send(ctx: Ctx, audienceId: string, action: Action, items: TikTokItem[]) {
  return sendInChunks(items, TIKTOK_MAX_USERS, async (chunk) => {
    const requests: RequestReport[] = [];
    return { verdicts: await sendBatch(ctx, audienceId, action, chunk, requests), requests };
  });
}

/**
 * TikTok audiences (Marketing API `segment/mapping`): hashed emails, phones and mobile advertising ids added to and
 * removed from custom audiences. See README.md.
 */
export default defineDestination<TikTokAudiencesConfig, TikTokItem>({
  id: 'tiktok-audiences',
  version: '1.0.0',
  sdk: '^0.1.0',
  kind: 'destination',
  displayName: 'TikTok Audiences',
  description: 'Custom audiences of a TikTok for Business advertiser (segment/mapping)',
  config: TikTokAudiencesConfig,
  secrets: ['accessToken'],
  rateLimit: (config) => requestsPerSecond((config as TikTokAudiencesConfig).requestsPerSecond ?? 5),
  http: tiktokHttpPolicy,
  identifiers: ['email', 'email_sha256', 'phone', 'device_id'],
  accepts: ['email', 'email_sha256', 'phone', 'device_id'],
  purpose: 'ads',
  batch: { maxItems: TIKTOK_MAX_USERS },

  async check(ctx) {
    await ctx.http.get('/open_api/v1.3/advertiser/info/', {
      params: { advertiser_ids: JSON.stringify([ctx.config.advertiserId]) },
    });
  },

  toItem: toTikTokItem,

  write: (ctx, audience, { adds, removes }) =>
    writeAddsThenRemoves(
      adds,
      removes,
      (items) => send(ctx, audience.externalId, 'add', items),
      (items) => send(ctx, audience.externalId, 'delete', items),
    ),
});
