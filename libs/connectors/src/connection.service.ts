import { randomBytes } from 'node:crypto';
import { BadRequestException, Inject, Injectable, Logger, NotFoundException, Optional } from '@nestjs/common';
import { CronExpressionParser } from 'cron-parser';
import { Environment } from '@plexus/config';
import { QueueService, type Schedule } from '@plexus/queue';
import {
  createConnectorContext,
  failureTypeOf,
  getPath,
  setPath,
  validateConfig,
  type ConnectorContext,
  type ConnectorDefinition,
  type ConnectorLogger,
  type FailureType,
  type SourceDefinition,
} from '@plexus/sdk';
import { ConnectionRepository, SecretBox, type ConnectionKind, type ConnectionRow } from '@plexus/storage';
import { ConnectorRegistry, type LoadedConnector } from './connector-registry.js';

/** What the API shows of a source or destination: secrets as "********", never their values. */
export interface ConnectionView {
  id: string;
  name: string;
  connector: string;
  config: Record<string, unknown>;
  schedule: Schedule | null;
  createdAt: Date;
  updatedAt: Date;
  /** Push sources (`pushAuth: 'write-key'`): the write key, only in the response that creates the source. */
  writeKey?: string;
}

/**
 * Issues the write key of a push source (`SourceDefinition.pushAuth`). Provided under {@link PUSH_CREDENTIALS}
 * by the tracking module, which owns write keys; kept as an interface here so connections do not depend on it.
 */
export interface PushCredentialIssuer {
  issueWriteKey(sourceId: string): Promise<string>;
  /** Called after a source is deleted: its keys must stop working at once, in every process. */
  revokeWriteKeys(sourceId: string): Promise<void>;
}
export const PUSH_CREDENTIALS = 'PushCredentialIssuer';

export interface ConnectionInput {
  name: string;
  connector: string;
  config: Record<string, unknown>;
  schedule?: Schedule | null;
}

export interface ConnectionPatch {
  name?: string;
  /** JSON merge patch over the stored config: `null` removes a field; "********" keeps a secret. */
  config?: Record<string, unknown>;
  schedule?: Schedule | null;
}

export type CheckResult = { ok: true } | { ok: false; failureType: FailureType; message: string };

export const MASK = '********';
const ID_PREFIX: Record<ConnectionKind, string> = { source: 'src_', destination: 'dst_' };

function fieldError(field: string, problem: string): BadRequestException {
  return new BadRequestException({
    message: `Invalid request: ${field} (${problem})`,
    details: [{ field, problems: [problem] }],
  });
}

function mergePatch(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else if (
      typeof value === 'object' &&
      !Array.isArray(value) &&
      typeof out[key] === 'object' &&
      out[key] !== null &&
      !Array.isArray(out[key])
    ) {
      out[key] = mergePatch(out[key] as Record<string, unknown>, value as Record<string, unknown>);
    } else out[key] = value;
  }
  return out;
}

/** Validates a `{ cron }` or `{ everySeconds }` schedule; throws a 400 naming the field. */
export function validateSchedule(schedule: unknown): Schedule | null {
  if (schedule === null || schedule === undefined) return null;
  if (typeof schedule !== 'object' || Array.isArray(schedule))
    throw fieldError('schedule', 'must be { cron } or { everySeconds }');
  const s = schedule as Record<string, unknown>;
  const keys = Object.keys(s).filter((k) => k !== 'tz');
  if (keys.length !== 1 || !['cron', 'everySeconds'].includes(keys[0]))
    throw fieldError('schedule', 'must have exactly one of cron or everySeconds');
  if ('cron' in s) {
    if (typeof s.cron !== 'string') throw fieldError('schedule.cron', 'must be a string');
    try {
      CronExpressionParser.parse(s.cron, typeof s.tz === 'string' ? { tz: s.tz } : {});
    } catch (error) {
      throw fieldError('schedule.cron', `not a valid cron expression: ${(error as Error).message}`);
    }
    return typeof s.tz === 'string' ? { cron: s.cron, tz: s.tz } : { cron: s.cron };
  }
  const every = s.everySeconds;
  if (typeof every !== 'number' || !Number.isInteger(every) || every < 1 || every > 31 * 24 * 3600) {
    throw fieldError('schedule.everySeconds', 'must be a whole number of seconds from 1 to 2678400');
  }
  return { everySeconds: every };
}

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

