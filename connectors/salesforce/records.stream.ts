import {
  ConnectorError,
  defineStream,
  SystemError,
  TransientError,
  type ConnectorContext,
  type Identifier,
  type ProfileRecord,
} from '@plexus/sdk';
import { awaitQueryJob, createQueryJob, resultsPage, type BulkPosition } from './bulk.js';
import type { SalesforceConfig } from './config.js';
import { parseSalesforceDate, type SalesforceRecord } from './mapping.js';
import { explainSalesforceError } from './policy.js';

/**
 * Where a sync of one object stands: every row with `SystemModstamp <= since` is read. Rows of the lookback
 * window already read are remembered in `seen` (Id → SystemModstamp in ms) so a re-read skips them; `floor`
 * raises the window's start when `seen` had to be trimmed. `initial` is set while the very first load runs
 * (it uses `query` or a Bulk API 2.0 job; later runs use `queryAll` to see deleted rows too); `bulk` is the
 * position in that job's results.
 */
export interface SalesforceCheckpoint {
  since?: number;
  seen: Record<string, number>;
  floor?: number;
  initial?: boolean;
  bulk?: BulkPosition;
}

/** Rows of the lookback window remembered at most (a bulk update can stamp many rows within minutes). */
export const MAX_SEEN = 5_000;

type Ctx = ConnectorContext<SalesforceConfig>;
type Batch = { records: SalesforceRecord[]; deletedIds?: string[]; checkpoint: SalesforceCheckpoint };

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

/** The `since` / `seen` / `floor` bookkeeping of a read, shared by REST pages and bulk results. */
class Progress {
  since?: number;
  floor?: number;
  readonly seen: Map<string, number>;

  constructor(
    checkpoint: SalesforceCheckpoint | undefined,
    private readonly lookbackMs: number,
  ) {
    this.since = checkpoint?.since;
    this.floor = checkpoint?.floor;
    this.seen = new Map(Object.entries(checkpoint?.seen ?? {}));
  }

  /** Notes a row; false when it was already read with this SystemModstamp (a lookback re-read). */
  observe(row: SalesforceRecord): boolean {
    const at = parseSalesforceDate(row?.SystemModstamp);
    if (Number.isNaN(at) || typeof row?.Id !== 'string') return true;
    if (this.seen.get(row.Id) === at) return false;
    this.seen.set(row.Id, at);
    this.since = this.since === undefined ? at : Math.max(this.since, at);
    return true;
  }

  checkpoint(extra: Pick<SalesforceCheckpoint, 'initial' | 'bulk'> = {}): SalesforceCheckpoint {
    const start =
      this.since === undefined
        ? undefined
        : windowStart({ since: this.since, seen: {}, floor: this.floor }, this.lookbackMs);
    const trimmed = trimSeen(this.seen, start);
    if (trimmed !== undefined) this.floor = Math.max(this.floor ?? trimmed, trimmed);
    return {
      ...(this.since === undefined ? {} : { since: this.since }),
      seen: Object.fromEntries(this.seen),
      ...(this.floor === undefined ? {} : { floor: this.floor }),
      ...extra,
    };
  }
}

/** What a stream of one sObject declares; the read loop (REST pages or a bulk job) is shared. */
export interface SoqlStreamSpec {
  name: string;
  object: string;
  /** The select list: field names, and for REST-only streams parent-to-child subqueries. */
  select(config: SalesforceConfig): string[];
  /** True when a first load may run as a Bulk API 2.0 job (Bulk 2.0 takes no subqueries). */
  bulk: boolean;
  /** False when the configuration turns the stream off: it then reads nothing. */
  enabled?(config: SalesforceConfig): boolean;
  /** Fields whose CSV text is a boolean or a number (bulk results are all text). */
  booleanFields?: readonly string[];
  numberFields?: readonly string[];
  deletes: 'none' | 'deleted-ids';
  /**
   * Runs once per batch before it is handed over, e.g. to attach facts fetched for the batch's rows; it may add
   * records (rows read that only carry such facts).
   */
  enrich?(ctx: Ctx, records: SalesforceRecord[], deleted: SalesforceRecord[]): Promise<void>;
  toProfile(record: SalesforceRecord, ctx: Ctx): ProfileRecord | ProfileRecord[] | null;
  deletedIdentifier?(id: string, ctx: Ctx): Identifier;
}

