import { createHmac } from 'node:crypto';
import {
  defineDestination,
  requestsPerSecond,
  sendInChunks,
  SystemError,
  verdictsForFailure,
  writeAddsThenRemoves,
  type ConnectorContext,
  type RequestReport,
  type Verdict,
} from '@plexus/sdk';
import { MetaCustomAudiencesConfig } from './config.js';
import { metaRow, META_SCHEMA, toMetaItem, type MetaItem } from './normalize.js';
import { metaHttpPolicy } from './policy.js';

export { MetaCustomAudiencesConfig } from './config.js';
export * from './normalize.js';
export * from './policy.js';

/** Meta takes at most 10,000 rows a request. */
export const META_MAX_ROWS = 10_000;
type Ctx = ConnectorContext<MetaCustomAudiencesConfig>;

/** The answer to `/users`, `DELETE /users` and `/usersreplace`. */
interface UsersResponse {
  audience_id?: string;
  session_id?: string;
  num_received?: number;
  num_invalid_entries?: number;
  invalid_entry_samples?: Record<string, string> | string[];
}

/** `appsecret_proof`: the hex HMAC-SHA256 of the token keyed with the app secret, for apps that require it. */
function proof(config: MetaCustomAudiencesConfig): Record<string, string> {
  return config.appSecret
    ? { appsecret_proof: createHmac('sha256', config.appSecret).update(config.accessToken).digest('hex') }
    : {};
}

const OK: Verdict = Object.freeze({ ok: true as const });

/** The refused values Meta sampled, with its reason when it gave one. */
function samplesOf(response: UsersResponse): Array<{ value: string; reason?: string }> {
  const samples = response.invalid_entry_samples;
  if (Array.isArray(samples)) return samples.map((value) => ({ value: String(value) }));
  return Object.entries(samples ?? {}).map(([value, reason]) => ({ value, reason: String(reason) }));
}

/**
 * Verdicts for the items of one answered request: items holding a value Meta sampled as invalid are aborted as
 * `invalid`; the others are ok (Meta samples at most some of the invalid rows, so the report keeps its count).
 */
function verdictsFor(items: MetaItem[], response: UsersResponse): Verdict[] {
  const refused = new Map(samplesOf(response).map((s) => [s.value, s.reason]));
  if (refused.size === 0) return items.map(() => OK);
  return items.map((item) => {
    const bad = metaRow(item).find((value) => value !== '' && refused.has(value));
    return bad === undefined
      ? { ok: true as const }
      : { abort: `Meta refused ${bad}: ${refused.get(bad) ?? 'invalid entry'}`, failureType: 'invalid' as const };
  });
}

function reportOf(operation: RequestReport['operation'], items: number, response: UsersResponse): RequestReport {
  return {
    operation,
    items,
    received: response.num_received,
    invalid: response.num_invalid_entries,
    invalidSamples: samplesOf(response).slice(0, 10),
    requestId: response.session_id,
  };
}

const payloadOf = (items: MetaItem[]) => ({ schema: [...META_SCHEMA], data: items.map(metaRow) });

/** Adds or removes items, 10,000 rows a request (see `sendInChunks`). */
function sendUsers(ctx: Ctx, audienceId: string, operation: 'add' | 'remove', items: MetaItem[]) {
  return sendInChunks(items, META_MAX_ROWS, async (chunk) => {
    const body = { payload: payloadOf(chunk), ...proof(ctx.config) };
    const { data } =
      operation === 'add'
        ? await ctx.http.post<UsersResponse>(`/${audienceId}/users`, body)
        : await ctx.http.delete<UsersResponse>(`/${audienceId}/users`, { data: body });
    return { verdicts: verdictsFor(chunk, data), requests: [reportOf(operation, chunk.length, data)] };
  });
}

/**
 * Meta Custom Audiences (customer list): multi-key rows of hashed identifiers added with `POST /{audience}/users`,
 * removed with `DELETE` on the same path, replaced through `usersreplace` sessions. See README.md.
 */
export default defineDestination<MetaCustomAudiencesConfig, MetaItem>({
  id: 'meta-custom-audiences',
  version: '1.0.0',
  sdk: '^0.1.0',
  kind: 'destination',
  displayName: 'Meta Custom Audiences',
  description: 'Customer-list custom audiences on Facebook and Instagram (Marketing API)',
  config: MetaCustomAudiencesConfig,
  secrets: ['accessToken', 'appSecret'],
  rateLimit: (config) => requestsPerSecond((config as MetaCustomAudiencesConfig).requestsPerSecond ?? 10),
  http: metaHttpPolicy,
  identifiers: ['email', 'email_sha256', 'phone', 'device_id', 'user_id'],
  accepts: ['email', 'email_sha256', 'phone', 'device_id', 'user_id'],
  purpose: 'ads',
  batch: { maxItems: META_MAX_ROWS },

  async check(ctx) {
    await ctx.http.get(`/act_${ctx.config.adAccountId}`, { params: { fields: 'id,name', ...proof(ctx.config) } });
  },

  async ensureAudience(ctx, audience) {
    const params = proof(ctx.config);
    if (audience.externalId) {
      const { data } = await ctx.http.get<{ id: string }>(`/${audience.externalId}`, {
        params: { fields: 'id,name', ...params },
      });
      return { externalId: data.id };
    }
    // The audience's description carries the Plexus activation's id, so a create whose answer was lost is found, not
    // repeated, and another activation on the same ad account (of this audience too) never finds it.
    const marker = `plexus-activation:${audience.activationId}`;
    let after: string | undefined;
    do {
      const { data } = await ctx.http.get<{
        data: Array<{ id: string; description?: string }>;
        paging?: { cursors?: { after?: string }; next?: string };
      }>(`/act_${ctx.config.adAccountId}/customaudiences`, {
        params: { fields: 'id,name,description', limit: 500, after, ...params },
      });
      const found = data.data.find((a) => a.description === marker);
      if (found) return { externalId: found.id };
      after = data.paging?.next ? data.paging.cursors?.after : undefined;
    } while (after);
    const { data } = await ctx.http.post<{ id: string }>(
      `/act_${ctx.config.adAccountId}/customaudiences`,
      {
        name: audience.name,
        subtype: 'CUSTOM',
        description: marker,
        customer_file_source: ctx.config.customerFileSource ?? 'USER_PROVIDED_ONLY',
        ...params,
      },
      { retries: 0 },
    );
    return { externalId: data.id };
  },

  toItem: toMetaItem,

  write: (ctx, audience, { adds, removes }) =>
    writeAddsThenRemoves(
      adds,
      removes,
      (items) => sendUsers(ctx, audience.externalId, 'add', items),
      (items) => sendUsers(ctx, audience.externalId, 'remove', items),
    ),

  async replace(ctx, audience, batch) {
    if (batch.items.length > META_MAX_ROWS) {
      throw new SystemError(`a replace batch holds at most ${META_MAX_ROWS} rows (got ${batch.items.length})`);
    }
    try {
      const { data } = await ctx.http.post<UsersResponse>(`/${audience.externalId}/usersreplace`, {
        payload: payloadOf(batch.items),
        session: {
          session_id: batch.sessionId,
          batch_seq: batch.batchSeq,
          last_batch_flag: batch.last,
          ...(batch.estimatedTotal === undefined ? {} : { estimated_num_total: batch.estimatedTotal }),
        },
        ...proof(ctx.config),
      });
      return { verdicts: verdictsFor(batch.items, data), requests: [reportOf('replace', batch.items.length, data)] };
    } catch (error) {
      return { verdicts: verdictsForFailure(error, batch.items.length) };
    }
  },
});
