import {
  createConnectorContext,
  getPath,
  validateConfig,
  type Batch,
  type ConnectorContext,
  type ConnectorContextOptions,
  type ConnectorDefinition,
  type ConnectorLogger,
  type DestinationDefinition,
  type ProfileRecord,
  type SourceDefinition,
  type StreamDefinition,
} from '../index.js';

/** A log line a connector wrote during a test. */
export interface LogLine {
  level: keyof ConnectorLogger;
  message: string;
  fields?: Record<string, unknown>;
}

export interface TestContextOptions {
  /** Default `test-connection`. */
  connectionId?: string;
  signal?: AbortSignal;
  /** First backoff step; tests default to 5 ms so retries are quick. */
  backoffBaseMs?: number;
  /** More options for `createConnectorContext` (e.g. `redis` to test the shared rate budget). */
  context?: Partial<ConnectorContextOptions<unknown>>;
}

type AnyDefinition = ConnectorDefinition | SourceDefinition<never> | DestinationDefinition<never, never>;

/**
 * Validates a raw configuration the way the hub does and returns the typed instance; throws an Error listing
 * the problems (by field) when it is invalid.
 */
export async function prepareConfig<Cfg>(definition: { config: new () => Cfg }, raw: unknown): Promise<Cfg> {
  if (raw instanceof definition.config) return raw;
  const { config, problems } = await validateConfig(definition.config as new () => Cfg & object, raw);
  if (!config) {
    throw new Error(`invalid configuration: ${problems.map((p) => `${p.field}: ${p.problems.join('; ')}`).join(', ')}`);
  }
  return config;
}

/**
 * A context like the hub's for a connector under test, with the log lines it writes collected.
 *
 * @example
 * ```ts
 * const { ctx, logs } = await createTestContext(definition, { baseUrl: api.url, token: 't' });
 * await definition.check(ctx);
 * ```
 */
export async function createTestContext<Cfg>(
  definition: AnyDefinition,
  rawConfig: unknown,
  options: TestContextOptions = {},
): Promise<{ ctx: ConnectorContext<Cfg>; logs: LogLine[] }> {
  const def = definition;
  const config = (await prepareConfig(def as { config: new () => unknown }, rawConfig)) as Cfg;
  const logs: LogLine[] = [];
  const logger: ConnectorLogger = {
    debug: (message, fields) => logs.push({ level: 'debug', message, fields }),
    info: (message, fields) => logs.push({ level: 'info', message, fields }),
    warn: (message, fields) => logs.push({ level: 'warn', message, fields }),
    error: (message, fields) => logs.push({ level: 'error', message, fields }),
  };
  const ctx = createConnectorContext<Cfg>({
    definition: def,
    config,
    connectionId: options.connectionId ?? 'test-connection',
    logger,
    signal: options.signal,
    backoffBaseMs: options.backoffBaseMs ?? 5,
    ...(options.context as Partial<ConnectorContextOptions<Cfg>> | undefined),
  });
  return { ctx, logs };
}

/**
 * Runs `fn` with a test context (see `createTestContext`).
 *
 * @example
 * ```ts
 * const id = await withContext(definition, config, (ctx) => definition.ensureAudience(ctx, audience));
 * ```
 */
export async function withContext<Cfg, T>(
  definition: AnyDefinition,
  rawConfig: unknown,
  fn: (ctx: ConnectorContext<Cfg>) => Promise<T>,
  options: TestContextOptions = {},
): Promise<T> {
  const { ctx } = await createTestContext<Cfg>(definition, rawConfig, options);
  return fn(ctx);
}

/** Everything one read of a stream produced. */
export interface StreamReadResult<R = unknown, C = unknown> {
  batches: Batch<R, C>[];
  records: R[];
  /** The records mapped with `toProfile` (nulls dropped, arrays flattened). */
  profiles: ProfileRecord[];
  /** Records whose mapping threw, with the reason (the hub would quarantine them). */
  mappingErrors: Array<{ record: R; error: string }>;
  checkpoints: C[];
  lastCheckpoint: C | undefined;
  deletedIds: string[];
  logs: LogLine[];
}

export function findStream(
  definition: SourceDefinition<never> | ConnectorDefinition,
  name: string,
): StreamDefinition<unknown, unknown, unknown> {
  if (definition.kind !== 'source') throw new Error(`${definition.id} is not a source`);
  const stream = (definition.streams as StreamDefinition<unknown, unknown, unknown>[]).find((s) => s.name === name);
  if (!stream) throw new Error(`${definition.id} has no stream "${name}"`);
  return stream;
}

/** The primary key of a record as one string (`"42"`, or `"a|b"` for a composite key). */
export function primaryKeyOf(stream: { primaryKey: string[] }, record: unknown): string {
  return stream.primaryKey.map((field) => String(getPath(record, field) as string)).join('|');
}

/** Maps a record the way the hub does; returns the profiles or the mapping error. */
export function mapRecord<Cfg>(
  stream: StreamDefinition<Cfg, unknown, unknown>,
  record: unknown,
  ctx: ConnectorContext<Cfg>,
): { profiles: ProfileRecord[]; error?: string } {
  try {
    const mapped = stream.toProfile(record, ctx);
    return { profiles: mapped === null ? [] : Array.isArray(mapped) ? mapped : [mapped] };
  } catch (error) {
    return { profiles: [], error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Reads a whole stream from `checkpoint` (the beginning when undefined) and collects everything it yields.
 *
 * @example
 * ```ts
 * const { records, profiles, lastCheckpoint } = await readStream(definition, 'contacts', { baseUrl: api.url, token: 't' });
 * const newer = await readStream(definition, 'contacts', config, lastCheckpoint);
 * ```
 */
export async function readStream<R = unknown, C = unknown>(
  definition: SourceDefinition<never> | ConnectorDefinition,
  streamName: string,
  rawConfig: unknown,
  checkpoint?: C,
  options: TestContextOptions = {},
): Promise<StreamReadResult<R, C>> {
  const stream = findStream(definition, streamName);
  const { ctx, logs } = await createTestContext<unknown>(definition, rawConfig, options);
  const result: StreamReadResult<R, C> = {
    batches: [],
    records: [],
    profiles: [],
    mappingErrors: [],
    checkpoints: [],
    lastCheckpoint: checkpoint,
    deletedIds: [],
    logs,
  };
  for await (const batch of stream.read(ctx, checkpoint) as AsyncIterable<Batch<R, C>>) {
    result.batches.push(batch);
    for (const record of batch.records) {
      result.records.push(record);
      const mapped = mapRecord(stream, record, ctx);
      if (mapped.error !== undefined) result.mappingErrors.push({ record, error: mapped.error });
      result.profiles.push(...mapped.profiles);
    }
    result.deletedIds.push(...(batch.deletedIds ?? []));
    if (batch.checkpoint !== undefined) {
      result.checkpoints.push(batch.checkpoint);
      result.lastCheckpoint = batch.checkpoint;
    }
  }
  return result;
}
