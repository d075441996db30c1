import { randomUUID } from 'node:crypto';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { AuditService } from '@plexus/audit';
import { AudienceChangeLog, AudienceService } from '@plexus/audiences';
import { validateSchedule } from '@plexus/connectors';
import { ConflictError, InvalidInputError } from '@plexus/errors';
import { normalizeIdentifier } from '@plexus/profile';
import { isIdentifierType } from '@plexus/sdk';
import {
  ActivationRepository,
  type ActivationMode,
  type ActivationRow,
  type ActivationRunRow,
  type BatchRow,
  type DeadLetterRow,
  type MemberRow,
  type OpenBatchState,
} from '@plexus/storage';
import { ActivationEngine } from './activation-engine.service.js';
import { ActivationNotFoundError } from './activation.errors.js';
import { ActivationScheduler } from './activation-scheduler.service.js';
import { DestinationAccess } from './destination-access.js';

export interface ActivationInput {
  audienceId: string;
  destinationId: string;
  mode: ActivationMode;
  identifiers?: string[];
  schedule?: Record<string, unknown> | null;
  externalId?: string;
}

export interface ActivationView {
  id: string;
  audienceId: string;
  destinationId: string;
  connector: string | null;
  mode: ActivationMode;
  identifiers: string[];
  schedule: Record<string, unknown> | null;
  externalId: string | null;
  status: ActivationRow['status'];
  error: ActivationRow['error'];
  cursor: number;
  /** Ledger rows by state: `held` is what the platform holds now. */
  members: Record<string, number>;
  mirrorInProgress: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** One ledger answer: what the platform received for a person, and whether it was removed. */
export interface LedgerEntry {
  profileId: string;
  state: MemberRow['state'];
  /** True while the platform holds the person (its addition confirmed, no removal confirmed since). */
  held: boolean;
  sent: boolean;
  removed: boolean;
  reason: string | null;
  /** The item as the platform received it (hashed values). */
  item: unknown;
  addedAt: Date | null;
  addBatch: BatchSummary | null;
  removedAt: Date | null;
  removeBatch: BatchSummary | null;
}

/**
 * A send stored and not recorded yet: the member is in a batch on its way (or left by a crash for the next
 * delivery), waiting for a retry, or blocked by a configuration error. The ledger row changes when it is recorded.
 */
export interface PendingEntry {
  profileId: string;
  operation: 'add' | 'remove';
  reason: string | null;
  batch: {
    id: string;
    kind: string;
    /** `planned`: being sent, or sent again by the next delivery; `retrying`: waits until `nextAttemptAt`. */
    state: OpenBatchState;
    attempts: number;
    nextAttemptAt: Date | null;
    /** The last error, for a batch waiting for a retry or blocked. */
    error: string | null;
    createdAt: Date;
  };
}

/** The ledger's answer for one identifier: the recorded rows, and the sends still on their way. */
export interface LedgerAnswer {
  identifier: string;
  entries: LedgerEntry[];
  pending: PendingEntry[];
}

export interface BatchSummary {
  id: string;
  kind: string;
  state: string;
  adds: number;
  removes: number;
  accepted: number;
  invalid: number;
  failed: number;
  /** The platform's answers, one per request: received and invalid counts, request ids. */
  answer: unknown;
  confirmedAt: Date | null;
}

const summary = (b: BatchRow): BatchSummary => ({
  id: b.id,
  kind: b.kind,
  state: b.state,
  adds: b.adds,
  removes: b.removes,
  accepted: b.accepted,
  invalid: b.invalid,
  failed: b.failed,
  answer: b.answer,
  confirmedAt: b.confirmedAt,
});

/** Activations as admins manage them: link, pause, resume, delete, and read runs, ledger and dead letters. */
@Injectable()
export class ActivationService implements OnModuleInit {
  constructor(
    private readonly audit: AuditService,
    private readonly repository: ActivationRepository,
    private readonly audiences: AudienceService,
    private readonly changeLog: AudienceChangeLog,
    private readonly destinations: DestinationAccess,
    private readonly scheduler: ActivationScheduler,
    private readonly engine: ActivationEngine,
  ) {}

