import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import {
  ConfigurationError,
  createS3Reader,
  gunzipIfCompressed,
  SystemError,
  type ConnectorContext,
} from '@plexus/sdk';
import type { DmpFeedConfig } from './config.js';

/** One feed file: its key (sorts the way drops are delivered) and a version that changes with its content. */
export interface FeedFile {
  key: string;
  version?: string;
}

/** Where feed files come from. */
export interface FeedLocation {
  /** A single file (a `url`, or a `path` to a file): read again when its version changes, not by key order. */
  readonly single: boolean;
  /** Files whose key sorts after `after`, in lexical order. */
  list(after: string | undefined): AsyncGenerator<FeedFile>;
  /** Opens a file (gunzipped when compressed) and says the version actually served. */
  open(file: FeedFile): Promise<{ stream: Readable; version?: string }>;
  close(): void;
}

const FEED_NAME = /\.(csv|tsv|ndjson|jsonl|json)(\.gz)?$/i;

/** `csv` or `ndjson` for a file name under `format: auto`; undefined when the name says neither. */
export function formatOfKey(key: string): 'csv' | 'ndjson' | undefined {
  const match = FEED_NAME.exec(key);
  if (!match) return undefined;
  const ext = match[1].toLowerCase();
  return ext === 'csv' || ext === 'tsv' ? 'csv' : 'ndjson';
}

export function feedLocation(ctx: ConnectorContext<DmpFeedConfig>): FeedLocation {
  const config = ctx.config;
  if (config.bucket) return s3Location(ctx);
  if (config.url) return urlLocation(ctx, config.url);
  if (config.path) return pathLocation(config.path);
  throw new ConfigurationError('set exactly one of path, url or bucket');
}

function s3Location(ctx: ConnectorContext<DmpFeedConfig>): FeedLocation {
  const config = ctx.config;
  const s3 = createS3Reader(
    {
      bucket: config.bucket!,
      region: config.region,
      endpoint: config.endpoint,
      forcePathStyle: config.forcePathStyle,
      accessKeyId: config.accessKeyId,
      secretAccessKey: config.secretAccessKey,
    },
    ctx.signal,
  );
  return {
    single: false,
    async *list(after) {
      for await (const object of s3.listObjects(config.prefix ?? '', after)) {
        if (object.key.endsWith('/')) continue; // folder placeholders
        yield { key: object.key, version: object.etag };
      }
    },
    async open(file) {
      const { stream, etag } = await s3.openObject(file.key);
      return { stream, version: etag };
    },
    close: () => s3.close(),
  };
}

function urlLocation(ctx: ConnectorContext<DmpFeedConfig>, url: string): FeedLocation {
  const headers = ctx.config.authorization ? { Authorization: ctx.config.authorization } : undefined;
  return {
    single: true,
    // The one file is listed every time; the reader skips it while its version is the one already read.
    async *list() {
      yield { key: url };
    },
    async open() {
      const response = await ctx.http.get<Readable>(url, { responseType: 'stream', headers, signal: ctx.signal });
      const etag = response.headers.etag as unknown;
      const modified = response.headers['last-modified'] as unknown;
      const version = typeof etag === 'string' ? etag : typeof modified === 'string' ? modified : undefined;
      return { stream: await gunzipIfCompressed(response.data), version };
    },
    close: () => undefined,
  };
}

function pathLocation(path: string): FeedLocation {
  let single: boolean | undefined;
  const inspect = async (): Promise<boolean> => {
    try {
      const info = await stat(path);
      if (!info.isDirectory() && !info.isFile()) throw new ConfigurationError(`${path} is neither a file nor a folder`);
      return info.isFile();
    } catch (error) {
      if (error instanceof ConfigurationError) throw error;
      throw new ConfigurationError(`cannot read ${path} (${(error as NodeJS.ErrnoException).code}): check the path`);
    }
  };
  const versionOf = async (file: string): Promise<string> => {
    const info = await stat(file);
    return `${Math.round(info.mtimeMs)}:${info.size}`;
  };
  const location: FeedLocation = {
    get single() {
      return single ?? false;
    },
    async *list(after) {
      single = await inspect();
      if (single) {
        yield { key: basename(path), version: await versionOf(path) };
        return;
      }
      const keys: string[] = [];
      for (const entry of await readdir(path, { recursive: true, withFileTypes: true })) {
        if (!entry.isFile() || entry.name.startsWith('.')) continue;
        const key = relative(path, join(entry.parentPath, entry.name)).split(sep).join('/');
        if (FEED_NAME.test(key) && (after === undefined || key > after)) keys.push(key);
      }
      keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      for (const key of keys) yield { key, version: await versionOf(join(path, key)) };
    },
    async open(file) {
      const full = single ? path : join(path, file.key);
      if (!single && relative(path, full).startsWith('..')) throw new SystemError(`${file.key} is outside ${path}`);
      const version = await versionOf(full).catch(() => undefined);
      return { stream: await gunzipIfCompressed(createReadStream(full, { highWaterMark: 256 * 1024 })), version };
    },
    close: () => undefined,
  };
  return location;
}
