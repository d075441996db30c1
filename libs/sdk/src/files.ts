import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { AxiosInstance } from 'axios';
import { Parser } from 'csv-parse';
import { ConfigurationError } from './errors.js';
import { createHttpClient } from './http.js';
import { assertReadablePath } from './outbound.js';

/** Where a file comes from: a local path, an http(s) URL, or an already open stream (an upload). */
export type FileLocation = { path: string } | { url: string } | { stream: Readable };

export interface OpenSourceOptions {
  /** The client for URLs (use `ctx.http` to get retries and redaction). Default: a fresh SDK client. */
  http?: AxiosInstance;
  signal?: AbortSignal;
}

/**
 * Opens a file for streaming, whatever its origin, and gunzips it transparently when it starts with the gzip
 * magic bytes (1f 8b) — the name does not matter. Nothing is buffered beyond the stream's own chunks.
 *
 * @example
 * ```ts
 * const input = await openSource({ url: 'https://dmp.example.com/export/2026-05-01.csv.gz' }, { http: ctx.http });
 * for await (const row of readCsvRows(input)) { ... }
 * ```
 */
export async function openSource(location: FileLocation, options: OpenSourceOptions = {}): Promise<Readable> {
  let raw: Readable;
  if ('stream' in location) {
    raw = location.stream;
  } else if ('path' in location) {
    // Confined to the import folders of the outbound policy; the resolved path is the one opened.
    const real = assertReadablePath(location.path, options.signal);
    try {
      const info = await stat(real);
      if (!info.isFile()) throw new ConfigurationError(`${location.path} is not a file: check the path`);
    } catch (error) {
      if (error instanceof ConfigurationError) throw error;
      throw new ConfigurationError(
        `cannot read ${location.path} (${(error as NodeJS.ErrnoException).code}): check the path`,
      );
    }
    raw = createReadStream(real, { highWaterMark: 256 * 1024 });
  } else {
    if (!/^https?:\/\//i.test(location.url)) {
      throw new ConfigurationError(`only http(s) URLs can be read (got ${location.url.split(':')[0]}): check the url`);
    }
    const http = options.http ?? createHttpClient();
    const response = await http.get<Readable>(location.url, { responseType: 'stream', signal: options.signal });
    raw = response.data;
  }
  return gunzipIfCompressed(raw);
}

/** Peeks at the first two bytes and inserts a gunzip stage when they are the gzip magic number. */
export async function gunzipIfCompressed(input: Readable): Promise<Readable> {
  const { head, stream } = await peek(input, 2);
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = createGunzip();
    // pipeline forwards an error of either side to the other, so readers see a broken download.
    pipeline(stream, gunzip, () => undefined);
    return gunzip;
  }
  return stream;
}

/** Reads at least `bytes` bytes (fewer at the end) and gives them back: unshifted, or in a new stream when ended. */
function peek(input: Readable, bytes: number): Promise<{ head: Buffer; stream: Readable }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let ended = false;
    const cleanUp = (): void => {
      input.off('readable', onReadable);
      input.off('end', onEnd);
      input.off('error', onError);
    };
    const done = (): void => {
      cleanUp();
      const head = Buffer.concat(chunks);
      if (ended) {
        resolve({ head, stream: Readable.from(head.length > 0 ? [head] : []) });
        return;
      }
      if (head.length > 0) input.unshift(head);
      resolve({ head, stream: input });
    };
    const onReadable = (): void => {
      let chunk: unknown;
      while (size < bytes && (chunk = input.read()) !== null) {
        const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
        chunks.push(buffer);
        size += buffer.length;
      }
      if (size >= bytes) done();
    };
    const onEnd = (): void => {
      ended = true;
      done();
    };
    const onError = (error: Error): void => {
      cleanUp();
      reject(error);
    };
    input.on('readable', onReadable);
    input.once('end', onEnd);
    input.once('error', onError);
  });
}

/**
 * One row of a file: its line number, and either the row or why it could not be read. A malformed row is
 * reported, never thrown, and reading goes on.
 */
export interface FileRow<T = Record<string, string>> {
  /** 1-based line of the file where the row ends (the CSV header is line 1). Checkpoint on it. */
  line: number;
  row?: T;
  error?: string;
}