  onModuleInit(): void {
    // The audit log's before/after state of `activations` changes.
    this.audit.registerState('activations', async (id) => (id ? this.get(id) : undefined));
  }

  async create(input: ActivationInput): Promise<ActivationView> {
    await this.audiences.get(input.audienceId).catch(() => {
      throw InvalidInputError.field('audienceId', `no audience ${input.audienceId}`);
    });
    const destination = await this.destinations.info(input.destinationId);
    if (!destination) throw InvalidInputError.field('destinationId', `no destination ${input.destinationId}`);
    const accepts = destination.definition.accepts;
    const identifiers = input.identifiers ?? [];
    const refused = identifiers.filter((t) => !isIdentifierType(t) || !accepts.includes(t));
    if (refused.length > 0)
      throw InvalidInputError.field(
        'identifiers',
        `${destination.connector} accepts ${accepts.join(', ')}; not ${refused.join(', ')}`,
      );
    if (input.mode === 'mirror' && !destination.definition.replace)
      throw InvalidInputError.field('mode', `${destination.connector} cannot replace an audience: use upsert`);
    const existing = await this.repository.list(10, undefined, {
      audienceId: input.audienceId,
      destinationId: input.destinationId,
    });
    const live = existing.find((a) => a.status !== 'deleted');
    // Two activations would share the platform's audience and undo each other's removals.
    if (live)
      throw new ConflictError(
        `audience ${input.audienceId} is already activated to ${input.destinationId} (${live.id})`,
      );
    const schedule = validateSchedule(input.schedule) as Record<string, unknown> | null;
    const cursor = input.mode === 'mirror' ? await this.changeLog.latestCursor(input.audienceId) : 0;
    const row = await this.repository.insert({
      id: randomUUID(),
      audienceId: input.audienceId,
      destinationId: input.destinationId,
      mode: input.mode,
      identifiers: [...new Set(identifiers)],
      schedule,
      externalId: input.externalId ?? null,
      cursor,
      // A mirror starts with a full replace of the platform's list; upsert sends the change log from the start.
      mirror: input.mode === 'mirror' ? { sessionId: ActivationEngine.newSessionId(), batchSeq: 0, cursor } : null,
    });
    await this.scheduler.applySchedule(row);
    await this.scheduler.kick(row);
    return this.view(row);
  }

  async get(id: string): Promise<ActivationView> {
    return this.view(await this.row(id));
  }

  async list(limit: number, after?: string, filter: { audienceId?: string; destinationId?: string } = {}) {
    const rows = await this.repository.list(limit, after, filter);
    return Promise.all(rows.map((r) => this.view(r)));
  }

  /** Pause or resume, and change the schedule or the platform's audience id. */
  async update(
    id: string,
    patch: { paused?: boolean; schedule?: Record<string, unknown> | null; externalId?: string },
  ): Promise<ActivationView> {
    const row = await this.row(id);
    if (row.status === 'deleting' || row.status === 'deleted')
      throw new ConflictError(`activation ${id} is ${row.status}`);
    const changes: Parameters<ActivationRepository['update']>[1] = {};
    if (patch.schedule !== undefined) changes.schedule = validateSchedule(patch.schedule);
    if (patch.externalId !== undefined) changes.externalId = patch.externalId;
    if (patch.paused === true) changes.status = 'paused';
    if (patch.paused === false) {
      changes.status = 'active';
      changes.error = null;
      changes.nextAttemptAt = null;
      await this.repository.unblock(id);
    }
    await this.repository.update(id, changes);
    const updated = await this.row(id);
    await this.scheduler.applySchedule(updated);
    if (updated.status === 'active') await this.scheduler.kick(updated);
    return this.view(updated);
  }

  /** Deletes the activation: every member the platform holds is removed first, then it is marked deleted. */
  async delete(id: string): Promise<ActivationView> {
    const row = await this.row(id);
    if (row.status !== 'deleted') {
      await this.repository.update(id, { status: 'deleting', nextAttemptAt: null, mirror: null });
      await this.repository.unblock(id);
    }
    const updated = await this.row(id);
    await this.scheduler.applySchedule(updated);
    await this.scheduler.kick(updated);
    return this.view(updated);
  }

