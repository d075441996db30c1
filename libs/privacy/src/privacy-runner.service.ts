import { Injectable, Logger } from '@nestjs/common';
import type { DestinationHolding, RemovalReason } from '@plexus/activation';
import { AuditService } from '@plexus/audit';
import { DeferJobError, JobHandler, type JobPayloads } from '@plexus/queue';
import { emailSha256 } from '@plexus/profile';
import { ProfileRepository } from '@plexus/storage';
import { PrivacyRequestRepository, SuppressionRepository, type PrivacyRequestRow } from '@plexus/storage';
import { HoldingsLocator } from './holdings.locator.js';
import { IdentifierHasher } from './identifier-hasher.js';
import { PersonErasure, type Person } from './person-erasure.service.js';
import { PersonExport } from './person-export.service.js';
import { retryDelayMs, type PrivacyStep, type StepName, type StepOutcome } from './privacy-steps.js';

const NOT_INSTALLED = 'activation is not installed here: no destination was ever sent this person';

export const describeHolding = (h: DestinationHolding): string =>
  `${h.connector} destination ${h.destinationId} (audience ${h.audienceId}): ${h.state}${h.lastError ? ` — ${h.lastError}` : ''}`;

/**
 * Runs a privacy request's steps in order, each at most until it is done: a step that waits (a destination
 * that has not confirmed a removal) or fails (an error) stops the run, which is deferred and run again later
 * — with backoff, for as long as it takes — from that step. Completed steps never run twice.
 */
@Injectable()
export class PrivacyRunner {
  private readonly logger = new Logger('Privacy');

  constructor(
    private readonly requests: PrivacyRequestRepository,
    private readonly suppressions: SuppressionRepository,
    private readonly profiles: ProfileRepository,
    private readonly hasher: IdentifierHasher,
    private readonly erasure: PersonErasure,
    private readonly exporter: PersonExport,
    private readonly holdings: HoldingsLocator,
    private readonly audit: AuditService,
  ) {}

  @JobHandler('privacy.request')
  async job(payload: JobPayloads['privacy.request']): Promise<string> {
    const row = await this.run(payload.requestId);
    if (row && row.status !== 'completed' && row.nextAttemptAt)
      throw new DeferJobError(row.nextAttemptAt.getTime(), `privacy request ${row.id} waits`);
    return row?.status ?? 'gone';
  }

  /** Runs the request's pending steps; returns it as left (waiting requests carry `nextAttemptAt`). */
  async run(requestId: string): Promise<PrivacyRequestRow | undefined> {
    let row = await this.requests.find(requestId);
    if (!row || row.status === 'completed' || row.status === 'failed') return row;
    const steps = row.steps as PrivacyStep[];
    row = (await this.requests.update(row.id, { status: 'running', attempts: row.attempts + 1 }))!;
    for (const step of steps) {
      if (step.status === 'done' || step.status === 'skipped') continue;
      step.attempts++;
      step.updatedAt = new Date().toISOString();
      let outcome: StepOutcome;
      try {
        outcome = await this.step(step.name, row);
      } catch (error) {
        outcome = { status: 'waiting', detail: `failed: ${(error as Error).message}`, waitingOn: [] };
        step.status = 'failed';
        step.detail = outcome.detail;
        delete step.waitingOn;
        this.logger.warn(`privacy request ${row.id}: step ${step.name} failed: ${(error as Error).message}`);
        return this.defer(row, steps);
      }
      Object.assign(step, outcome);
      if (outcome.status === 'waiting') return this.defer(row, steps);
      delete step.waitingOn;
      // Persist each finished step: a crash resumes after it.
      row = (await this.requests.update(row.id, { steps }))!;
    }
    return this.complete(row, steps);
  }

  private async defer(row: PrivacyRequestRow, steps: PrivacyStep[]): Promise<PrivacyRequestRow> {
    const nextAttemptAt = new Date(Date.now() + retryDelayMs(row.attempts));
    return (await this.requests.update(row.id, { status: 'waiting', steps, nextAttemptAt }))!;
  }

  private async complete(row: PrivacyRequestRow, steps: PrivacyStep[]): Promise<PrivacyRequestRow> {
    const summary = Object.fromEntries(steps.map((s) => [s.name, s.detail ?? s.status]));
    const done = (await this.requests.update(row.id, {
      status: 'completed',
      steps,
      completedAt: new Date(),
      nextAttemptAt: null,
      clearIdentifier: true,
      ...(row.type === 'export' ? {} : { result: summary }),
    }))!;
    await this.audit.record({
      actorKeyId: null,
      action: `privacy.${row.type}.completed`,
      targetType: 'privacy',
      targetId: row.id,
      after: { type: row.type, identifierType: row.identifierType, profileId: row.profileId, steps },
    });
    return done;
  }

  private person(row: PrivacyRequestRow): Person {
    return {
      profileId: row.profileId,
      profileIds: row.profileId ? [row.profileId] : [],
      identifiers: row.workingIdentifiers,
    };
  }