export interface CsvReadOptions {
  /** Field delimiter. Default `,`. */
  delimiter?: string;
  /** The first line names the columns. Only `true` is supported: rows are objects by column name. */
  header?: true;
  /** Skip rows up to and including this line (a checkpoint's `line`) to resume after it. */
  startAfterLine?: number;
}

/**
 * Reads a CSV file as RFC 4180 (quoted fields, embedded delimiters, quotes and newlines, a UTF-8 BOM),
 * in constant memory. Rows whose column count differs from the header, or with broken quoting, are
 * reported with an `error` and skipped; empty lines are ignored.
 *
 * @example
 * ```ts
 * for await (const { line, row, error } of readCsvRows(await openSource({ path }), { startAfterLine: checkpoint?.line })) {
 *   if (error) quarantine(line, error); else records.push(row);
 * }
 * ```
 */
export async function* readCsvRows(input: Readable, options: CsvReadOptions = {}): AsyncGenerator<FileRow> {
  const after = options.startAfterLine ?? 0;
  const pending: FileRow[] = [];
  let header: string[] | undefined;
  const parser = new Parser({
    delimiter: options.delimiter ?? ',',
    bom: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    // Lenient with a stray quote inside a field (`3,"x"y`), as spreadsheets write them; an unclosed quote
    // still swallows the rest of the file, so a record may not grow beyond 1 MiB (memory stays bounded).
    relax_quotes: true,
    max_record_size: 1024 * 1024,
    on_skip: (error: Error | undefined) => {
      const line = (error as { lines?: number } | undefined)?.lines ?? api.info.lines;
      if (line > after) pending.push({ line, error: error?.message ?? 'malformed row' });
      return undefined;
    },
  });
  // The parser's synchronous core is driven directly: every record is seen with the exact line the parser is
  // on (the stream interface buffers records, so its counters run ahead), and no per-record stream overhead.
  const api = (parser as unknown as { api?: CsvCore }).api!;
  if (typeof api?.parse !== 'function') throw new Error('csv-parse no longer exposes its parser core; update files.ts');
  const onRecord = (record: string[]): void => {
    if (header === undefined) {
      header = record.map((name) => name.trim());
      return;
    }
    const line = api.info.lines;
    if (line <= after) return;
    const row: Record<string, string> = {};
    for (let i = 0; i < header.length; i++) row[header[i]] = record[i];
    pending.push({ line, row });
  };
  const close = (): void => undefined;
  const drain = (): FileRow[] => pending.splice(0, pending.length);
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    const error = api.parse(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk), false, onRecord, close);
    if (error) throw error;
    if (pending.length > 0) yield* drain();
  }
  const error = api.parse(undefined, true, onRecord, close);
  if (error) throw error;
  yield* drain();
}

interface CsvCore {
  info: { lines: number };
  parse(
    buffer: Buffer | undefined,
    end: boolean,
    push: (record: string[]) => void,
    close: () => void,
  ): Error | undefined;
}

export interface NdjsonReadOptions {
  /** Skip lines up to and including this one (a checkpoint's `line`) to resume after it. */
  startAfterLine?: number;
}

/**
 * Reads newline-delimited JSON, one object per line, in constant memory. A line that is not a JSON object
 * is reported with an `error`; blank lines are ignored.
 *
 * @example
 * ```ts
 * for await (const { line, row, error } of readNdjsonRows(await openSource({ url }, { http: ctx.http }))) { ... }
 * ```
 */
export async function* readNdjsonRows(
  input: Readable,
  options: NdjsonReadOptions = {},
): AsyncGenerator<FileRow<Record<string, unknown>>> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  const after = options.startAfterLine ?? 0;
  let line = 0;
  for await (const text of lines) {
    line++;
    if (line <= after) continue;
    const trimmed = line === 1 ? text.replace(/^\uFEFF/, '').trim() : text.trim();
    if (trimmed === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      yield { line, error: `invalid JSON: ${(error as Error).message}` };
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      yield { line, error: 'expected a JSON object' };
      continue;
    }
    yield { line, row: value as Record<string, unknown> };
  }
}
