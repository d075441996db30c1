import type { Readable } from 'node:stream';
import { abortableSleep, ConnectorError, readCsvRows, TransientError, type ConnectorContext } from '@plexus/sdk';
import type { SalesforceConfig } from './config.js';
import { explainSalesforceError } from './policy.js';

type Ctx = ConnectorContext<SalesforceConfig>;

/** Where a Bulk API 2.0 read stands: the job, the results page (its locator; none for the first) and rows done in it. */
export interface BulkPosition {
  jobId: string;
  locator?: string;
  /** Rows of the page at `locator` already handed over. */
  skip: number;
}

interface JobInfo {
  id: string;
  state: 'UploadComplete' | 'InProgress' | 'Aborted' | 'JobComplete' | 'Failed';
  errorMessage?: string;
  numberRecordsProcessed?: number;
}

/** Waits between status reads: quick at first (small jobs finish in a second), then up to 10 s. */
export const POLL_DELAYS_MS = [250, 500, 1_000, 2_000, 4_000, 8_000, 10_000];

const jobsPath = (ctx: Ctx) => `/services/data/${ctx.config.apiVersion}/jobs/query`;

async function call<T>(request: () => Promise<{ data: T }>): Promise<T> {
  try {
    return (await request()).data;
  } catch (error) {
    throw explainSalesforceError(error);
  }
}

/** Creates a query job (`query`, or `queryAll` to include deleted rows) and returns its id. */
export async function createQueryJob(
  ctx: Ctx,
  soql: string,
  operation: 'query' | 'queryAll' = 'query',
): Promise<string> {
  const job = await call(() =>
    ctx.http.post<JobInfo>(jobsPath(ctx), { operation, query: soql, contentType: 'CSV', lineEnding: 'LF' }),
  );
  return job.id;
}

/**
 * Polls the job until `JobComplete`. Answers false when the job can no longer give results (deleted after its
 * 7 days, aborted, failed): the caller starts a new one. Throws only when the job keeps failing to be read.
 */
export async function awaitQueryJob(ctx: Ctx, jobId: string): Promise<{ ok: true } | { ok: false; reason: string }> {
  for (let poll = 0; ; poll++) {
    let job: JobInfo;
    try {
      job = (await ctx.http.get<JobInfo>(`${jobsPath(ctx)}/${jobId}`)).data;
    } catch (error) {
      if (error instanceof ConnectorError && error.details.status === 404)
        return { ok: false, reason: 'job not found' };
      throw explainSalesforceError(error);
    }
    if (job.state === 'JobComplete') return { ok: true };
    if (job.state === 'Aborted' || job.state === 'Failed') {
      return { ok: false, reason: `job ${job.state.toLowerCase()}${job.errorMessage ? `: ${job.errorMessage}` : ''}` };
    }
    await abortableSleep(POLL_DELAYS_MS[Math.min(poll, POLL_DELAYS_MS.length - 1)], ctx.signal);
  }
}

/** One page of CSV results: its rows as a stream, the next page's locator (none on the last) and its row count. */
export interface ResultsPage {
  rows: AsyncGenerator<{ line: number; row?: Record<string, string>; error?: string }>;
  next?: string;
  count: number;
}

/** Fetches one page of a completed job's results, read as a stream of CSV rows. */
export async function resultsPage(ctx: Ctx, jobId: string, locator: string | undefined): Promise<ResultsPage> {
  let response: { data: Readable; headers: Record<string, unknown> };
  try {
    response = await ctx.http.get<Readable>(`${jobsPath(ctx)}/${jobId}/results`, {
      params: { maxRecords: ctx.config.bulkPageSize, ...(locator ? { locator } : {}) },
      responseType: 'stream',
      headers: { Accept: 'text/csv' },
    });
  } catch (error) {
    throw explainSalesforceError(error);
  }
  const locatorHeader = response.headers['sforce-locator'];
  const next = typeof locatorHeader === 'string' ? locatorHeader : 'null';
  const count = Number(response.headers['sforce-numberofrecords']);
  if (!Number.isInteger(count) || count < 0) {
    response.data.destroy();
    throw new TransientError('Salesforce sent a Bulk API results page without a valid Sforce-NumberOfRecords header');
  }
  return { rows: readCsvRows(response.data), next: next === 'null' || next === '' ? undefined : next, count };
}
