import { defineStream, SystemError, type ConnectorContext } from '@plexus/sdk';
import type { SalesforceConfig } from './config.js';
import {
  mapSalesforceRecord,
  OBJECT_FIELDS,
  parseSalesforceDate,
  recordExternalId,
  type SalesforceObject,
  type SalesforceRecord,
} from './mapping.js';
import { explainSalesforceError } from './policy.js';

/**
 * Where a Contact or Lead sync stands: every row with `SystemModstamp <= since` is read. Rows of the lookback
 * window already read are remembered in `seen` (Id → SystemModstamp in ms) so a re-read skips them; `floor`
 * raises the window's start when `seen` had to be trimmed. `initial` is set while the very first load runs
 * (it uses `query`; later runs use `queryAll` to see deleted rows too).
 */
export interface SalesforceCheckpoint {
  since?: number;
  seen: Record<string, number>;
  floor?: number;
  initial?: boolean;
}

/** Rows of the lookback window remembered at most (a bulk update can stamp many rows within minutes). */
export const MAX_SEEN = 5_000;

type Ctx = ConnectorContext<SalesforceConfig>;

interface QueryAnswer {
  totalSize?: number;
  done?: boolean;
  nextRecordsUrl?: string;
  records?: SalesforceRecord[];
}

const floorToSecond = (ms: number): number => ms - (((ms % 1000) + 1000) % 1000);

/** SOQL datetime literal (unquoted, whole seconds, UTC). */
export function soqlDateTime(ms: number): string {
  return new Date(floorToSecond(ms)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The first instant a run re-reads: the lookback before `since`, never below `floor`, in whole seconds. */
export function windowStart(checkpoint: SalesforceCheckpoint, lookbackMs: number): number | undefined {
  if (checkpoint.since === undefined) return undefined;
  return floorToSecond(Math.max(checkpoint.since - lookbackMs, checkpoint.floor ?? -Infinity));
}

/** Forgets rows before `start`, and the oldest whole seconds beyond MAX_SEEN rows; returns the new floor. */
export function trimSeen(seen: Map<string, number>, start: number | undefined): number | undefined {
  if (start !== undefined) for (const [id, at] of seen) if (at < start) seen.delete(id);
  if (seen.size <= MAX_SEEN) return undefined;
  const seconds = [...seen.values()].map(floorToSecond).sort((a, b) => a - b);
  const cut = seconds[seconds.length - MAX_SEEN];
  for (const [id, at] of seen) if (at < cut) seen.delete(id);
  return cut;
}

/** Reads the org's `Sforce-Limit-Info: api-usage=n/m` and warns when nine tenths are spent. */
function watchApiUsage(ctx: Ctx, headers: Record<string, unknown>): void {
  const info = headers['sforce-limit-info'];
  const match = typeof info === 'string' ? /api-usage=(\d+)\/(\d+)/.exec(info) : null;
  if (!match) return;
  const [used, limit] = [Number(match[1]), Number(match[2])];
  if (limit > 0 && used >= limit * 0.9 && used % 100 === 0) {
    ctx.log.warn(`Salesforce API requests used today: ${used} of ${limit}`);
  }
}

function soqlFor(object: SalesforceObject, config: SalesforceConfig, start: number | undefined): string {
  const extra = object === 'Contact' ? config.contactUserIdField : config.leadUserIdField;
  const fields = [...OBJECT_FIELDS[object]];
  if (extra && !fields.includes(extra)) fields.push(extra);
  const where = start === undefined ? '' : ` WHERE SystemModstamp >= ${soqlDateTime(start)}`;
  return `SELECT ${fields.join(', ')} FROM ${object}${where} ORDER BY SystemModstamp ASC, Id ASC`;
}

/**
 * One stream per object: a SOQL query ordered by `SystemModstamp, Id` followed through `nextRecordsUrl`, from
 * the lookback window before the last checkpoint, skipping rows already read with the same SystemModstamp.
 */
export function salesforceStream(name: string, object: SalesforceObject) {
  return defineStream<SalesforceConfig, SalesforceRecord, SalesforceCheckpoint>({
    name,
    primaryKey: ['Id'],
    mode: 'incremental',
    cursorField: 'SystemModstamp',
    deletes: 'deleted-ids',
    async *read(ctx: Ctx, checkpoint) {
      const config = ctx.config;
      const lookbackMs = config.lookbackMinutes * 60_000;
      const initial = checkpoint === undefined || checkpoint.initial === true;
      let since = checkpoint?.since;
      let floor = checkpoint?.floor;
      const seen = new Map(Object.entries(checkpoint?.seen ?? {}));
      const start = checkpoint === undefined ? undefined : windowStart(checkpoint, lookbackMs);
      let url = `/services/data/${config.apiVersion}/${initial ? 'query' : 'queryAll'}`;
      let params: Record<string, string> | undefined = { q: soqlFor(object, config, start) };
      for (;;) {
        let answer: QueryAnswer;
        try {
          const response = await ctx.http.get<QueryAnswer>(url, {
            params,
            headers: { 'Sforce-Query-Options': `batchSize=${config.batchSize}` },
          });
          watchApiUsage(ctx, response.headers);
          answer = response.data;
        } catch (error) {
          throw explainSalesforceError(error);
        }
        if (!Array.isArray(answer.records))
          throw new SystemError(`Salesforce ${object} query answered without records`);
        const records: SalesforceRecord[] = [];
        const deletedIds: string[] = [];
        for (const row of answer.records) {
          const at = parseSalesforceDate(row?.SystemModstamp);
          const known = !Number.isNaN(at) && seen.get(row.Id) === at;
          if (known) continue;
          if (row?.IsDeleted === true) {
            // Only queryAll returns deleted rows; a first load has nothing to delete.
            if (!initial) deletedIds.push(row.Id);
          } else records.push(row);
          if (!Number.isNaN(at) && typeof row.Id === 'string') {
            seen.set(row.Id, at);
            since = since === undefined ? at : Math.max(since, at);
          }
        }
        const trimmedFloor = trimSeen(
          seen,
          since === undefined ? undefined : windowStart({ since, seen: {}, floor }, lookbackMs),
        );
        if (trimmedFloor !== undefined) floor = Math.max(floor ?? trimmedFloor, trimmedFloor);
        const done = answer.done !== false || !answer.nextRecordsUrl;
        const next: SalesforceCheckpoint = {
          ...(since === undefined ? {} : { since }),
          seen: Object.fromEntries(seen),
          ...(floor === undefined ? {} : { floor }),
          ...(initial && !done ? { initial: true } : {}),
        };
        yield { records, ...(deletedIds.length > 0 ? { deletedIds } : {}), checkpoint: next };
        if (done) return;
        if (answer.nextRecordsUrl === url) throw new SystemError(`Salesforce returned ${url} as its own next page`);
        url = answer.nextRecordsUrl!;
        params = undefined;
      }
    },
    toProfile: (record, ctx) =>
      mapSalesforceRecord(object, record, {
        sourceId: ctx.connectionId,
        userIdField: object === 'Contact' ? ctx.config.contactUserIdField : ctx.config.leadUserIdField,
        defaultCountry: ctx.config.defaultCountry,
      }),
    deletedIdentifier: (id, ctx) => recordExternalId(ctx.connectionId, object, id),
  });
}