  private async step(name: StepName, row: PrivacyRequestRow): Promise<StepOutcome> {
    switch (name) {
      case 'resolve':
        return this.resolve(row);
      case 'suppress': {
        const kind = row.type === 'delete' ? 'delete' : 'suppress';
        const hashes = row.workingIdentifiers.map(([type, value]) => this.hasher.hash(type, value));
        const added = await this.suppressions.add(hashes, kind, row.id);
        return { status: 'done', detail: `${hashes.length} identifiers on the suppression list (${added} new)` };
      }
      case 'erase': {
        if (!row.profileId) return { status: 'skipped', detail: 'nothing held' };
        const counts = await this.erasure.erase(this.person(row), row.id);
        return { status: 'done', detail: describeCounts(counts) };
      }
      case 'remove-from-destinations':
        return this.removeEverywhere(row, row.type === 'delete' ? 'delete' : 'suppress');
      case 'delete-at-destinations': {
        const holdings = this.holdings.get();
        if (!holdings) return { status: 'skipped', detail: NOT_INSTALLED };
        if (!row.profileId) return { status: 'skipped', detail: 'nothing held' };
        const erasures = await holdings.deleteAtDestinations(row.profileId);
        const failed = erasures.filter((e) => e.status === 'failed');
        if (failed.length > 0)
          return {
            status: 'waiting',
            detail: `${failed.length} destination deletions failed; retrying`,
            waitingOn: failed.map((e) => `${e.connector} destination ${e.destinationId}: ${e.error ?? 'failed'}`),
          };
        const done = erasures.filter((e) => e.status === 'done').length;
        return {
          status: 'done',
          detail: `deleted at ${done} destinations; ${erasures.length - done} without a delete capability`,
        };
      }
      case 'erase-ledger': {
        const holdings = this.holdings.get();
        if (!holdings) return { status: 'skipped', detail: NOT_INSTALLED };
        if (!row.profileId) return { status: 'skipped', detail: 'nothing held' };
        const erased = await holdings.eraseMember(row.profileId);
        return { status: 'done', detail: `${erased} ledger member rows erased` };
      }
      case 'verify': {
        const again = await this.erasure.holders(this.person(row));
        if (again.length === 0) return { status: 'done', detail: 'no identifier of the person is held' };
        // Re-created by an ingestion that passed the suppression check before it was written: erase again.
        await this.erasure.erase({ ...this.person(row), profileId: again[0], profileIds: again }, row.id);
        return { status: 'done', detail: `${again.length} profiles re-created meanwhile were erased too` };
      }
      case 'freeze': {
        if (!row.profileId) return { status: 'skipped', detail: 'nothing held' };
        await this.suppressions.freeze(row.profileId, row.id);
        return { status: 'done', detail: 'profile frozen: kept, not collected, not activated' };
      }
      case 'unsuppress': {
        // Lifts whole suppress requests: every identifier they listed, by any one of them.
        const hashes = row.workingIdentifiers.map(([type, value]) => this.hasher.hash(type, value));
        const lifted = await this.suppressions.lift(hashes);
        const unfrozen = row.profileId ? await this.suppressions.unfreeze(row.profileId) : false;
        const thawed = [...new Set([...lifted.profileIds, ...(unfrozen && row.profileId ? [row.profileId] : [])])];
        // Eligible again: activation re-checks them, so the platforms of their audiences get them back.
        const activations = thawed.length > 0 ? ((await this.holdings.get()?.recheck(thawed)) ?? 0) : 0;
        return {
          status: 'done',
          detail:
            `${lifted.hashes} identifiers of ${lifted.requests} suppress requests taken off the suppression list` +
            (thawed.length > 0 ? `; profile unfrozen (re-checked in ${activations} activations)` : ''),
        };
      }
      case 'export': {
        const document = await this.exporter.document(this.person(row), row);
        const bytes = Buffer.byteLength(JSON.stringify(document));
        await this.requests.update(row.id, { result: { document, bytes } });
        return { status: 'done', detail: `${bytes} bytes` };
      }
    }
  }

  private async resolve(row: PrivacyRequestRow): Promise<StepOutcome> {
    const type = row.identifierType;
    const value = row.identifierValue;
    if (value === null) throw new Error('the request no longer holds its identifier');
    const requested: Array<[string, string]> = [[type, value]];
    if (type === 'email') requested.push(['email_sha256', emailSha256(value)]);
    const holder = await this.profiles.findIdByIdentifier(type, value);
    const live = holder ? await this.profiles.live(holder) : undefined;
    const person = await this.erasure.person(live?.id ?? null, requested);
    await this.requests.update(row.id, { profileId: person.profileId, workingIdentifiers: person.identifiers });
    row.profileId = person.profileId;
    row.workingIdentifiers = person.identifiers;
    if (!person.profileId) {
      await this.requests.update(row.id, { note: 'nothing held' });
      return { status: 'done', detail: 'nothing held' };
    }
    return {
      status: 'done',
      detail: `profile found (${person.profileIds.length} merged records, ${person.identifiers.length} identifiers)`,
    };
  }

  private async removeEverywhere(row: PrivacyRequestRow, reason: RemovalReason): Promise<StepOutcome> {
    const holdings = this.holdings.get();
    if (!holdings) return { status: 'skipped', detail: NOT_INSTALLED };
    if (!row.profileId) return { status: 'skipped', detail: 'nothing held' };
    let held = await holdings.heldBy(row.profileId);
    if (held.length === 0) return { status: 'done', detail: 'no destination holds the person (any more)' };
    await holdings.removeEverywhere([row.profileId], reason);
    held = await holdings.heldBy(row.profileId);
    if (held.length === 0) return { status: 'done', detail: 'removed from every destination' };
    return {
      status: 'waiting',
      detail: `${held.length} destinations have not confirmed the removal`,
      waitingOn: held.map(describeHolding),
    };
  }
}

function describeCounts(counts: Record<string, number>): string {
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([table, n]) => `${table} ${n}`);
  return parts.length > 0 ? `erased: ${parts.join(', ')}` : 'nothing left to erase';
}
