import {
  ConfigurationError,
  defineDestination,
  requestsPerSecond,
  sendInChunks,
  SystemError,
  writeAddsThenRemoves,
  type ConnectorContext,
  type RequestReport,
  type Verdict,
} from '@plexus/sdk';
import { SalesforceDestinationConfig } from './config.js';
import { fieldsOf, keyOf, toSalesforceItem, type SalesforceItem } from './items.js';
import { campaignGone, salesforceDestinationHttpPolicy, verdictForSaveErrors, type SaveResult } from './policy.js';

export { SalesforceDestinationConfig, instanceUrl } from './config.js';
export * from './items.js';
export * from './policy.js';

/** sObject Collections take at most 200 records a request. */
export const COLLECTION_LIMIT = 200;

type Ctx = ConnectorContext<SalesforceDestinationConfig>;
type Row = Record<string, unknown> & { Id: string };

const api = (ctx: Ctx) => `/services/data/${ctx.config.apiVersion}`;
const soqlString = (value: string) => `'${value.replace(/['\\]/g, '\\$&')}'`;
const personField = (config: SalesforceDestinationConfig) => (config.object === 'Contact' ? 'ContactId' : 'LeadId');

/** A REST query to its end (following `nextRecordsUrl`). */
async function query(ctx: Ctx, soql: string): Promise<Row[]> {
  const rows: Row[] = [];
  let url = `${api(ctx)}/query`;
  let params: Record<string, string> | undefined = { q: soql };
  for (;;) {
    const { data } = await ctx.http.get<{ done?: boolean; nextRecordsUrl?: string; records?: Row[] }>(url, { params });
    rows.push(...(data.records ?? []));
    if (data.done !== false || !data.nextRecordsUrl) return rows;
    url = data.nextRecordsUrl;
    params = undefined;
  }
}

/** Sends one collection request and checks it answered one SaveResult per record. */
async function collection(
  ctx: Ctx,
  method: 'post' | 'patch',
  path: string,
  records: Array<Record<string, unknown>>,
): Promise<SaveResult[]> {
  const { data } = await ctx.http[method]<SaveResult[]>(`${api(ctx)}/composite/sobjects${path}`, {
    allOrNone: false,
    records,
  });
  if (!Array.isArray(data) || data.length !== records.length) {
    throw new SystemError(
      `Salesforce answered ${Array.isArray(data) ? data.length : 'no'} results for ${records.length} records`,
    );
  }
  return data;
}

function report(
  operation: 'add' | 'remove',
  items: SalesforceItem[],
  verdicts: Verdict[],
  ids: Array<string | undefined>,
): RequestReport {
  const invalid = verdicts.flatMap((v, i) => ('abort' in v && v.failureType === 'invalid' ? [i] : []));
  return {
    operation,
    items: items.length,
    received: verdicts.filter((v) => 'ok' in v).length + invalid.length,
    invalid: invalid.length,
    invalidSamples: invalid.slice(0, 10).map((i) => ({
      value: ids[i] ?? `profile ${items[i].profileId}`,
      reason: (verdicts[i] as { abort: string }).abort,
    })),
  };
}

/**
 * Adds ≤ 200 people to the campaign: mapped traits written to their records (updated by id, or upserted on the
 * external id field — created when missing), then one CampaignMember each; "Already a campaign member" is success.
 */
