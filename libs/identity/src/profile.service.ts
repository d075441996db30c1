import { randomUUID } from 'node:crypto';
import { Injectable, Optional } from '@nestjs/common';
import { ConflictError, InvalidInputError, NotFoundError } from '@plexus/errors';
import type { Kysely } from 'kysely';
import { isIdentifierType, type Identifier, type IdentifierType, type TraitValue } from '@plexus/sdk';
import { dictionary, identifierKey, normalizeIdentifier } from '@plexus/profile';
import {
  Database,
  IdentityGraphRepository,
  ProfileRepository,
  type EventRow,
  type FlagListRow,
  type IdentifierRow,
  type MergeRow,
  type ObservationRow,
  type ProfileRow,
  type SeparationRow,
  type StoredConsent,
  type StoredTrait,
  type Tables,
  ProfileChangeRepository,
} from '@plexus/storage';
import { IdentityGraph } from './identity-graph.js';
import { lockBucket } from './identity-resolver.service.js';
import { CompiledRules, type IdentityRules } from './identity-rules.js';
import { IdentityRulesService } from './identity-rules.service.js';
import { IdentityMetrics } from './identity.metrics.js';
import { inRetriedTransaction } from './ingest.service.js';
import { ProfileChanges } from './profile-changes.js';
import { foldConsent, foldTraits, visibleTraits } from './trait-merge.js';

export interface ProfileView {
  id: string;
  createdAt: Date;
  updatedAt: Date;
  /** Present when the id asked for was merged into this profile. */
  redirectedFrom?: string;
  identifiers: Array<{ type: string; value: string; sourceId: string; firstSeen: Date; lastSeen: Date }>;
  traits: ReturnType<typeof visibleTraits>;
  consent: Record<string, { granted: boolean; sourceId: string; observedAt: Date }>;
  recentEvents: EventRow[];
}

export interface HistoryEntry {
  kind: 'created' | 'merge';
  at: Date;
  mergeId?: number;
  winner?: string;
  loser?: string;
  causedBy?: Array<{ type: string; value: string; profileId?: string }>;
  sourceId?: string | null;
  runId?: string | null;
  observationId?: number | null;
  undoneAt?: Date | null;
  undoNote?: string | null;
}

export interface UnmergeResult {
  mergeId: number;
  /** The profiles the records were re-resolved into; the first keeps the original id, the second the loser's. */
  profiles: string[];
  /**
   * The identifiers that caused the merge, winner's side first: no profile holds both sides again, so the
   * split holds. Each identifier keeps finding its own profile and merging anything else.
   */
  separated: [Identifier[], Identifier[]];
}

export interface DryRunReport {
  observations: number;
  /** Current profiles whose records would be spread over several profiles. */
  wouldSplit: Array<{ profileId: string; into: number }>;
  /** Groups of current profiles whose records would end up in one profile. */
  wouldMerge: Array<{ profileIds: string[] }>;
  splitCount: number;
  mergeCount: number;
}

export class ProfileNotFoundError extends NotFoundError {}
export class UnmergeConflictError extends ConflictError {}
export class DryRunTooLargeError extends InvalidInputError {}

/** Observations a dry run replays at most; above it, test rules on a copy of the data. */
export const DRY_RUN_MAX_OBSERVATIONS = 500_000;

/**
 * Re-resolves stored observations in order with `rules`: the one algorithm, replayed. `held` identifiers do not
 * merge; `separations` keep the sides of undone merges apart.
 */
export function replayObservations(
  observations: ObservationRow[],
  rules: CompiledRules,
  held: Set<string> = new Set(),
  separations: SeparationRow[] = [],
): { graph: IdentityGraph; assignment: Map<number, string> } {
  let clock = 0;
  const graph = new IdentityGraph(rules, randomUUID, () => clock++);
  for (const key of held) graph.flagged.add(key);
  for (const s of separations) graph.addSeparation(`${s.type}:${s.value}`, s.mergeId, s.side);
  const assignment = new Map<number, string>();
  for (const o of observations) {
    const identifiers = o.identifiers
      .filter(([type, value]) => isIdentifierType(type) && !rules.isBlocked(type, value))
      .map(([type, value]) => ({ type: type as IdentifierType, value }));
    if (identifiers.length === 0) continue;
    assignment.set(o.id, graph.resolve(identifiers, o.observedAt.getTime()).profileId);
  }
  for (const [id, profile] of assignment) assignment.set(id, graph.live(profile));
  return { graph, assignment };
}

/** The distinct identifiers a merge's cause found on `profileId` (one of its sides). */
function causeOn(causedBy: MergeRow['causedBy'], profileId: string): Identifier[] {
  const out = new Map<string, Identifier>();
  for (const c of causedBy)
    if (c.profileId === profileId && isIdentifierType(c.type))
      out.set(`${c.type}:${c.value}`, { type: c.type, value: c.value });
  return [...out.values()];
}

