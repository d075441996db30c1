import { Injectable, Logger } from '@nestjs/common';
import { Environment } from '@plexus/config';
import { QueueService } from '@plexus/queue';
import {
  createConnectorContext,
  validateConfig,
  type ConnectorContext,
  type ConnectorDefinition,
  type ConnectorLogger,
  ingestSettingsOf,
  type IngestSettings,
  type SourceDefinition,
  type UploadedFile,
} from '@plexus/sdk';
import type { ConnectionRow } from '@plexus/storage';
import { ConnectionSecrets } from './connection-secrets.js';
import { ConnectorRegistry } from './connector-registry.js';

export function connectorLogger(logger: Logger): ConnectorLogger {
  const line = (message: string, fields?: Record<string, unknown>): string =>
    fields ? `${message} ${JSON.stringify(fields)}` : message;
  return {
    debug: (m, f) => logger.debug(line(m, f)),
    info: (m, f) => logger.log(line(m, f)),
    warn: (m, f) => logger.warn(line(m, f)),
    error: (m, f) => logger.error(line(m, f)),
  };
}

/** What running a configured connection needs: its decrypted config and the context its methods receive. */
@Injectable()
export class ConnectorContexts {
  constructor(
    private readonly registry: ConnectorRegistry,
    private readonly secrets: ConnectionSecrets,
    private readonly queues: QueueService,
    private readonly env: Environment,
  ) {}

  /** The decrypted configuration. `overrides` replace top-level fields (per-run options such as an upload). */
  openConfig(row: ConnectionRow, overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return { ...this.secrets.open(this.definition(row), row.config), ...overrides };
  }

  /** The context of a run or check: validated config, guarded HTTP client, rate budget, redacting logger. */
  async context(
    row: ConnectionRow,
    signal: AbortSignal,
    overrides: Record<string, unknown> = {},
    upload?: UploadedFile,
  ): Promise<ConnectorContext<unknown>> {
    const definition = this.definition(row);
    const raw = this.openConfig(row, overrides);
    const { config } = await validateConfig(definition.config as new () => object, raw);
    return createConnectorContext({
      definition,
      config: config ?? raw,
      connectionId: row.id,
      redis: this.queues.redis,
      redisPrefix: this.env.QUEUE_PREFIX,
      logger: connectorLogger(new Logger(`connector:${row.connector}:${row.id}`)),
      signal,
      upload,
      http: {
        timeoutMs: this.env.CONNECTOR_TIMEOUT_MS,
        retries: this.env.CONNECTOR_RETRIES,
        backoffBaseMs: this.env.CONNECTOR_BACKOFF_MS,
      },
    });
  }

  /**
   * What the source's connector declares the hub must apply while ingesting (`SourceDefinition.ingest`), for a
   * stored configuration. The hub reads no configuration field by name.
   */
  ingestSettings(row: Pick<ConnectionRow, 'kind' | 'connector' | 'config'>): IngestSettings {
    const definition = this.definition(row);
    return ingestSettingsOf(definition as SourceDefinition<unknown>, this.secrets.open(definition, row.config));
  }

  private definition(row: Pick<ConnectionRow, 'kind' | 'connector'>): ConnectorDefinition {
    const connector = this.registry.get(row.connector);
    if (!connector || connector.kind !== row.kind)
      throw new Error(`connector ${row.connector} (${row.kind}) is not loaded`);
    return connector.definition;
  }
}