async function addChunk(ctx: Ctx, campaignId: string, items: SalesforceItem[]) {
  const config = ctx.config;
  const verdicts: Array<Verdict | undefined> = items.map(() => undefined);
  const ids: Array<string | undefined> = items.map(() => undefined);
  const byId: number[] = [];
  const byExternalId: number[] = [];
  items.forEach((item, i) => {
    const key = keyOf(item, config);
    if (!key) {
      verdicts[i] = {
        abort: `no ${config.object} id synced from Salesforce${config.externalIdField ? ' and no user_id' : ' (set externalIdField to upsert people by their user_id)'}`,
        failureType: 'invalid',
      };
    } else if ('id' in key) {
      ids[i] = key.id;
      byId.push(i);
    } else byExternalId.push(i);
  });
  const fail = (i: number, result: SaveResult) => (verdicts[i] = verdictForSaveErrors(result.errors));

  const updates = byId.filter((i) => Object.keys(fieldsOf(items[i], config)).length > 0);
  if (updates.length > 0) {
    const results = await collection(
      ctx,
      'patch',
      '',
      updates.map((i) => ({ attributes: { type: config.object }, id: ids[i], ...fieldsOf(items[i], config) })),
    );
    results.forEach((r, n) => (r.success ? undefined : fail(updates[n], r)));
  }
  if (byExternalId.length > 0) {
    const field = config.externalIdField!;
    const results = await collection(
      ctx,
      'patch',
      `/${config.object}/${field}`,
      byExternalId.map((i) => ({
        attributes: { type: config.object },
        ...fieldsOf(items[i], config),
        [field]: items[i].userId,
      })),
    );
    results.forEach((r, n) => (r.success && r.id ? (ids[byExternalId[n]] = r.id) : fail(byExternalId[n], r)));
  }
  const joining = items.flatMap((_, i) => (verdicts[i] === undefined && ids[i] !== undefined ? [i] : []));
  if (joining.length > 0) {
    const results = await collection(
      ctx,
      'post',
      '',
      joining.map((i) => ({
        attributes: { type: 'CampaignMember' },
        CampaignId: campaignId,
        [personField(config)]: ids[i],
        ...(config.memberStatus ? { Status: config.memberStatus } : {}),
      })),
    );
    results.forEach((r, n) => {
      const already = !r.success && r.errors?.some((e) => e.statusCode === 'DUPLICATE_VALUE');
      if (!r.success && !already) fail(joining[n], r);
    });
  }
  const done = verdicts.map((v) => v ?? { ok: true as const });
  return { verdicts: done, requests: [report('add', items, done, ids)] };
}

/** Removes ≤ 200 people from the campaign (their CampaignMember rows); people not in it are already removed. */
async function removeChunk(ctx: Ctx, campaignId: string, items: SalesforceItem[]) {
  const config = ctx.config;
  const verdicts: Verdict[] = items.map(() => ({ ok: true as const }));
  const ids: Array<string | undefined> = items.map((item) => {
    const key = keyOf(item, config);
    return key && 'id' in key ? key.id : undefined;
  });
  const external = items.flatMap((item, i) => {
    const key = keyOf(item, config);
    return key && 'externalId' in key ? [{ i, value: key.externalId }] : [];
  });
  if (external.length > 0) {
    const field = config.externalIdField!;
    const rows = await query(
      ctx,
      `SELECT Id, ${field} FROM ${config.object} WHERE ${field} IN (${external.map((e) => soqlString(e.value)).join(', ')})`,
    );
    const found = new Map(rows.map((r) => [String(r[field]).toLowerCase(), r.Id]));
    for (const { i, value } of external) ids[i] = found.get(value.toLowerCase());
  }
  const people = [...new Set(ids.filter((id): id is string => id !== undefined))];
  if (people.length === 0) return { verdicts, requests: [report('remove', items, verdicts, ids)] };
  const field = personField(config);
  const members = await query(
    ctx,
    `SELECT Id, ${field} FROM CampaignMember WHERE CampaignId = ${soqlString(campaignId)} AND ${field} IN (${people.map(soqlString).join(', ')})`,
  );
  if (members.length > 0) {
    const { data } = await ctx.http.delete<SaveResult[]>(`${api(ctx)}/composite/sobjects`, {
      params: { ids: members.map((m) => m.Id).join(','), allOrNone: false },
    });
    if (!Array.isArray(data) || data.length !== members.length)
      throw new SystemError(
        `Salesforce answered ${Array.isArray(data) ? data.length : 'no'} results for ${members.length} deletes`,
      );
    data.forEach((result, n) => {
      const gone = result.errors?.some((e) => e.statusCode === 'ENTITY_IS_DELETED');
      if (result.success || gone) return;
      const person = members[n][field];
      ids.forEach((id, i) => {
        if (id === person) verdicts[i] = verdictForSaveErrors(result.errors);
      });
    });
  }
  return { verdicts, requests: [report('remove', items, verdicts, ids)] };
}