/** Profiles as admins see them, their events and history; unmerge; rule dry runs. */
@Injectable()
export class ProfileService {
  constructor(
    private readonly database: Database,
    private readonly profiles: ProfileRepository,
    private readonly graphs: IdentityGraphRepository,
    private readonly rulesService: IdentityRulesService,
    @Optional() changes?: ProfileChanges,
    @Optional() private readonly metrics?: IdentityMetrics,
  ) {
    this.changes = changes ?? new ProfileChanges(new ProfileChangeRepository(database));
  }
  private readonly changes: ProfileChanges;

  async get(id: string): Promise<ProfileView | undefined> {
    const row = await this.profiles.live(id);
    if (!row) return undefined;
    const [identifiers] = await Promise.all([this.profiles.identifiersOf([row.id])]);
    const view = this.toView(row, identifiers, await this.profiles.events(row.id, 10));
    if (row.id !== id) view.redirectedFrom = id;
    return view;
  }

  private toView(row: ProfileRow, identifiers: IdentifierRow[], events: EventRow[]): ProfileView {
    const consent: ProfileView['consent'] = dictionary();
    for (const [purpose, c] of Object.entries(row.consent))
      consent[purpose] = { granted: c.g, sourceId: c.s, observedAt: new Date(c.t) };
    return {
      id: row.id,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
      identifiers: identifiers.map((i) => ({
        type: i.type,
        value: i.value,
        sourceId: i.sourceId,
        firstSeen: i.firstSeen,
        lastSeen: i.lastSeen,
      })),
      traits: visibleTraits(row.traits, Date.now()),
      consent,
      recentEvents: events,
    };
  }

  /**
   * Finds the profile holding an identifier, normalised exactly as ingest does (`Alice@Example.com ` finds
   * `alice@example.com`). Returns undefined for unknown or invalid values.
   */
  async findByIdentifier(type: IdentifierType, value: string, country?: string): Promise<ProfileView | undefined> {
    const normalized = normalizeIdentifier({ type, value }, { country });
    if (!normalized.ok) return undefined;
    const id = await this.profiles.findIdByIdentifier(normalized.identifier.type, normalized.identifier.value);
    return id ? this.get(id) : undefined;
  }

  async list(limit: number, after?: string): Promise<ProfileRow[]> {
    return this.profiles.page(limit, after);
  }

  /** Every live profile with its identifiers and traits, read page by page (constant memory). */
  async *exportAll(pageSize = 500): AsyncGenerator<Pick<ProfileView, 'id' | 'createdAt' | 'identifiers' | 'traits'>> {
    let after: string | undefined;
    for (;;) {
      const rows = await this.profiles.page(pageSize, after);
      if (rows.length === 0) return;
      const identifiers = await this.profiles.identifiersOf(rows.map((r) => r.id));
      const byProfile = new Map<string, IdentifierRow[]>();
      for (const i of identifiers) {
        const list = byProfile.get(i.profileId) ?? [];
        list.push(i);
        byProfile.set(i.profileId, list);
      }
      for (const row of rows) {
        const view = this.toView(row, byProfile.get(row.id) ?? [], []);
        yield { id: view.id, createdAt: view.createdAt, identifiers: view.identifiers, traits: view.traits };
      }
      after = rows[rows.length - 1].id;
      if (rows.length < pageSize) return;
    }
  }

  async events(profileId: string, limit: number, after?: { occurredAt: Date; id: number }): Promise<EventRow[]> {
    const row = await this.profiles.live(profileId);
    if (!row) throw new ProfileNotFoundError(`No profile ${profileId}`);
    return this.profiles.events(row.id, limit, after);
  }

  async history(profileId: string): Promise<HistoryEntry[]> {
    const row = await this.profiles.get(profileId);
    if (!row) throw new ProfileNotFoundError(`No profile ${profileId}`);
    const merges: MergeRow[] = await this.profiles.mergeHistory(profileId);
    const entries: HistoryEntry[] = [{ kind: 'created', at: row.createdAt }];
    const first = await this.profiles.firstObservation([profileId]);
    if (first) entries[0].sourceId = first.sourceId;
    for (const m of merges)
      entries.push({
        kind: 'merge',
        at: m.mergedAt,
        mergeId: m.id,
        winner: m.winner,
        loser: m.loser,
        causedBy: m.causedBy,
        sourceId: m.sourceId,
        runId: m.runId,
        observationId: m.observationId,
        undoneAt: m.undoneAt,
        undoNote: m.undoNote,
      });
    return entries;
  }

