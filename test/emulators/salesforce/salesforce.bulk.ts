import { gzipSync } from 'node:zlib';
import type { EmulatorRequest, Reply } from '../common/server.js';
import { SALESFORCE_SCHEMA, sfDateTime, type SalesforceObject } from './salesforce.data.js';
import type { QueryEngine, ResolvedQuery } from './salesforce.query.js';
import type { SalesforceObjectStore } from './salesforce.store.js';
import { parseSfDate } from './salesforce.store.js';

/** Bulk API 2.0 job states; a query job goes UploadComplete → InProgress → JobComplete (or Aborted / Failed). */
export type BulkJobState = 'UploadComplete' | 'InProgress' | 'Aborted' | 'JobComplete' | 'Failed';

const DELIMITERS = { COMMA: ',', TAB: '\t', SEMICOLON: ';', PIPE: '|', CARET: '^', BACKQUOTE: '`' } as const;
type Delimiter = keyof typeof DELIMITERS;

export interface BulkJob {
  id: string;
  operation: 'query' | 'queryAll';
  object: SalesforceObject;
  version: string;
  createdMs: number;
  state: BulkJobState;
  lineEnding: 'LF' | 'CRLF';
  columnDelimiter: Delimiter;
  query: ResolvedQuery;
  rows: Uint32Array;
  /** Status reads left before the job completes. */
  pollsLeft: number;
  errorMessage?: string;
}

export interface BulkOptions {
  /** Job status reads answered `InProgress` before `JobComplete` (default 1). */
  pollsBeforeComplete: number;
  /** Rows per results page when the request sets no `maxRecords` (default 50,000). */
  defaultPageSize: number;
}

type Fault = (status: number, errorCode: string, message: string) => Reply;

/**
 * Bulk API 2.0 query jobs: create (`POST …/jobs/query`), status, abort (`PATCH`), delete, and CSV results paged
 * by `locator` / `maxRecords` with the `Sforce-Locator` and `Sforce-NumberOfRecords` headers. The query is run
 * when the job is created (the snapshot the results are cut from). Answers undefined for other paths.
 */
