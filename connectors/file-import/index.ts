import {
  ConfigurationError,
  defineSource,
  defineStream,
  openSource,
  readCsvRows,
  readNdjsonRows,
  type ConnectorContext,
  type FileLocation,
  type Identifier,
  type IdentifierType,
  type ProfileRecord,
  type TraitValue,
} from '@plexus/sdk';
import { FileImportConfig } from './config.js';

/** One row of the file as read: its line number, the parsed row, or why it could not be parsed. */
export interface FileRow {
  line: number;
  row?: Record<string, unknown>;
  error?: string;
}

export interface FileCheckpoint {
  /** Last line committed; a resumed run continues after it. */
  line: number;
}

const BATCH_SIZE = 1000;

/** Where the rows come from: the run's uploaded file when there is one, else the configured path or url. */
function location(ctx: ConnectorContext<FileImportConfig>): FileLocation {
  if (ctx.upload) return { stream: ctx.upload.open() };
  const config = ctx.config;
  if (typeof config.path === 'string') return { path: config.path };
  if (typeof config.url === 'string') return { url: config.url };
  throw new ConfigurationError('set exactly one of path or url');
}

function cell(row: Record<string, unknown>, column: string): string | undefined {
  const value = row[column];
  if (value === undefined || value === null) return undefined;
  const text =
    typeof value === 'string'
      ? value.trim()
      : typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : JSON.stringify(value);
  return text === '' ? undefined : text;
}

interface CompiledMapping {
  identifiers: Array<{ type: IdentifierType; column: string; external: boolean }>;
  traits: Array<[string, string]>;
  observedAt?: string;
  columns: string;
}

const compiled = new WeakMap<FileImportConfig, CompiledMapping>();

/** The mapping flattened once per configuration, so each row is a few array walks. */
function compile(config: FileImportConfig): CompiledMapping {
  let mapping = compiled.get(config);
  if (!mapping) {
    const identifiers: CompiledMapping['identifiers'] = [];
    for (const [type, columns] of Object.entries(config.mapping.identifiers)) {
      for (const column of typeof columns === 'string' ? [columns] : (columns ?? [])) {
        identifiers.push({ type: type as IdentifierType, column, external: type === 'external_id' });
      }
    }
    mapping = {
      identifiers,
      traits: Object.entries(config.mapping.traits ?? {}),
      observedAt: config.mapping.observedAt,
      columns: Object.values(config.mapping.identifiers).flat().join(', '),
    };
    compiled.set(config, mapping);
  }
  return mapping;
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/** Maps one row through the declarative mapping; throws (→ quarantine) when the row cannot be used. */
export function mapRow(item: FileRow, config: FileImportConfig, sourceId: string): ProfileRecord {
  if (item.error !== undefined || !item.row) throw new Error(`line ${item.line}: ${item.error ?? 'empty row'}`);
  const row = item.row;
  const mapping = compile(config);
  const identifiers: Identifier[] = [];
  for (const { type, column, external } of mapping.identifiers) {
    const value = cell(row, column);
    if (value === undefined) continue;
    identifiers.push({ type, value: external ? `${sourceId}:row:${value}` : value });
  }
  if (identifiers.length === 0)
    throw new Error(`line ${item.line}: no identifier (columns ${mapping.columns} are empty)`);
  const traits: Record<string, TraitValue> = {};
  for (const [trait, column] of mapping.traits) {
    const value = row[column];
    if (value === undefined || value === '') continue;
    traits[trait] = value as TraitValue;
  }
  const record: ProfileRecord = { identifiers, traits };
  if (mapping.observedAt) {
    const observed = cell(row, mapping.observedAt);
    if (observed !== undefined) {
      if (ISO_UTC.test(observed)) record.observedAt = observed;
      else if (Number.isNaN(Date.parse(observed)))
        throw new Error(`line ${item.line}: ${mapping.observedAt} is not a date: ${observed}`);
      else record.observedAt = new Date(observed).toISOString();
    }
  }
  if (config.defaultCountry) record.country = config.defaultCountry;
  return record;
}

const rows = defineStream<FileImportConfig, FileRow, FileCheckpoint>({
  name: 'rows',
  primaryKey: ['line'],
  mode: 'full',
  cursorField: 'line',
  async *read(ctx: ConnectorContext<FileImportConfig>, checkpoint) {
    const config = ctx.config;
    const input = await openSource(location(ctx), { http: ctx.http, signal: ctx.signal });
    const parsed =
      config.format === 'csv' ? readCsvRows(input, { delimiter: config.delimiter }) : readNdjsonRows(input);
    const after = checkpoint?.line ?? 0;
    let batch: FileRow[] = [];
    for await (const item of parsed) {
      if (item.line <= after) continue;
      batch.push({
        line: item.line,
        ...(item.row ? { row: item.row } : {}),
        ...(item.error ? { error: item.error } : {}),
      });
      if (batch.length >= (config.batchSize ?? BATCH_SIZE)) {
        yield { records: batch, checkpoint: { line: item.line } };
        batch = [];
      }
    }
    if (batch.length > 0) yield { records: batch, checkpoint: { line: batch[batch.length - 1].line } };
  },
  toProfile: (item, ctx) => mapRow(item, ctx.config, ctx.connectionId),
});

export default defineSource<FileImportConfig>({
  id: 'file-import',
  version: '0.1.0',
  sdk: '^0.1.0',
  kind: 'source',
  displayName: 'File import (CSV / NDJSON)',
  description:
    'Offline data: CSV or NDJSON files from a local path, an http(s) URL or an upload, with a declarative mapping.',
  config: FileImportConfig,
  secrets: ['authorization'],
  http: {
    authHeaders: (config): Record<string, string> => {
      const authorization = (config as FileImportConfig).authorization;
      return authorization ? { Authorization: authorization } : {};
    },
  },
  identifiers: ['email', 'email_sha256', 'phone', 'user_id', 'anonymous_id', 'cookie_id', 'device_id', 'external_id'],
  upload: { description: 'a CSV or NDJSON file (gzip allowed), read with the source mapping' },
  ingest: (config) => ({ defaultCountry: config.defaultCountry }),
  async check(ctx) {
    const input = await openSource(location(ctx), { http: ctx.http, signal: ctx.signal });
    const parsed =
      ctx.config.format === 'csv' ? readCsvRows(input, { delimiter: ctx.config.delimiter }) : readNdjsonRows(input);
    for await (const first of parsed) {
      if (first.error) throw new ConfigurationError(`the file does not parse as ${ctx.config.format}: ${first.error}`);
      break;
    }
  },
  streams: [rows],
});
