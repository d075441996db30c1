import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import {
  abortableSleep,
  ConfigurationError,
  ConnectorError,
  SystemError,
  TransientError,
  type Batch,
  type ConnectorContext,
} from '@plexus/sdk';
import { DEFAULT_PAGE_SIZE, type ShopifyConfig } from './config.js';
import type { ShopifyGraphql } from './graphql.js';
import { BULK_OPERATION, bulkQuery, compact, RUN_BULK_QUERY } from './queries.js';
import type { ShopifyCheckpoint } from './shopify.types.js';

export interface BulkOperationStatus {
  id: string;
  status: 'CREATED' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELED' | 'CANCELING' | 'EXPIRED';
  errorCode?: string | null;
  createdAt: string;
  url?: string | null;
  objectCount?: string | null;
}

interface RunPayload {
  bulkOperationRunQuery: {
    bulkOperation: { id: string; status: string; createdAt: string } | null;
    userErrors: Array<{ field?: string[] | null; message: string; code?: string | null }>;
  } | null;
}

/** A JSONL line: a record, or a nested connection's node carrying its parent's GID. */
type Line = Record<string, unknown> & { id?: string; __parentId?: string };

/** Polling starts quick (small shops finish in a second) and slows down to this for big exports. */
const MAX_POLL_INTERVAL_MS = 5_000;
/** A download that breaks off is opened again (and read on after the last line taken) this many times. */
const DOWNLOAD_ATTEMPTS = 4;

/**
 * A full read through a bulk operation: `bulkOperationRunQuery` (with `groupObjects`, so a record's nested
 * connection nodes come right after it), polled until it completes, then its JSONL downloaded from the signed URL
 * — without the access token, which belongs to the shop and not to the storage host — and read line by line.
 * Nested nodes (an order's line items) are gathered back into their record under `<connection>.nodes`. A batch's
 * checkpoint is the operation and the lines committed, so a resumed run downloads again and skips them; once the
 * result is gone (7 days, or a failed operation) it starts a new operation. The operation is checkpointed as soon
 * as it is created, so a run that dies while it runs waits for it again. The last checkpoint is the time the
 * operation started, from which incremental reads take over.
 */
export async function* readBulk<T extends { id: string }>(
  ctx: ConnectorContext<ShopifyConfig>,
  client: ShopifyGraphql,
  stream: 'customers' | 'orders',
  resume: ShopifyCheckpoint['bulk'],
  nested: Record<string, string> = {},
  search = resume?.search,
): AsyncGenerator<Batch<T, ShopifyCheckpoint>> {
  let operation: BulkOperationStatus | undefined;
  let skip = 0;
  if (resume) {
    operation = await waitForCompletion(ctx, client, resume.id, true);
    if (operation?.status === 'COMPLETED') skip = resume.line;
    else {
      ctx.log.warn(
        `${stream}: the bulk operation of the interrupted full sync is ${operation?.status ?? 'gone'}: starting a new one`,
      );
      operation = undefined;
    }
  }
  if (!operation) {
    const started = await startBulkOperation(ctx, client, stream, search);
    // Committed at once: a run that dies while a big export runs (minutes to hours) resumes waiting for the same
    // operation instead of starting another.
    yield {
      records: [],
      checkpoint: { bulk: { id: started.id, line: 0, startedAt: started.createdAt, ...(search ? { search } : {}) } },
    };
    operation = (await waitForCompletion(ctx, client, started.id, false))!;
  }
  const startedAt = operation.createdAt;
  const done: ShopifyCheckpoint = { since: startedAt, seen: [] };
  const url = operation.url;
  if (!url) {
    // Shopify gives no URL when the query matched nothing.
    yield { records: [], checkpoint: done };
    return;
  }

  const batchSize = ctx.config.pageSize ?? DEFAULT_PAGE_SIZE;
  const id = operation.id;
  const checkpointAt = (line: number): ShopifyCheckpoint => ({
    bulk: { id, line, startedAt, ...(search ? { search } : {}) },
  });
  let batch: T[] = [];
  /** The record being assembled (its nested nodes follow it), and the lines committed or batched before it. */
  let current: { record: Line } | undefined;
  let consumed = skip;
  for (let attempt = 1; ; attempt++) {
    let lineNumber = 0;
    try {
      for await (const text of jsonLines(ctx, url)) {
        lineNumber++;
        if (lineNumber <= consumed) continue;
        if (text.trim() === '') continue;
        const line = parseLine(text, lineNumber);
        if (line.__parentId === undefined) {
          if (current) {
            batch.push(current.record as T);
            if (batch.length >= batchSize) {
              yield { records: batch, checkpoint: checkpointAt(lineNumber - 1) };
              batch = [];
            }
          }
          current = { record: line };
          // Lines before this record are in `batch` or committed: a reopened download skips them.
          consumed = lineNumber - 1;
        } else {
          if (!current || current.record.id !== line.__parentId) {
            throw new SystemError(
              `bulk result line ${lineNumber}: a nested node of ${String(line.__parentId)} outside its parent's group`,
            );
          }
          attach(current.record, line, nested);
        }
      }
      break;
    } catch (error) {
      if (!(error instanceof TransientError) || attempt >= DOWNLOAD_ATTEMPTS) throw error;
      ctx.log.warn(
        `${stream}: the bulk result download broke off (${error.message}); reading on from line ${consumed + 1}`,
      );
      current = undefined;
    }
  }
  if (current) batch.push(current.record as T);
  yield { records: batch, checkpoint: done };
}