function soqlFor(spec: SoqlStreamSpec, config: SalesforceConfig, start: number | undefined, ordered: boolean): string {
  const where = start === undefined ? '' : ` WHERE SystemModstamp >= ${soqlDateTime(start)}`;
  const order = ordered ? ' ORDER BY SystemModstamp ASC, Id ASC' : '';
  return `SELECT ${spec.select(config).join(', ')} FROM ${spec.object}${where}${order}`;
}

/** A CSV row as a record: empty → null, declared booleans and numbers typed. */
function typedRow(spec: SoqlStreamSpec, row: Record<string, string>): SalesforceRecord {
  const out: Record<string, unknown> = {};
  for (const [field, text] of Object.entries(row)) out[field] = text === '' ? null : text;
  for (const field of spec.booleanFields ?? []) if (typeof out[field] === 'string') out[field] = out[field] === 'true';
  for (const field of spec.numberFields ?? []) {
    if (typeof out[field] === 'string') {
      const n = Number(out[field]);
      if (!Number.isNaN(n)) out[field] = n;
    }
  }
  return out as SalesforceRecord;
}

/** A CSV row that could not be read: handed over so mapping quarantines it with the reason. */
const UNREADABLE = Symbol('unreadable CSV row');
type Unreadable = SalesforceRecord & { [UNREADABLE]: string };

