import {
  ConnectorError,
  defineSource,
  defineStream,
  readCsvRows,
  readNdjsonRows,
  TransientError,
  type Batch,
  type ConnectorContext,
  type FileRow,
} from '@plexus/sdk';
import { DEFAULTS, DmpFeedConfig } from './config.js';
import { feedLocation, formatOfKey, type FeedFile, type FeedLocation } from './feed-files.js';
import { mapFeedRow, type FeedRecord } from './mapping.js';

export { DmpColumns, DmpFeedConfig } from './config.js';
export { formatOfKey } from './feed-files.js';
export { mapFeedRow, segmentKey, truncateIp, type FeedRecord } from './mapping.js';

/**
 * Where the feed stands. Files are taken in lexical key order (date-stamped drop names sort by delivery):
 * `done` is the last file read to its end, `file` the one being read and the last line committed in it. A
 * single-file feed (`url`, or `path` to a file) is read again when its version (ETag, Last-Modified, or
 * mtime and size) differs from `doneVersion`.
 */
export interface DmpCheckpoint {
  done?: string;
  doneVersion?: string;
  file?: { key: string; version?: string; line: number };
}

/** Times a broken download is reopened (continuing after the last line read) before the run gives up. */
const REOPEN_ATTEMPTS = 3;

async function* readFeed(
  ctx: ConnectorContext<DmpFeedConfig>,
  checkpoint: DmpCheckpoint | undefined,
): AsyncGenerator<Batch<FeedRecord, DmpCheckpoint>> {
  const config = ctx.config;
  const batchSize = config.batchSize ?? DEFAULTS.batchSize;
  const location = feedLocation(ctx);
  let done = checkpoint?.done;
  let doneVersion = checkpoint?.doneVersion;
  const inProgress = checkpoint?.file;
  try {
    for await (const file of location.list(done)) {
      let startAfterLine = 0;
      if (inProgress && inProgress.key === file.key) {
        if (inProgress.version === undefined || file.version === undefined || inProgress.version === file.version) {
          startAfterLine = inProgress.line;
        } else {
          ctx.log.warn(`${file.key} changed while it was being read: reading it again from the start`);
        }
      } else if (location.single) {
        if (done === file.key && doneVersion !== undefined && doneVersion === file.version) continue;
      } else if (done !== undefined && file.key <= done) {
        continue;
      }
      const format = config.format && config.format !== 'auto' ? config.format : formatOfKey(file.key);
      if (!format) {
        ctx.log.warn(`${file.key}: not a feed file (.csv, .tsv, .ndjson, .jsonl, maybe .gz): skipped`);
        done = file.key;
        doneVersion = file.version;
        yield { records: [], checkpoint: { done, doneVersion } };
        continue;
      }
      const read = readFile(ctx, location, file, format, startAfterLine, batchSize, { done, doneVersion });
      let version = file.version;
      for await (const batch of read) {
        version = batch.version ?? version;
        if (batch.skip) break;
        if (batch.end) {
          done = file.key;
          doneVersion = version;
          yield { records: batch.records, checkpoint: { done, doneVersion } };
        } else yield { records: batch.records, checkpoint: batch.checkpoint };
      }
    }
  } finally {
    location.close();
  }
}

interface FileBatch {
  records: FeedRecord[];
  checkpoint?: DmpCheckpoint;
  /** The last batch of the file. */
  end?: boolean;
  /** The file is the version already read: nothing to do. */
  skip?: boolean;
  version?: string;
}

/**
 * Reads one file in batches of `batchSize` rows, each checkpointed on its last line. A download that breaks off
 * (a `TransientError` from the stream) is reopened and read on after the last line taken, so nothing is lost or
 * read twice; a file whose version changes in between is an error the next run recovers from.
 */
async function* readFile(
  ctx: ConnectorContext<DmpFeedConfig>,
  location: FeedLocation,
  file: FeedFile,
  format: 'csv' | 'ndjson',
  startAfterLine: number,
  batchSize: number,
  position: { done?: string; doneVersion?: string },
): AsyncGenerator<FileBatch> {
  let lastLine = startAfterLine;
  let batch: FeedRecord[] = [];
  let version = file.version;
  for (let attempt = 0; ; attempt++) {
    try {
      const opened = await location.open(file);
      if (attempt === 0) {
        version = opened.version ?? version;
        if (
          location.single &&
          startAfterLine === 0 &&
          position.done === file.key &&
          position.doneVersion !== undefined &&
          position.doneVersion === version
        ) {
          opened.stream.destroy();
          yield { records: [], skip: true, version };
          return;
        }
      } else if (opened.version !== undefined && version !== undefined && opened.version !== version) {
        opened.stream.destroy();
        throw new TransientError(`${file.key} changed while it was being read`);
      }
      const delimiter = ctx.config.delimiter ?? (/\.tsv(\.gz)?$/i.test(file.key) ? '\t' : undefined);
      const rows: AsyncGenerator<FileRow<Record<string, unknown>>> =
        format === 'csv'
          ? readCsvRows(opened.stream, { delimiter, startAfterLine: lastLine })
          : readNdjsonRows(opened.stream, { startAfterLine: lastLine });
      for await (const item of rows) {
        lastLine = item.line;
        batch.push({
          file: file.key,
          line: item.line,
          ...(item.row ? { row: item.row } : {}),
          ...(item.error !== undefined ? { error: item.error } : {}),
        });
        if (batch.length >= batchSize) {
          yield {
            records: batch,
            version,
            checkpoint: { ...position, file: { key: file.key, ...(version ? { version } : {}), line: lastLine } },
          };
          batch = [];
        }
      }
      yield { records: batch, end: true, version };
      return;
    } catch (error) {
      const transient = error instanceof ConnectorError && error.failureType === 'transient';
      if (!transient || attempt + 1 >= REOPEN_ATTEMPTS || ctx.signal.aborted) throw error;
      ctx.log.warn(`${file.key}: ${(error as Error).message}; reopening after line ${lastLine}`);
    }
  }
}

export const rows = defineStream<DmpFeedConfig, FeedRecord, DmpCheckpoint>({
  name: 'rows',
  primaryKey: ['file', 'line'],
  mode: 'incremental',
  cursorField: 'file',
  read: readFeed,
  toProfile: (record, ctx) => mapFeedRow(record, ctx.config),
});

export default defineSource<DmpFeedConfig>({
  id: 'dmp-feed',
  version: '0.1.0',
  sdk: '^0.1.0',
  kind: 'source',
  displayName: 'DMP feed (cookie and device-ID segments)',
  description:
    'Anonymous third-party data — cookie ids, IDFA/GAID, hashed emails, IP and segment memberships — from CSV or NDJSON files (gzip too) in a folder, at a URL or in an S3-compatible bucket',
  config: DmpFeedConfig,
  secrets: ['secretAccessKey', 'authorization'],
  // url and endpoint count as addresses by their @IsUrl(); the bucket is where the S3 keys are used.
  addresses: ['bucket'],
  identifiers: ['cookie_id', 'device_id', 'email_sha256'],
  async check(ctx) {
    const location = feedLocation(ctx);
    try {
      for await (const file of location.list(undefined)) {
        // Listing proves the credentials; opening the first file proves read access to objects too.
        const { stream } = await location.open(file);
        stream.destroy();
        break;
      }
    } finally {
      location.close();
    }
  },
  streams: [rows],
});
