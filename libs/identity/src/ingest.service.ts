import { Injectable, Logger, Optional } from '@nestjs/common';
import type { Kysely } from 'kysely';
import type { Identifier, ProfileRecord } from '@plexus/sdk';
import {
  identifierKey,
  normalizeIdentifier,
  normalizeRecord,
  PhoneNormalizer,
  type DroppedIdentifier,
  type NormalizedRecord,
} from '@plexus/profile';
import {
  Database,
  IdentityFingerprintRepository,
  IdentityGraphRepository,
  ProfileChangeRepository,
  type Tables,
} from '@plexus/storage';
import { IdentityResolver, lockBucket } from './identity-resolver.service.js';
import { IdentityRulesService } from './identity-rules.service.js';
import { IdentityMetrics } from './identity.metrics.js';
import { IngestGate } from './ingest-gate.js';
import { ProfileChanges } from './profile-changes.js';
import { foldsToSame, hasObservedAt, recordFingerprint, rulesDigest, type RecordPrint } from './record-fingerprint.js';

export interface IngestMeta {
  sourceId: string;
  runId?: string;
  defaultCountry?: string;
  /**
   * Whether records go through the re-ingest fast path (default true): each record's fingerprint is compared with
   * the one its source delivered before, and written. Off for streams whose records are never delivered again as
   * a whole (the tracking API: every message is a new event, and a retried one is caught by its message id), which
   * would pay for a fingerprint, a read and a write per record and never skip one.
   */
  fingerprints?: boolean;
}

export interface IngestResult {
  /** Records stored (`unchanged` ones are not). */
  written: number;
  /**
   * Records skipped because the source delivered the very same record before and storing it again would change
   * nothing (the re-ingest fast path, see {@link IdentityFingerprintRepository}); their profile ids are in
   * `profileIds` like those of stored records.
   */
  unchanged: number;
  /** The positions of the `unchanged` records, ascending. */
  unchangedAt: number[];
  profilesCreated: number;
  merges: number;
  /** Aligned with the input records; null when rejected. */
  profileIds: (string | null)[];
  /** Records without a valid identifier; the caller quarantines them. */
  rejected: Array<{ index: number; reason: string }>;
  /** Identifiers refused or dropped from records that were stored (invalid, blocked, limits, guard). */
  dropped: Array<{ index: number; identifiers: DroppedIdentifier[] }>;
  /** Records skipped because their person is erased or suppressed (see {@link IngestGate}); not stored. */
  suppressed: number;
}

const RETRYABLE = new Set(['40001', '40P01', '23505']);
const MAX_ATTEMPTS = 8;

export function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRYABLE.has(code);
}

/** Runs `work` in a transaction, again from the start on serialisation failures, deadlocks and unique races. */
export async function inRetriedTransaction<T>(
  database: Database,
  work: (trx: Kysely<Tables>) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await database.db.transaction().execute(work);
    } catch (error) {
      if (!isRetryable(error) || attempt >= MAX_ATTEMPTS) throw error;
      await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
    }
  }
}

/** The fingerprints of the stored records, with the profile each resolved to. */
function storedPrints(
  prints: RecordPrint[],
  resolved: Array<{ profileId: string }>,
): Array<RecordPrint & { profileId: string }> {
  return resolved.map((r, i) => ({ ...prints[i], profileId: r.profileId }));
}

/** What `within` learns about the batch before it commits: the sync engine quarantines `rejected` in the same transaction. */
export interface IngestOutcome {
  written: number;
  rejected: IngestResult['rejected'];
  suppressed: number;
  unchanged: number;
}

/**
 * The one way records enter the profile store: normalise → resolve → store in one transaction, then the
 * caller's `within(trx)` (checkpoints, run stats) in that same transaction.
 */
@Injectable()
export class IngestService {
  private readonly logger = new Logger('Ingest');
  private readonly phones = new PhoneNormalizer();

  constructor(
    private readonly database: Database,
    private readonly rules: IdentityRulesService,
    private readonly resolver: IdentityResolver,
    private readonly graphs: IdentityGraphRepository,
    @Optional() changes?: ProfileChanges,
    @Optional() private readonly gate?: IngestGate,
    @Optional() private readonly metrics?: IdentityMetrics,
  ) {
    this.changes = changes ?? new ProfileChanges(new ProfileChangeRepository(database));
  }
  private readonly changes: ProfileChanges;
  private readonly fingerprints = new IdentityFingerprintRepository();

