import type { Redis } from 'ioredis';
import { addressPaths, urlCredentialValues } from './addresses.js';
import { collectSecretValues } from './config.js';
import type {
  ConnectorContext,
  ConnectorDefinition,
  ConnectorLogger,
  DestinationDefinition,
  SourceDefinition,
  UploadedFile,
} from './connector.js';
import { createHttpClient, type HttpClientOptions } from './http.js';
import { LocalRateBudget, RedisRateBudget, type RateBudget } from './rate-budget.js';
import { createRedactor } from './redact.js';

export interface ConnectorContextOptions<Cfg> {
  definition: SourceDefinition<Cfg> | DestinationDefinition<Cfg, unknown> | ConnectorDefinition;
  /** The validated configuration with secrets decrypted. */
  config: Cfg;
  /** The configured source or destination id; the rate budget is kept per connection. */
  connectionId: string;
  /** When given, the manifest's `rateLimit` is shared by every process through this Redis. */
  redis?: Redis;
  /** Key prefix of the deployment in Redis. Default `plexus`. */
  redisPrefix?: string;
  /** Where log lines go (redacted first). Default: nowhere. */
  logger?: ConnectorLogger;
  signal?: AbortSignal;
  /** The uploaded file of a run started by an upload. */
  upload?: UploadedFile;
  /** First backoff step of the HTTP client (tests use a few milliseconds). */
  backoffBaseMs?: number;
  /** Anything else for the HTTP client (retries, timeouts…); wins over the defaults derived here. */
  http?: Partial<HttpClientOptions>;
}

/** A logger that drops everything. */
export const silentLogger: ConnectorLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/**
 * Wraps a logger so every message and field has the secret values replaced by `[redacted]`.
 *
 * @example
 * ```ts
 * const log = createRedactingLogger(pinoLike, ['s3cr3t']);
 * log.info('calling with s3cr3t'); // 'calling with [redacted]'
 * ```
 */
export function createRedactingLogger(logger: ConnectorLogger, secretValues: string[]): ConnectorLogger {
  const redactor = createRedactor(secretValues);
  const wrap =
    (level: keyof ConnectorLogger) =>
    (message: string, fields?: Record<string, unknown>): void =>
      logger[level](redactor.text(message), fields === undefined ? undefined : redactor.value(fields));
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}

/**
 * Builds what every connector method receives: the configuration, an HTTP client made from the manifest's
 * `http` policy and `rateLimit` (shared through Redis when `redis` is given, else kept in memory), a redacting
 * logger and the cancellation signal. Secret values are taken from the manifest's `secrets` paths.
 *
 * @example
 * ```ts
 * const ctx = createConnectorContext({ definition, config, connectionId: source.id, redis, redisPrefix: 'plexus', logger, signal });
 * for await (const batch of stream.read(ctx, checkpoint)) { ... }
 * ```
 */
export function createConnectorContext<Cfg>(options: ConnectorContextOptions<Cfg>): ConnectorContext<Cfg> {
  const { definition, config, connectionId } = options;
  // Credentials written into a URL (`https://user:pass@host/`) are secrets too.
  const secretValues = [
    ...collectSecretValues(config, definition.secrets),
    ...urlCredentialValues(config, addressPaths(definition)),
  ];
  const log = createRedactingLogger(options.logger ?? silentLogger, secretValues);
  const signal = options.signal ?? new AbortController().signal;
  let rateBudget: RateBudget | undefined;
  const rateLimit = typeof definition.rateLimit === 'function' ? definition.rateLimit(config) : definition.rateLimit;
  if (rateLimit) {
    rateBudget = options.redis
      ? new RedisRateBudget({
          redis: options.redis,
          prefix: options.redisPrefix ?? 'plexus',
          connectionId,
          ...rateLimit,
        })
      : new LocalRateBudget(rateLimit);
  }
  const http = createHttpClient({
    policy: definition.http,
    config,
    rateBudget,
    signal,
    log,
    secretValues,
    backoffBaseMs: options.backoffBaseMs,
    credentialHint:
      definition.secrets.length > 0
        ? `the ${definition.secrets.join(', ')} setting${definition.secrets.length > 1 ? 's' : ''}`
        : undefined,
    ...options.http,
  });
  return { config, http, log, signal, connectionId, ...(options.upload ? { upload: options.upload } : {}) };
}