async function startBulkOperation(
  ctx: ConnectorContext<ShopifyConfig>,
  client: ShopifyGraphql,
  stream: 'customers' | 'orders',
  search: string | undefined,
): Promise<{ id: string; createdAt: string }> {
  const data = await client.request<RunPayload>(RUN_BULK_QUERY, { query: compact(bulkQuery(stream, search)) });
  const payload = data.bulkOperationRunQuery;
  const errors = payload?.userErrors ?? [];
  if (errors.some((e) => e.code === 'OPERATION_IN_PROGRESS' || e.code === 'LIMIT_REACHED')) {
    throw new TransientError(`Shopify runs as many bulk operations as it allows for this app: ${errors[0].message}`, {
      retryAfterMs: 60_000,
    });
  }
  if (errors.length > 0 || !payload?.bulkOperation) {
    throw new SystemError(
      `Shopify refused the ${stream} bulk query: ${errors.map((e) => e.message).join('; ') || 'no bulk operation'}`,
    );
  }
  ctx.log.info(`${stream}: bulk operation ${payload.bulkOperation.id} started`);
  return payload.bulkOperation;
}

/**
 * Polls a bulk operation until it is over. A failed or cancelled operation throws (a missing scope as a
 * configuration error), unless `lenient`: resuming only needs to know whether the result can still be read.
 */
async function waitForCompletion(
  ctx: ConnectorContext<ShopifyConfig>,
  client: ShopifyGraphql,
  id: string,
  lenient: boolean,
): Promise<BulkOperationStatus | undefined> {
  for (let interval = 100; ; interval = Math.min(MAX_POLL_INTERVAL_MS, interval * 2)) {
    const data = await client.request<{ node: BulkOperationStatus | null }>(BULK_OPERATION, { id }, 1);
    const operation = data.node;
    if (!operation) {
      if (lenient) return undefined;
      throw new SystemError(`Shopify lost bulk operation ${id}`);
    }
    if (
      operation.status === 'COMPLETED' ||
      (lenient && operation.status !== 'CREATED' && operation.status !== 'RUNNING')
    ) {
      return operation;
    }
    if (operation.status === 'FAILED' && operation.errorCode === 'ACCESS_DENIED') {
      throw new ConfigurationError(
        `Shopify's bulk operation ${id} failed with ACCESS_DENIED: give the app the read scopes and update accessToken`,
      );
    }
    if (operation.status !== 'CREATED' && operation.status !== 'RUNNING') {
      throw new TransientError(
        `Shopify's bulk operation ${id} ended ${operation.status}${operation.errorCode ? ` (${operation.errorCode})` : ''}`,
      );
    }
    await abortableSleep(interval, ctx.signal);
  }
}

/** The JSONL lines of a result URL, streamed; the storage host gets no Shopify token. */
async function* jsonLines(ctx: ConnectorContext<ShopifyConfig>, url: string): AsyncGenerator<string> {
  const response = await ctx.http.get<Readable>(url, {
    responseType: 'stream',
    headers: { 'X-Shopify-Access-Token': false },
  });
  const lines = createInterface({ input: response.data, crlfDelay: Infinity });
  try {
    for await (const line of lines) yield line;
  } catch (error) {
    throw error instanceof ConnectorError
      ? error
      : new TransientError(`reading the bulk result failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    lines.close();
    response.data.destroy();
  }
}

function parseLine(text: string, lineNumber: number): Line {
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Line;
  } catch {
    // reported below
  }
  throw new TransientError(`bulk result line ${lineNumber} is not a JSON object (cut short?)`);
}

/** Puts a nested node under its record: `lineItems.nodes` for a line item GID, as a paged read returns it. */
function attach(record: Line, line: Line, nested: Record<string, string>): void {
  const { __parentId: _parent, ...node } = line;
  const type = /^gid:\/\/shopify\/(\w+)\//.exec(String(node.id ?? ''))?.[1] ?? '';
  const field = nested[type];
  if (!field) return;
  const connection = (record[field] ??= { nodes: [] }) as { nodes: unknown[] };
  connection.nodes.push(node);
}
