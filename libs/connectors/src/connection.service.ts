import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { InvalidInputError, NotFoundError } from '@plexus/errors';
import type { Schedule } from '@plexus/queue';
import {
  failureTypeOf,
  validateConfig,
  type ConnectorDefinition,
  type FailureType,
  type SourceDefinition,
} from '@plexus/sdk';
import { ConnectionRepository, type ConnectionKind, type ConnectionRow } from '@plexus/storage';
import { ConnectionSchedules, validateSchedule } from './connection-schedules.js';
import { ConnectionSecrets } from './connection-secrets.js';
import { ConnectorContexts } from './connector-contexts.js';
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

const ID_PREFIX: Record<ConnectionKind, string> = { source: 'src_', destination: 'dst_' };

/**
 * Sources and destinations: their lifecycle. Everything is validated before anything is written, and the
 * database and the schedulers never disagree: a write that fails half-way is undone. The rules themselves live
 * elsewhere — secrets in {@link ConnectionSecrets}, schedules in {@link ConnectionSchedules}, contexts in
 * {@link ConnectorContexts}.
 */
@Injectable()
export class ConnectionService {
  private readonly logger = new Logger('Connections');

  constructor(
    private readonly repository: ConnectionRepository,
    private readonly registry: ConnectorRegistry,
    private readonly secrets: ConnectionSecrets,
    private readonly schedules: ConnectionSchedules,
    private readonly contexts: ConnectorContexts,
    @Optional() @Inject(PUSH_CREDENTIALS) private readonly pushCredentials?: PushCredentialIssuer,
  ) {}

  connector(kind: ConnectionKind, id: string): LoadedConnector {
    const connector = this.registry.get(id);
    if (!connector || connector.kind !== kind) {
      const known = this.registry
        .list()
        .filter((c) => c.kind === kind)
        .map((c) => c.id);
      throw InvalidInputError.field(
        'connector',
        `unknown ${kind} connector '${id}' (known: ${known.join(', ') || 'none'})`,
      );
    }
    return connector;
  }

  async create(kind: ConnectionKind, input: ConnectionInput): Promise<ConnectionView> {
    const connector = this.connector(kind, input.connector);
    if (kind === 'destination' && input.schedule)
      throw InvalidInputError.field('schedule', 'destinations have no schedule');
    const schedule = kind === 'source' ? validateSchedule(input.schedule) : null;
    const config = await this.validated(connector.definition, input.config);
    const pushAuth = kind === 'source' ? (connector.definition as SourceDefinition<unknown>).pushAuth : undefined;
    if (pushAuth && !this.pushCredentials)
      throw new Error(`cannot issue ${pushAuth} credentials: the tracking module is not loaded`);
    const row = await this.repository.insert({
      id: `${ID_PREFIX[kind]}${randomBytes(8).toString('hex')}`,
      kind,
      name: input.name,
      connector: connector.id,
      config: this.secrets.seal(connector.definition, config),
      schedule,
    });
    try {
      if (schedule) await this.schedules.apply(row.id, schedule);
      // Push sources authenticate with a write key: issued now, shown once in this response, stored hashed.
      if (pushAuth === 'write-key')
        return { ...this.view(row), writeKey: await this.pushCredentials!.issueWriteKey(row.id) };
      return this.view(row);
    } catch (error) {
      await this.undoCreate(row);
      throw error;
    }
  }

  async get(kind: ConnectionKind, id: string): Promise<ConnectionView> {
    return this.view(await this.row(kind, id));
  }

  async row(kind: ConnectionKind, id: string): Promise<ConnectionRow> {
    const row = await this.repository.find(kind, id);
    if (!row) throw new NotFoundError(`No ${kind} ${id}`);
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
    if (patch.schedule !== undefined) {
      if (kind === 'destination' && patch.schedule !== null)
        throw InvalidInputError.field('schedule', 'destinations have no schedule');
      changes.schedule = validateSchedule(patch.schedule);
    }
    if (patch.config !== undefined) {
      const current = this.secrets.open(connector.definition, row.config);
      const merged = this.secrets.patch(connector.definition, current, patch.config);
      changes.config = this.secrets.seal(connector.definition, await this.validated(connector.definition, merged));
    }
    const updated = await this.repository.update(kind, id, changes);
    if (!updated) throw new NotFoundError(`No ${kind} ${id}`);
    if (kind === 'source' && patch.schedule !== undefined) {
      try {
        await this.schedules.apply(id, changes.schedule ?? null);
      } catch (error) {
        // The scheduler refused or Redis failed: put the row back so database and scheduler still agree.
        await this.repository.update(kind, id, { name: row.name, config: row.config, schedule: row.schedule });
        throw error;
      }
    }
    return this.view(updated);
  }

  async delete(kind: ConnectionKind, id: string): Promise<void> {
    const row = await this.row(kind, id);
    // Scheduler first: a scheduler left without its source would fire forever; a source left without its
    // scheduler (the delete below failing) gets it back.
    if (kind === 'source' && row.schedule) await this.schedules.apply(id, null);
    try {
      if (!(await this.repository.delete(kind, id))) throw new NotFoundError(`No ${kind} ${id}`);
    } catch (error) {
      if (kind === 'source' && row.schedule) await this.schedules.apply(id, row.schedule as Schedule);
      throw error;
    }
    // Every API process forgets the source's write keys now, not when its lookup cache expires.
    if (kind === 'source') await this.pushCredentials?.revokeWriteKeys(id);
  }

  /** Runs the connector's `check` with the stored configuration. */
  async check(kind: ConnectionKind, id: string): Promise<CheckResult> {
    const row = await this.row(kind, id);
    const { definition } = this.connector(kind, row.connector);
    const ctx = await this.contexts.context(row, AbortSignal.timeout(CHECK_TIMEOUT_MS));
    try {
      await definition.check(ctx);
      return { ok: true };
    } catch (error) {
      return { ok: false, failureType: failureTypeOf(error), message: (error as Error).message };
    }
  }

  private async undoCreate(row: ConnectionRow): Promise<void> {
    try {
      await this.repository.delete(row.kind, row.id);
      if (row.schedule) await this.schedules.apply(row.id, null);
    } catch (error) {
      this.logger.error(`could not undo the creation of ${row.kind} ${row.id}: ${(error as Error).message}`);
    }
  }

  private async validated(definition: ConnectorDefinition, raw: unknown): Promise<Record<string, unknown>> {
    const result = await validateConfig(definition.config as new () => object, raw);
    if (result.problems.length > 0)
      throw InvalidInputError.fields(
        result.problems.map((p) => ({ field: `config.${p.field}`, problems: p.problems })),
      );
    return JSON.parse(JSON.stringify(raw ?? {})) as Record<string, unknown>;
  }

  private view(row: ConnectionRow): ConnectionView {
    return {
      id: row.id,
      name: row.name,
      connector: row.connector,
      config: this.secrets.mask(this.registry.get(row.connector)?.definition, row.config),
      schedule: row.schedule as Schedule | null,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    };
  }
}

/** A check is one short conversation with the vendor: it never holds a request open longer than this. */
const CHECK_TIMEOUT_MS = 60_000;