/**
 * The campaign name Plexus gives an activation's audience, found again by it: the audience's name, shortened so the
 * activation's id always fits whole in Salesforce's 80 characters.
 */
export const campaignName = (audience: { name: string; activationId: string }) => {
  const suffix = ` (Plexus ${audience.activationId})`;
  return `${audience.name.slice(0, Math.max(0, 80 - suffix.length))}${suffix}`;
};

/**
 * Salesforce as a destination: audience membership as Campaign Members of one Campaign per activation, and chosen
 * traits written to Contact or Lead fields through sObject Collections (≤ 200 records a request, `allOrNone:
 * false`, per-record errors as per-item verdicts). See README.md.
 */
export default defineDestination<SalesforceDestinationConfig, SalesforceItem>({
  id: 'salesforce-destination',
  version: '0.1.0',
  sdk: '^0.1.0',
  kind: 'destination',
  displayName: 'Salesforce (write-back)',
  description: 'Audiences as Salesforce Campaign Members, profile traits written to Contact or Lead fields',
  config: SalesforceDestinationConfig,
  secrets: ['accessToken'],
  addresses: ['myDomain'],
  rateLimit: (config) => requestsPerSecond((config as SalesforceDestinationConfig).requestsPerSecond ?? 10),
  http: salesforceDestinationHttpPolicy,
  identifiers: ['external_id', 'user_id'],
  accepts: ['external_id', 'user_id'],
  purpose: 'personalization',
  batch: { maxItems: COLLECTION_LIMIT },

  /** The object's fields must hold every mapped field, writable, and the external id field as an External ID. */
  async check(ctx) {
    const config = ctx.config;
    const { data } = await ctx.http.get<{
      fields?: Array<{ name: string; updateable?: boolean; externalId?: boolean }>;
    }>(`${api(ctx)}/sobjects/${config.object}/describe`);
    const fields = new Map((data.fields ?? []).map((f) => [f.name.toLowerCase(), f]));
    const problems: string[] = [];
    for (const [trait, name] of Object.entries(config.fields ?? {})) {
      const field = fields.get(name.toLowerCase());
      if (!field) problems.push(`fields.${trait}: ${config.object} has no field ${name}`);
      else if (!field.updateable)
        problems.push(`fields.${trait}: ${config.object}.${name} is not writable by the integration user`);
    }
    if (config.externalIdField) {
      const field = fields.get(config.externalIdField.toLowerCase());
      if (!field?.externalId)
        problems.push(`externalIdField: ${config.object}.${config.externalIdField} is not an External ID field`);
    }
    if (problems.length > 0) throw new ConfigurationError(problems.join('; '));
  },

  async ensureAudience(ctx, audience) {
    if (audience.externalId) {
      try {
        const { data } = await ctx.http.get<{ Id: string }>(`${api(ctx)}/sobjects/Campaign/${audience.externalId}`);
        return { externalId: data.Id };
      } catch (error) {
        throw campaignGone(audience.externalId, error);
      }
    }
    const name = campaignName(audience);
    const [found] = await query(ctx, `SELECT Id FROM Campaign WHERE Name = ${soqlString(name)}`);
    if (found) return { externalId: found.Id };
    const { data } = await ctx.http.post<{ id: string }>(
      `${api(ctx)}/sobjects/Campaign`,
      {
        Name: name,
        IsActive: true,
        Status: 'In Progress',
        Description: `Members of the Plexus audience ${audience.id} (activation ${audience.activationId})`,
      },
      { retries: 0 },
    );
    return { externalId: data.id };
  },

  toItem: toSalesforceItem,

  write: (ctx, audience, { adds, removes }) =>
    writeAddsThenRemoves(
      adds,
      removes,
      (items) => sendInChunks(items, COLLECTION_LIMIT, (chunk) => addChunk(ctx, audience.externalId, chunk)),
      (items) => sendInChunks(items, COLLECTION_LIMIT, (chunk) => removeChunk(ctx, audience.externalId, chunk)),
    ),
});