/** Sources and destinations: validation against the connector's config class, secret sealing, schedules. */
@Injectable()
export class ConnectionService {
  constructor(
    private readonly repository: ConnectionRepository,
    private readonly registry: ConnectorRegistry,
    private readonly secrets: SecretBox,
    private readonly queues: QueueService,
    private readonly env: Environment,
    @Optional() @Inject(PUSH_CREDENTIALS) private readonly pushCredentials?: PushCredentialIssuer,
  ) {}

  connector(kind: ConnectionKind, id: string): LoadedConnector {
    const connector = this.registry.get(id);
    if (!connector || connector.kind !== kind) {
      const known = this.registry
        .list()
        .filter((c) => c.kind === kind)
        .map((c) => c.id);
      throw fieldError('connector', `unknown ${kind} connector '${id}' (known: ${known.join(', ') || 'none'})`);
    }
    return connector;
  }

  async create(kind: ConnectionKind, input: ConnectionInput): Promise<ConnectionView> {
    const connector = this.connector(kind, input.connector);
    const schedule = kind === 'source' ? validateSchedule(input.schedule) : null;
    if (kind === 'destination' && input.schedule) throw fieldError('schedule', 'destinations have no schedule');
    const config = await this.validated(connector.definition, input.config);
    const pushAuth = kind === 'source' ? (connector.definition as SourceDefinition<unknown>).pushAuth : undefined;
    if (pushAuth && !this.pushCredentials)
      throw new Error(`cannot issue ${pushAuth} credentials: the tracking module is not loaded`);
    const row = await this.repository.insert({
      id: `${ID_PREFIX[kind]}${randomBytes(8).toString('hex')}`,
      kind,
      name: input.name,
      connector: connector.id,
      config: this.seal(connector.definition, config),
      schedule,
    });
    await this.applySchedule(row.id, schedule);
    // Push sources authenticate with a write key: issued now, shown once in this response, stored hashed.
    if (pushAuth === 'write-key')
      return { ...this.view(row), writeKey: await this.pushCredentials!.issueWriteKey(row.id) };
    return this.view(row);
  }

  async get(kind: ConnectionKind, id: string): Promise<ConnectionView> {
    return this.view(await this.row(kind, id));
  }

  async row(kind: ConnectionKind, id: string): Promise<ConnectionRow> {
    const row = await this.repository.find(kind, id);
    if (!row) throw new NotFoundException(`No ${kind} ${id}`);
    return row;
  }

  async list(kind: ConnectionKind, limit: number, after?: string): Promise<ConnectionView[]> {
    return (await this.repository.list(kind, limit, after)).map((r) => this.view(r));
  }

  async update(kind: ConnectionKind, id: string, patch: ConnectionPatch): Promise<ConnectionView> {
    const row = await this.row(kind, id);
    const connector = this.connector(kind, row.connector);
    const changes: { name?: string; config?: Record<string, unknown>; schedule?: Schedule | null } = {};
    if (patch.name !== undefined) changes.name = patch.name;
    if (patch.config !== undefined) {
      const current = this.open(connector.definition, row.config);
      const merged = mergePatch(current, this.unmask(connector.definition, patch.config, current));
      changes.config = this.seal(connector.definition, await this.validated(connector.definition, merged));
    }
    if (patch.schedule !== undefined) {
      if (kind === 'destination' && patch.schedule !== null)
        throw fieldError('schedule', 'destinations have no schedule');
      changes.schedule = validateSchedule(patch.schedule);
    }
    const updated = await this.repository.update(kind, id, changes);
    if (!updated) throw new NotFoundException(`No ${kind} ${id}`);
    if (patch.schedule !== undefined) await this.applySchedule(id, changes.schedule ?? null);
    return this.view(updated);
  }