export function bulkQueryJobs(
  engine: QueryEngine,
  stores: Record<SalesforceObject, SalesforceObjectStore>,
  options: BulkOptions,
  fault: Fault,
  jobs: Map<string, BulkJob>,
) {
  let seq = 0;

  const info = (job: BulkJob) => ({
    id: job.id,
    operation: job.operation,
    object: job.object,
    createdById: '005Dn000000PLXSAA4',
    createdDate: sfDateTime(job.createdMs),
    systemModstamp: sfDateTime(job.createdMs),
    state: job.state,
    concurrencyMode: 'Parallel',
    contentType: 'CSV',
    apiVersion: Number(job.version.slice(1)),
    jobType: 'V2Query',
    lineEnding: job.lineEnding,
    columnDelimiter: job.columnDelimiter,
    numberRecordsProcessed: job.state === 'JobComplete' ? job.rows.length : 0,
    retries: 0,
    totalProcessingTime: 0,
    ...(job.errorMessage ? { errorMessage: job.errorMessage } : {}),
  });

  function create(req: EmulatorRequest, version: string): Reply {
    if (!/application\/json/i.test(req.header('content-type') ?? ''))
      return fault(415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json');
    let body: Record<string, unknown>;
    try {
      body = req.json() as Record<string, unknown>;
    } catch {
      return fault(400, 'JSON_PARSER_ERROR', 'Unexpected character in the request body');
    }
    if (body?.operation !== 'query' && body?.operation !== 'queryAll')
      return fault(400, 'INVALIDJOB', "InvalidJob : operation must be 'query' or 'queryAll'");
    if (typeof body.query !== 'string' || body.query.trim() === '')
      return fault(400, 'INVALIDJOB', 'InvalidJob : the query is required');
    if (body.contentType !== undefined && body.contentType !== 'CSV')
      return fault(400, 'INVALIDJOB', 'InvalidJob : contentType must be CSV');
    const lineEnding = body.lineEnding ?? 'LF';
    if (lineEnding !== 'LF' && lineEnding !== 'CRLF')
      return fault(400, 'INVALIDJOB', 'InvalidJob : lineEnding must be LF or CRLF');
    const columnDelimiter = body.columnDelimiter ?? 'COMMA';
    if (typeof columnDelimiter !== 'string' || !(columnDelimiter in DELIMITERS))
      return fault(400, 'INVALIDJOB', `InvalidJob : unknown columnDelimiter ${JSON.stringify(columnDelimiter)}`);
    const resolved = engine.resolve(body.query);
    if ('errorCode' in resolved) return fault(resolved.status, resolved.errorCode, resolved.message);
    if (resolved.subqueries.length > 0)
      return fault(400, 'API_ERROR', 'Bulk API 2.0 does not support parent-to-child relationship queries');
    if (resolved.orderBy.length > 0 || resolved.limit !== undefined)
      return fault(400, 'API_ERROR', 'Bulk API 2.0 query jobs do not support ORDER BY or LIMIT');
    const selection = engine.select(resolved, body.operation === 'queryAll');
    const id = `750Dn${String(++seq).padStart(10, '0')}AAA`;
    const job: BulkJob = {
      id,
      operation: body.operation,
      object: resolved.object,
      version,
      createdMs: Date.now(),
      state: 'UploadComplete',
      lineEnding,
      columnDelimiter: columnDelimiter as Delimiter,
      query: resolved,
      rows: selection.rows,
      pollsLeft: options.pollsBeforeComplete,
    };
    jobs.set(id, job);
    return { status: 200, json: info(job) };
  }

  function csvValue(object: SalesforceObject, field: string, value: unknown): string {
    if (value === null || value === undefined) return '""';
    let text = typeof value === 'string' ? value : JSON.stringify(value);
    // Bulk results write datetimes in UTC with a Z, not the REST API's +0000.
    if (SALESFORCE_SCHEMA[object][field]?.type === 'datetime' && !Number.isNaN(parseSfDate(value)))
      text = new Date(parseSfDate(value)).toISOString();
    return `"${text.replace(/"/g, '""')}"`;
  }

  function results(req: EmulatorRequest, job: BulkJob, version: string): Reply {
    if (version !== job.version)
      return fault(409, 'API_ERROR', 'Use the same API version to get query results that you used to create the query');
    if (job.state !== 'JobComplete')
      return fault(400, 'API_ERROR', `Can't get results of a job in state ${job.state}; wait for JobComplete`);
    const maxParam = req.query.get('maxRecords');
    if (maxParam !== null && !/^[1-9]\d*$/.test(maxParam))
      return fault(400, 'INVALIDREQUEST', `maxRecords must be a positive integer, not '${maxParam}'`);
    const locator = req.query.get('locator');
    let offset = 0;
    if (locator !== null) {
      offset = Number(Buffer.from(locator, 'base64').toString('utf8'));
      if (!/^[A-Za-z0-9+/=]+$/.test(locator) || !Number.isInteger(offset) || offset <= 0 || offset >= job.rows.length)
        return fault(400, 'INVALIDREQUEST', `Invalid locator: ${locator}`);
    }
    const size = maxParam === null ? options.defaultPageSize : Number(maxParam);
    const end = Math.min(job.rows.length, offset + size);
    const eol = job.lineEnding === 'CRLF' ? '\r\n' : '\n';
    const delimiter = DELIMITERS[job.columnDelimiter];
    const fields = job.query.fields;
    const store = stores[job.object];
    const lines = [fields.map((f) => `"${f}"`).join(delimiter)];
    let corrupt = end > offset && req.takeFault('malformed-record') !== undefined;
    for (let p = offset; p < end; p++) {
      const record = store.table.get(job.rows[p]);
      const values = fields.map((f) => csvValue(job.object, f, record[f]));
      if (corrupt && p >= offset + Math.floor((end - offset) / 2)) {
        const stamp = fields.indexOf('SystemModstamp');
        if (stamp >= 0) values[stamp] = '"not-a-date"';
        req.noteFault(record.Id);
        corrupt = false;
      }
      lines.push(values.join(delimiter));
    }
    const next = end < job.rows.length ? Buffer.from(String(end)).toString('base64') : 'null';
    const csv = lines.join(eol) + eol;
    // Salesforce compresses bulk results for clients that accept gzip.
    const gzip = /\bgzip\b/i.test(req.header('accept-encoding') ?? '');
    return {
      status: 200,
      headers: {
        'content-type': 'text/csv',
        'Sforce-Locator': next,
        'Sforce-NumberOfRecords': String(end - offset),
        ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      },
      body: gzip ? gzipSync(csv) : csv,
    };
  }

  /** Serves `/services/data/vXX.X/jobs/query[/id[/results]]`; undefined for other paths. */
  return function route(req: EmulatorRequest): Reply | undefined {
    const match = /^\/services\/data\/(v\d{2,3}\.\d)\/jobs\/query(?:\/([^/]+)(\/results)?)?\/?$/.exec(req.path);
    if (!match) return undefined;
    const [, version, id, resultsPath] = match;
    if (Number(version.slice(1)) < 47) return fault(404, 'NOT_FOUND', 'The requested resource does not exist');
    if (id === undefined) {
      if (req.method === 'POST') return create(req, version);
      if (req.method === 'GET')
        return { status: 200, json: { done: true, records: [...jobs.values()].map(info), nextRecordsUrl: null } };
      return fault(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${req.method}' not allowed. Allowed are GET,POST`);
    }
    const job = jobs.get(id);
    if (!job) return fault(404, 'NOT_FOUND', 'The requested resource does not exist');
    if (resultsPath) {
      if (req.method !== 'GET') return fault(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${req.method}' not allowed`);
      return results(req, job, version);
    }
    if (req.method === 'GET') {
      if (job.state === 'UploadComplete' || job.state === 'InProgress') {
        if (job.pollsLeft > 0) {
          job.pollsLeft--;
          job.state = 'InProgress';
        } else job.state = 'JobComplete';
      }
      return { status: 200, json: info(job) };
    }
    if (req.method === 'PATCH') {
      const body = (() => {
        try {
          return req.json() as { state?: string };
        } catch {
          return undefined;
        }
      })();
      if (body?.state !== 'Aborted') return fault(400, 'INVALIDJOBSTATE', 'A query job can only be set to Aborted');
      if (job.state === 'JobComplete' || job.state === 'Failed')
        return fault(400, 'INVALIDJOBSTATE', `Can't abort a job in state ${job.state}`);
      job.state = 'Aborted';
      return { status: 200, json: info(job) };
    }
    if (req.method === 'DELETE') {
      if (job.state === 'InProgress') return fault(400, 'INVALIDJOBSTATE', "Can't delete a job in state InProgress");
      jobs.delete(id);
      return { status: 204 };
    }
    return fault(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${req.method}' not allowed`);
  };
}