  async runs(id: string, limit: number, before?: number): Promise<ActivationRunRow[]> {
    await this.row(id);
    return this.repository.runs(id, limit, before);
  }

  async deadLetters(id: string, limit: number, after?: number): Promise<DeadLetterRow[]> {
    await this.row(id);
    return this.repository.deadLetters(id, limit, after);
  }

  async replay(id: string): Promise<{ queued: number }> {
    const row = await this.row(id);
    const queued = await this.repository.replayDeadLetters(id);
    await this.scheduler.kick(row);
    return { queued };
  }

  /**
   * What the destination received for the person holding `type:value` (normalised as at ingestion): each ledger
   * row matching the identifier's fingerprint, and the row of the profile holding it now, with the batches that
   * added and removed it and the platform's answers; and the sends of these profiles stored but not recorded yet.
   */
  async ledger(id: string, identifier: string): Promise<LedgerAnswer> {
    await this.row(id);
    const colon = identifier.indexOf(':');
    const type = colon > 0 ? identifier.slice(0, colon) : '';
    if (!isIdentifierType(type))
      throw InvalidInputError.field('identifier', 'must be <type>:<value>, e.g. email:alice@example.com');
    const normalized = normalizeIdentifier({ type, value: identifier.slice(colon + 1) });
    if (!normalized.ok) throw InvalidInputError.field('identifier', normalized.reason);
    const rows = await this.repository.membersByIdentifier(
      id,
      this.engine.fingerprints.of(normalized.identifier.type, normalized.identifier.value),
      normalized.identifier,
    );
    const batchIds = rows.flatMap((r) => [r.addBatch, r.removeBatch]).filter((b): b is string => b !== null);
    const [recorded, pending] = await Promise.all([
      this.repository.batchesByIds(batchIds),
      this.repository.pendingFor(
        id,
        rows.map((r) => r.profileId),
        normalized.identifier,
      ),
    ]);
    const batches = new Map(recorded.map((b) => [b.id, b]));
    const batchOf = (batchId: string | null) => {
      const b = batchId ? batches.get(batchId) : undefined;
      return b ? summary(b) : null;
    };
    return {
      identifier: `${normalized.identifier.type}:***`,
      entries: rows.map((r) => ({
        profileId: r.profileId,
        state: r.state,
        held: r.state === 'held' || r.state === 'removing',
        sent: r.addedAt !== null,
        removed: r.state === 'removed' && r.addedAt !== null,
        reason: r.reason,
        item: r.item,
        addedAt: r.addedAt,
        addBatch: batchOf(r.addBatch),
        removedAt: r.removedAt,
        removeBatch: batchOf(r.removeBatch),
      })),
      pending: pending.map((p) => ({
        profileId: p.profileId,
        operation: p.operation,
        reason: p.reason,
        batch: {
          id: p.batch.id,
          kind: p.batch.kind,
          state: p.batch.state,
          attempts: p.batch.attempts,
          nextAttemptAt: p.batch.nextAttemptAt,
          error: p.batch.error,
          createdAt: p.batch.createdAt,
        },
      })),
    };
  }

  private async row(id: string): Promise<ActivationRow> {
    const row = await this.repository.get(id);
    if (!row) throw new ActivationNotFoundError(id);
    return row;
  }

  private async view(row: ActivationRow): Promise<ActivationView> {
    const [info, members] = await Promise.all([
      this.destinations.info(row.destinationId),
      this.repository.memberCounts(row.id),
    ]);
    return {
      id: row.id,
      audienceId: row.audienceId,
      destinationId: row.destinationId,
      connector: info?.connector ?? null,
      mode: row.mode,
      identifiers: row.identifiers,
      schedule: row.schedule,
      externalId: row.externalId,
      status: row.status,
      error: row.error,
      cursor: row.cursor,
      members,
      mirrorInProgress: row.mirror !== null,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    };
  }
}