  async flags(limit: number, after?: string): Promise<FlagListRow[]> {
    return this.profiles.flagged(limit, after);
  }

  /**
   * Splits a merge back to the graph before it. The identifiers that caused the merge are recorded as two
   * sides kept apart (a separation), then every record of the profile is re-resolved in order: the records end
   * in separate profiles again, with their own identifiers, traits, consent and events, and a record that
   * bridged both sides attaches to one of them without its lowest-priority bridging identifier. The same
   * separation holds for later records. The merge is marked undone in the history.
   */
  async unmerge(profileId: string, mergeId?: number): Promise<UnmergeResult> {
    const rules = await this.rulesService.compiled();
    const result = await inRetriedTransaction(this.database, async (trx) => {
      const profile = await this.profiles.get(profileId, trx);
      if (!profile) throw new ProfileNotFoundError(`No profile ${profileId}`);
      if (profile.mergedInto)
        throw new UnmergeConflictError(`Profile ${profileId} was merged into ${profile.mergedInto}; unmerge that one`);
      const merge =
        mergeId !== undefined
          ? await this.profiles.merge(trx, mergeId)
          : await this.profiles.latestMergeInto(trx, profileId);
      if (!merge || merge.winner !== profileId)
        throw new UnmergeConflictError(
          mergeId !== undefined
            ? `Merge ${mergeId} did not merge into ${profileId}`
            : `Profile ${profileId} has no merge to undo`,
        );
      if (merge.undoneAt) throw new UnmergeConflictError(`Merge ${merge.id} was already undone`);
      const sides: [Identifier[], Identifier[]] = [
        causeOn(merge.causedBy, merge.winner),
        causeOn(merge.causedBy, merge.loser),
      ];
      if (sides[0].length === 0 || sides[1].length === 0)
        throw new UnmergeConflictError(`Merge ${merge.id} has no recorded cause on both sides`);
      const separation: SeparationRow[] = sides.flatMap((side, i) =>
        side.map((id) => ({ type: id.type, value: id.value, mergeId: merge.id, side: i as 0 | 1 })),
      );

      // Same lock order as ingest: identifier buckets first, then profile rows.
      const before = await this.profiles.identifiersOf([profileId], trx);
      await this.graphs.lockBuckets(
        trx,
        before.map((i) => lockBucket(`${i.type}:${i.value}`)),
      );
      await this.graphs.lockProfiles(trx, [profileId, merge.loser]);
      const current = await this.profiles.identifiersOf([profileId], trx);
      const owned = new Map(current.map((i) => [`${i.type}:${i.value}`, i]));
      const observations = await this.profiles.observations(trx, { profileId, limit: 1_000_000 });

      // Identifiers that moved on to other profiles since are not this profile's to re-resolve.
      const own = observations.map((o) => ({
        ...o,
        identifiers: o.identifiers.filter(([t, v]) => owned.has(`${t}:${v}`)),
      }));
      const known = await this.graphs.separations(trx, {
        types: current.map((i) => i.type),
        values: current.map((i) => i.value),
      });
      const { graph, assignment } = replayObservations(own, rules, new Set(), [...known, ...separation]);
      const groups = new Map<string, number[]>();
      for (const o of own) {
        const g = assignment.get(o.id);
        if (g === undefined) continue;
        const list = groups.get(g) ?? [];
        list.push(o.id);
        groups.set(g, list);
      }
      // The group holding the winner's side keeps the winner's id, the one holding the loser's side the loser's.
      const groupOf = (side: Identifier[]): string | undefined => {
        for (const identifier of side) {
          const owner = graph.owner.get(identifierKey(identifier));
          if (owner !== undefined) return graph.live(owner);
        }
        return undefined;
      };
      const winnerGroup = groupOf(sides[0]);
      const loserGroup = groupOf(sides[1]);
      if (!winnerGroup || !loserGroup || winnerGroup === loserGroup || groups.size < 2)
        throw new UnmergeConflictError(`Merge ${merge.id} cannot be split: other records also link these profiles`);
      const ordered = [...groups.entries()].sort(
        (a, b) =>
          Number(b[0] === winnerGroup) - Number(a[0] === winnerGroup) ||
          Number(b[0] === loserGroup) - Number(a[0] === loserGroup) ||
          a[1][0] - b[1][0],
      );
      const ids = ordered.map((_, i) => (i === 0 ? profileId : i === 1 ? merge.loser : randomUUID()));
      const newId = new Map(ordered.map(([g], i) => [g, ids[i]]));

      // Traits and consent rebuilt from each group's own observations.
      const byId = new Map(own.map((o) => [o.id, o]));
      const traitSets = ordered.map(([, obs]) => {
        const traits = dictionary<StoredTrait>();
        const consent = dictionary<StoredConsent>();
        for (const id of obs) {
          const o = byId.get(id)!;
          foldTraits(
            traits,
            (o.traits ?? {}) as Record<string, TraitValue>,
            o.sourceId,
            o.observedAt.getTime(),
            o.traitExpiry ?? {},
            rules.rules.traitSourcePriority,
          );
          foldConsent(consent, o.consent ?? {}, o.sourceId, o.observedAt.getTime());
        }
        return { traits, consent };
      });

      await this.profiles.deleteLinksOf(trx, profileId, [merge.loser]);
      const links: Parameters<IdentityGraphRepository['write']>[1]['links'] = [];
      for (const [key, row] of owned) {
        // An identifier no replayed record kept (every record holding it dropped it) stays where it was.
        const owner = graph.owner.get(key);
        links.push({
          type: row.type,
          value: row.value,
          profileId: owner === undefined ? profileId : (newId.get(graph.live(owner)) ?? profileId),
          sourceId: row.sourceId,
          seen: owner === undefined ? row.lastSeen : new Date(graph.lastSeen.get(key) ?? row.lastSeen.getTime()),
        });
      }
      const loserRow = await this.profiles.get(merge.loser, trx);
      const kept = loserRow ? 2 : 1;
      await this.graphs.write(trx, {
        newProfiles: ids.slice(kept).map((id, i) => ({
          id,
          createdAt: new Date(),
          mergedInto: null,
          traits: traitSets[i + kept].traits,
          consent: traitSets[i + kept].consent,
        })),
        updatedProfiles: ids
          .slice(0, kept)
          .map((id, i) => ({ id, mergedInto: null, traits: traitSets[i].traits, consent: traitSets[i].consent })),
        moves: [],
        links,
        detach: [],
        observations: [],
        events: [],
        merges: [],
        flags: [],
      });
      await this.graphs.addSeparations(trx, separation);
      const obsIds: number[] = [];
      const obsProfiles: string[] = [];
      for (const [g, list] of ordered)
        for (const id of list) {
          obsIds.push(id);
          obsProfiles.push(newId.get(g)!);
        }
      await this.profiles.reassignObservations(trx, obsIds, obsProfiles);
      await this.profiles.markMergeUndone(trx, merge.id, `split into ${ids.join(', ')}`);
      await this.changes.record(trx, ids);
      return { mergeId: merge.id, profiles: ids, separated: sides };
    });
    this.metrics?.unmerges?.inc();
    await this.changes.committed({ profileIds: result.profiles, cause: 'unmerge' });
    return result;
  }