/** A results stream that breaks off (connection dropped, compressed body cut) is read again from the checkpoint. */
async function* withBrokenPagesTransient<T>(rows: AsyncIterable<T>, object: string): AsyncGenerator<T> {
  try {
    yield* rows;
  } catch (error) {
    if (error instanceof ConnectorError) throw error;
    throw new TransientError(`a Bulk API results page of ${object} broke off: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * A first load through a Bulk API 2.0 query job: create (or resume) the job, wait for it, then stream its CSV
 * pages, handing over `batchSize` rows at a time with the position in the results as checkpoint.
 */
async function* readBulk(
  ctx: Ctx,
  spec: SoqlStreamSpec,
  progress: Progress,
  resume: BulkPosition | undefined,
): AsyncGenerator<Batch> {
  const config = ctx.config;
  let position = resume;
  if (position) {
    const state = await awaitQueryJob(ctx, position.jobId);
    if (!state.ok) {
      ctx.log.info(
        `Bulk API query job ${position.jobId} of ${spec.object} is gone (${state.reason}); starting a new one`,
      );
      position = undefined;
    }
  }
  if (!position) {
    const jobId = await createQueryJob(ctx, soqlFor(spec, config, undefined, false));
    const state = await awaitQueryJob(ctx, jobId);
    if (!state.ok)
      throw new TransientError(`Salesforce Bulk API query job ${jobId} of ${spec.object}: ${state.reason}`);
    position = { jobId, skip: 0 };
  }
  const { jobId } = position;
  let locator = position.locator;
  let skip = position.skip;
  for (;;) {
    const page = await resultsPage(ctx, jobId, locator);
    let index = 0;
    let records: SalesforceRecord[] = [];
    for await (const { line, row, error } of withBrokenPagesTransient(page.rows, spec.object)) {
      index++;
      if (index <= skip) continue;
      const record = row ? typedRow(spec, row) : ({ [UNREADABLE]: `CSV line ${line}: ${error}` } as Unreadable);
      progress.observe(record);
      records.push(record);
      if (records.length >= config.batchSize && index < page.count) {
        yield { records, checkpoint: progress.checkpoint({ initial: true, bulk: { jobId, locator, skip: index } }) };
        records = [];
      }
    }
    if (index !== page.count) {
      throw new TransientError(
        `a Bulk API results page of ${spec.object} ended after ${index} of ${page.count} rows (Sforce-NumberOfRecords)`,
      );
    }
    if (page.next === undefined) {
      // The job is left to Salesforce's 7-day clean-up: a checkpoint written before a crash may still point at it.
      yield { records, checkpoint: progress.checkpoint() };
      return;
    }
    yield { records, checkpoint: progress.checkpoint({ initial: true, bulk: { jobId, locator: page.next, skip: 0 } }) };
    if (page.next === locator) throw new SystemError(`Salesforce returned locator ${locator} as its own next page`);
    locator = page.next;
    skip = 0;
  }
}

/** REST `query` (first load) or `queryAll` (later: deleted rows too) from the lookback window, ordered by SystemModstamp. */
async function* readRest(
  ctx: Ctx,
  spec: SoqlStreamSpec,
  progress: Progress,
  initial: boolean,
  start: number | undefined,
): AsyncGenerator<Batch & { deletedRows: SalesforceRecord[] }> {
  const config = ctx.config;
  let url = `/services/data/${config.apiVersion}/${initial ? 'query' : 'queryAll'}`;
  let params: Record<string, string> | undefined = { q: soqlFor(spec, config, start, true) };
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
      throw new SystemError(`Salesforce ${spec.object} query answered without records`);
    const records: SalesforceRecord[] = [];
    const deletedRows: SalesforceRecord[] = [];
    for (const row of answer.records) {
      if (!progress.observe(row)) continue;
      // Only queryAll returns deleted rows; a first load has nothing to delete.
      if (row?.IsDeleted === true) {
        if (!initial) deletedRows.push(row);
      } else records.push(row);
    }
    const done = answer.done !== false || !answer.nextRecordsUrl;
    yield {
      records,
      deletedRows,
      ...(deletedRows.length > 0 && spec.deletes === 'deleted-ids' ? { deletedIds: deletedRows.map((r) => r.Id) } : {}),
      checkpoint: progress.checkpoint(initial && !done ? { initial: true } : {}),
    };
    if (done) return;
    if (answer.nextRecordsUrl === url) throw new SystemError(`Salesforce returned ${url} as its own next page`);
    url = answer.nextRecordsUrl!;
    params = undefined;
  }
}

/**
 * One stream per object: a first load through a Bulk API 2.0 job (when the object allows it and
 * `fullSyncMethod` is `bulk`) or REST `query`; later runs read with REST `queryAll` from the lookback window
 * before the checkpoint, ordered by `SystemModstamp, Id`, skipping rows already read with the same stamp.
 */
export function soqlStream(spec: SoqlStreamSpec) {
  return defineStream<SalesforceConfig, SalesforceRecord, SalesforceCheckpoint>({
    name: spec.name,
    primaryKey: ['Id'],
    mode: 'incremental',
    cursorField: 'SystemModstamp',
    deletes: spec.deletes,
    async *read(ctx: Ctx, checkpoint) {
      const config = ctx.config;
      if (spec.enabled && !spec.enabled(config)) return;
      const lookbackMs = config.lookbackMinutes * 60_000;
      const initial = checkpoint === undefined || checkpoint.initial === true;
      const progress = new Progress(checkpoint, lookbackMs);
      if (initial && spec.bulk && config.fullSyncMethod === 'bulk') {
        for await (const batch of readBulk(ctx, spec, progress, checkpoint?.bulk)) {
          await spec.enrich?.(ctx, batch.records, []);
          yield batch;
        }
        return;
      }
      const start = checkpoint === undefined ? undefined : windowStart(checkpoint, lookbackMs);
      for await (const { deletedRows, ...batch } of readRest(ctx, spec, progress, initial, start)) {
        await spec.enrich?.(ctx, batch.records, deletedRows);
        yield batch;
      }
    },
    toProfile(record, ctx) {
      const unreadable = (record as Partial<Unreadable>)[UNREADABLE];
      if (unreadable !== undefined) throw new Error(unreadable);
      return spec.toProfile(record, ctx);
    },
    ...(spec.deletedIdentifier ? { deletedIdentifier: spec.deletedIdentifier } : {}),
  });
}