  async ingest(
    records: ProfileRecord[],
    meta: IngestMeta,
    within?: (trx: Kysely<Tables>, outcome: IngestOutcome) => Promise<void>,
  ): Promise<IngestResult> {
    const rules = await this.rules.compiled();
    const now = new Date();
    let accepted: NormalizedRecord[] = [];
    let acceptedIndex: number[] = [];
    const observedAtGiven: boolean[] = [];
    const rejected: IngestResult['rejected'] = [];
    const dropped: IngestResult['dropped'] = [];
    records.forEach((record, index) => {
      const result = normalizeRecord(record, {
        defaultCountry: meta.defaultCountry,
        isBlocked: rules.isBlocked,
        phones: this.phones,
        now,
      });
      if (!result.ok) {
        rejected.push({ index, reason: result.reason });
        return;
      }
      accepted.push(result.record);
      acceptedIndex.push(index);
      observedAtGiven.push(hasObservedAt(record.observedAt));
    });
    const profileIds: (string | null)[] = records.map(() => null);
    let suppressed = 0;
    if (this.gate && accepted.length > 0) {
      const refused = await this.gate.refused(accepted);
      if (refused.size > 0) {
        suppressed = refused.size;
        for (let i = accepted.length - 1; i >= 0; i--)
          if (refused.has(i)) {
            accepted.splice(i, 1);
            acceptedIndex.splice(i, 1);
            observedAtGiven.splice(i, 1);
          }
      }
    }
    // Re-ingest fast path: one read, before any lock, for the records the source delivered before unchanged.
    const fingerprinted = meta.fingerprints !== false;
    const digest = rulesDigest(rules);
    let prints = fingerprinted ? accepted.map((r, i) => recordFingerprint(r, observedAtGiven[i], digest)) : [];
    const skippable = prints.flatMap((p, i) => (p.skippable ? [i] : []));
    const same = new Map<number, string>();
    if (skippable.length > 0) {
      const matches = await this.fingerprints.matches(
        this.database.db,
        meta.sourceId,
        skippable.map((i) => prints[i]),
      );
      for (const [j, match] of matches)
        if (foldsToSame(accepted[skippable[j]], observedAtGiven[skippable[j]], match, meta.sourceId, rules))
          same.set(j, match.profileId);
    }
    const unchanged = same.size;
    const unchangedAt: number[] = [];
    if (unchanged > 0) {
      const skipped = new Set<number>();
      for (const [j, profileId] of same) {
        const i = skippable[j];
        skipped.add(i);
        unchangedAt.push(acceptedIndex[i]);
        profileIds[acceptedIndex[i]] = profileId;
        if (accepted[i].dropped.length > 0) dropped.push({ index: acceptedIndex[i], identifiers: accepted[i].dropped });
      }
      const keep = (_: unknown, i: number): boolean => !skipped.has(i);
      accepted = accepted.filter(keep);
      acceptedIndex = acceptedIndex.filter(keep);
      prints = prints.filter(keep);
      unchangedAt.sort((a, b) => a - b);
    }
    if (accepted.length === 0 && !within) {
      dropped.sort((a, b) => a.index - b.index);
      return {
        written: 0,
        unchanged,
        unchangedAt,
        profilesCreated: 0,
        merges: 0,
        profileIds,
        rejected,
        dropped,
        suppressed,
      };
    }
    const resolution = await inRetriedTransaction(this.database, async (trx) => {
      const result =
        accepted.length > 0
          ? await this.resolver.resolveBatch(trx, accepted, meta, rules)
          : { records: [], profilesCreated: 0, merges: 0, changed: { profileIds: [], merges: [] } };
      if (fingerprinted) await this.fingerprints.write(trx, meta.sourceId, storedPrints(prints, result.records));
      await this.changes.record(trx, [...(result.mergedAway ?? []), ...result.records.map((r) => r.profileId)]);
      if (within) await within(trx, { written: accepted.length, rejected, suppressed, unchanged });
      return result;
    });
    this.metrics?.profilesCreated?.inc(resolution.profilesCreated);
    this.metrics?.merges?.inc(resolution.merges);
    resolution.records.forEach((r, i) => {
      const index = acceptedIndex[i];
      profileIds[index] = r.profileId;
      const all = [...accepted[i].dropped, ...r.dropped];
      if (all.length > 0) dropped.push({ index, identifiers: all });
    });
    dropped.sort((a, b) => a.index - b.index);
    await this.changes.committed({
      profileIds: [...new Set([...(resolution.mergedAway ?? []), ...resolution.records.map((r) => r.profileId)])],
      cause: 'ingest',
    });
    if (dropped.length > 0)
      this.logger.debug(`${meta.sourceId}: dropped identifiers from ${dropped.length} of ${records.length} records`);
    return {
      written: accepted.length,
      unchanged,
      unchangedAt,
      profilesCreated: resolution.profilesCreated,
      merges: resolution.merges,
      profileIds,
      rejected,
      dropped,
      suppressed,
    };
  }

  /** Upstream deletes: detaches these identifiers from their profiles; returns how many were attached. */
  async forget(
    identifiers: Identifier[],
    meta: IngestMeta,
    within?: (trx: Kysely<Tables>) => Promise<void>,
  ): Promise<number> {
    const normalized = new Map<string, Identifier>();
    for (const i of identifiers) {
      const r = normalizeIdentifier(i, { country: meta.defaultCountry, phones: this.phones });
      if (r.ok) normalized.set(identifierKey(r.identifier), r.identifier);
    }
    const list = [...normalized.values()];
    const touched: string[] = [];
    const count = await inRetriedTransaction(this.database, async (trx) => {
      let count = 0;
      if (list.length > 0) {
        await this.graphs.lockBuckets(trx, [...normalized.keys()].map(lockBucket));
        const links = await this.graphs.lookup(
          trx,
          list.map((i) => i.type),
          list.map((i) => i.value),
        );
        await this.graphs.lockProfiles(trx, [...new Set(links.map((l) => l.profileId))]);
        await this.graphs.write(trx, {
          newProfiles: [],
          updatedProfiles: [],
          moves: [],
          links: [],
          detach: links.map((l) => ({ type: l.type, value: l.value })),
          observations: [],
          events: [],
          merges: [],
          flags: [],
        });
        count = links.length;
        touched.splice(0, touched.length, ...links.map((l) => l.profileId));
      }
      await this.changes.record(trx, touched);
      if (within) await within(trx);
      return count;
    });
    await this.changes.committed({ profileIds: [...new Set(touched)], cause: 'forget' });
    return count;
  }
}