  /**
   * What proposed rules would change: replays every stored observation with them and compares the result
   * with today's profiles. Nothing is written.
   */
  async dryRun(proposed: IdentityRules, db: Kysely<Tables> = this.database.db): Promise<DryRunReport> {
    const rules = new CompiledRules(proposed);
    const observations: ObservationRow[] = [];
    for (let after = 0; ;) {
      const page = await this.profiles.observations(db, { afterId: after, limit: 10_000 });
      observations.push(...page);
      if (observations.length > DRY_RUN_MAX_OBSERVATIONS)
        throw new DryRunTooLargeError(`More than ${DRY_RUN_MAX_OBSERVATIONS} records: too many to replay in a dry run`);
      if (page.length < 10_000) break;
      after = page[page.length - 1].id;
    }
    const held = new Set(
      (await this.profiles.flagged(100_000))
        .filter((f) => f.reason?.startsWith('held'))
        .map((f) => `${f.type}:${f.value}`),
    );
    const { assignment } = replayObservations(observations, rules, held, await this.graphs.separations(db));
    const currentToNew = new Map<string, Set<string>>();
    const newToCurrent = new Map<string, Set<string>>();
    for (const o of observations) {
      const replayed = assignment.get(o.id) ?? `(dropped ${o.id})`;
      const a = currentToNew.get(o.profileId) ?? new Set<string>();
      a.add(replayed);
      currentToNew.set(o.profileId, a);
      const b = newToCurrent.get(replayed) ?? new Set<string>();
      b.add(o.profileId);
      newToCurrent.set(replayed, b);
    }
    const wouldSplit = [...currentToNew]
      .filter(([, s]) => s.size > 1)
      .map(([profileId, s]) => ({ profileId, into: s.size }));
    const wouldMerge = [...newToCurrent.values()].filter((s) => s.size > 1).map((s) => ({ profileIds: [...s].sort() }));
    return {
      observations: observations.length,
      wouldSplit: wouldSplit.slice(0, 100),
      wouldMerge: wouldMerge.slice(0, 100),
      splitCount: wouldSplit.length,
      mergeCount: wouldMerge.length,
    };
  }
}