  async delete(kind: ConnectionKind, id: string): Promise<void> {
    if (!(await this.repository.delete(kind, id))) throw new NotFoundException(`No ${kind} ${id}`);
    if (kind === 'source') {
      await this.pushCredentials?.revokeWriteKeys(id);
      await this.applySchedule(id, null);
    }
  }

  /** Runs the connector's `check` with the stored configuration. */
  async check(kind: ConnectionKind, id: string): Promise<CheckResult> {
    const row = await this.row(kind, id);
    const { definition } = this.connector(kind, row.connector);
    const ctx = await this.context(row, new AbortController().signal);
    try {
      await definition.check(ctx);
      return { ok: true };
    } catch (error) {
      return { ok: false, failureType: failureTypeOf(error), message: (error as Error).message };
    }
  }

  /** The decrypted configuration, for running the connector. `overrides` replace top-level fields (per-run options). */
  openConfig(row: ConnectionRow, overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const { definition } = this.connector(row.kind, row.connector);
    return { ...this.open(definition, row.config), ...overrides };
  }

  async context(
    row: ConnectionRow,
    signal: AbortSignal,
    overrides: Record<string, unknown> = {},
  ): Promise<ConnectorContext<unknown>> {
    const { definition } = this.connector(row.kind, row.connector);
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
    });
  }

  private async validated(definition: ConnectorDefinition, raw: unknown): Promise<Record<string, unknown>> {
    const result = await validateConfig(definition.config as new () => object, raw);
    if (result.problems.length > 0) {
      const details = result.problems.map((p) => ({ field: `config.${p.field}`, problems: p.problems }));
      throw new BadRequestException({
        message: `Invalid request: ${details.map((d) => `${d.field} (${d.problems.join('; ')})`).join(', ')}`,
        details,
      });
    }
    return JSON.parse(JSON.stringify(raw ?? {})) as Record<string, unknown>;
  }

  private seal(definition: ConnectorDefinition, config: Record<string, unknown>): Record<string, unknown> {
    const out = structuredClone(config);
    for (const path of definition.secrets) {
      const value = getPath(out, path);
      if (typeof value === 'string' && !this.secrets.isSealed(value)) setPath(out, path, this.secrets.seal(value));
    }
    return out;
  }

  private open(definition: ConnectorDefinition, stored: Record<string, unknown>): Record<string, unknown> {
    const out = structuredClone(stored);
    for (const path of definition.secrets) {
      const value = getPath(out, path);
      if (this.secrets.isSealed(value)) setPath(out, path, this.secrets.open(value));
    }
    return out;
  }

  /** A patch that sends a secret back as "********" means "keep the stored value". */
  private unmask(
    definition: ConnectorDefinition,
    patch: Record<string, unknown>,
    current: Record<string, unknown>,
  ): Record<string, unknown> {
    const out = structuredClone(patch);
    for (const path of definition.secrets) {
      if (getPath(out, path) === MASK) setPath(out, path, getPath(current, path));
    }
    return out;
  }

  private view(row: ConnectionRow): ConnectionView {
    const definition = this.registry.get(row.connector)?.definition;
    const config = structuredClone(row.config);
    for (const path of definition?.secrets ?? []) if (getPath(config, path) !== undefined) setPath(config, path, MASK);
    // Unknown connector (plugin removed): still never show anything that looks sealed.
    if (!definition) for (const [k, v] of Object.entries(config)) if (this.secrets.isSealed(v)) config[k] = MASK;
    return {
      id: row.id,
      name: row.name,
      connector: row.connector,
      config,
      schedule: row.schedule as Schedule | null,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    };
  }

  private async applySchedule(sourceId: string, schedule: Schedule | null): Promise<void> {
    const schedulerId = `source:${sourceId}`;
    if (schedule) await this.queues.schedule(schedulerId, 'source.scheduled', { sourceId }, schedule);
    else await this.queues.unschedule('source.scheduled', schedulerId);
  }
}
