import { Injectable } from '@nestjs/common';
import type { Kysely } from 'kysely';
import type { Identifier, IdentifierType } from '@plexus/sdk';
import {
  dictionary,
  identifierKey,
  toDictionary,
  type DroppedIdentifier,
  type NormalizedRecord,
} from '@plexus/profile';
import {
  IDENTIFIER_LOCK_BUCKETS,
  IdentityGraphRepository,
  type GraphChanges,
  type LockedProfile,
  type StoredConsent,
  type StoredTrait,
  type Tables,
} from '@plexus/storage';
import { IdentityGraph, type MergeEvent } from './identity-graph.js';
import type { CompiledRules } from './identity-rules.js';
import { newProfileId } from './profile-id.js';
import { foldConsent, foldTraits, mergeConsent, mergeTraits } from './trait-merge.js';

export interface BatchMeta {
  sourceId: string;
  runId?: string;
}

export interface ResolvedRecord {
  profileId: string;
  dropped: DroppedIdentifier[];
}

export interface BatchResolution {
  records: ResolvedRecord[];
  profilesCreated: number;
  merges: number;
  /** Stored profiles merged into others by this batch. */
  mergedAway?: string[];
  /**
   * What the batch changed, for whatever reacts to profile changes once it commits: every live profile a
   * record landed in (created, extended or merged into), and each merge as a winner/loser pair.
   */
  changed: { profileIds: string[]; merges: Array<{ winner: string; loser: string }> };
}

/** FNV-1a: a fast, stable hash of an identifier key to its lock bucket. */
export function lockBucket(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % IDENTIFIER_LOCK_BUCKETS;
}

/** last_seen only moves forward in steps of this much, so re-seeing an identifier rarely costs a write. */
const LAST_SEEN_RESOLUTION_MS = 86_400_000;

function hasKeys(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

const parseKey = (type: string, value: string): Identifier => ({ type: type as IdentifierType, value });

/**
 * Resolves a batch of normalised records against the stored graph inside the caller's transaction, with a
 * fixed number of statements: lock the identifiers' buckets, look them up in bulk, lock and load the profiles
 * they lead to, resolve record by record in memory, then write the differences in bulk.
 */
@Injectable()
export class IdentityResolver {
  constructor(private readonly graphs: IdentityGraphRepository) {}

  async resolveBatch(
    trx: Kysely<Tables>,
    records: NormalizedRecord[],
    meta: BatchMeta,
    rules: CompiledRules,
  ): Promise<BatchResolution> {
    const keys = new Map<string, Identifier>();
    for (const r of records) for (const i of r.identifiers) keys.set(identifierKey(i), i);
    // What the observations store of each record does not depend on the resolution: serialise it before taking
    // the locks, so concurrent batches wait less.
    const observed = records.map((record) => ({
      identifiers: JSON.stringify(record.identifiers.map((i) => [i.type, i.value])),
      traits: hasKeys(record.traits) ? JSON.stringify(record.traits) : null,
      traitExpiry: hasKeys(record.traitExpiry)
        ? JSON.stringify(Object.fromEntries(Object.entries(record.traitExpiry).map(([k, d]) => [k, d.getTime()])))
        : null,
      consent: hasKeys(record.consent) ? JSON.stringify(record.consent) : null,
    }));
    // Sorted, so the index probes of the lookups walk the primary key in order.
    const batchIds = [...keys.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, i]) => i);
    const types = batchIds.map((i) => i.type);
    const values = batchIds.map((i) => i.value);
    await this.graphs.lockBuckets(trx, [...keys.keys()].map(lockBucket));

    // Look up and lock what was found, in one statement. A profile merged away by a transaction that committed
    // in between shows up as merged_into: look again (its identifiers moved).
    const locked = new Map<string, LockedProfile>();
    for (let attempt = 0; ; attempt++) {
      let moved = false;
      for (const p of await this.graphs.lookupAndLock(trx, types, values)) {
        if (p.mergedInto && !locked.get(p.id)?.mergedInto) moved = true;
        locked.set(p.id, p);
      }
      if (!moved) break;
      if (attempt > 20) throw new Error('identity graph kept changing under the batch');
    }
    const live = [...locked.values()].filter((p) => !p.mergedInto);
    const {
      links: profileLinks,
      flags,
      separations,
    } = await this.graphs.graphOf(
      trx,
      live.map((p) => p.id),
      types,
      values,
    );

    const now = Date.now();
    let clock = now;
    const graph = new IdentityGraph(
      rules,
      () => newProfileId(),
      () => clock++,
    );
    const traits = new Map<string, Record<string, StoredTrait>>();
    const consent = new Map<string, Record<string, StoredConsent>>();
    const before = new Map<string, string>();
    for (const p of live) {
      graph.addProfile(p.id, p.createdAt.getTime());
      traits.set(p.id, toDictionary(p.traits));
      consent.set(p.id, toDictionary(p.consent));
      before.set(p.id, JSON.stringify([p.traits, p.consent]));
    }
    const stored = new Map<string, { profileId: string; lastSeen: number }>();
    for (const l of profileLinks) {
      graph.addLink(parseKey(l.type, l.value), l.profileId, l.lastSeen);
      stored.set(`${l.type}:${l.value}`, { profileId: l.profileId, lastSeen: l.lastSeen });
    }
    for (const f of flags) {
      const key = `${f.type}:${f.value}`;
      if (f.flagged) graph.flagged.add(key);
      graph.seenWith.set(key, new Set(f.people));
    }
    for (const s of separations) graph.addSeparation(`${s.type}:${s.value}`, s.mergeId, s.side);

    const resolved: ResolvedRecord[] = [];
    const mergesByRecord: Array<{ index: number; merge: MergeEvent }> = [];
    const touchedProfiles = new Set<string>();
    records.forEach((record, index) => {
      const observedAt = record.observedAt.getTime();
      const result = graph.resolve(record.identifiers, observedAt);
      for (const merge of result.merges) {
        mergesByRecord.push({ index, merge });
        const into = traits.get(merge.winner) ?? dictionary();
        const intoConsent = consent.get(merge.winner) ?? dictionary();
        for (const loser of merge.losers) {
          mergeTraits(into, traits.get(loser) ?? dictionary(), rules.rules.traitSourcePriority);
          mergeConsent(intoConsent, consent.get(loser) ?? dictionary());
          traits.set(loser, dictionary());
          consent.set(loser, dictionary());
          touchedProfiles.add(loser);
        }
        traits.set(merge.winner, into);
        consent.set(merge.winner, intoConsent);
      }
      const t = traits.get(result.profileId) ?? dictionary();
      const expiry = dictionary<number>();
      for (const [name, at] of Object.entries(record.traitExpiry)) expiry[name] = at.getTime();
      foldTraits(t, record.traits, meta.sourceId, observedAt, expiry, rules.rules.traitSourcePriority);
      traits.set(result.profileId, t);
      const c = consent.get(result.profileId) ?? dictionary();
      foldConsent(c, record.consent, meta.sourceId, observedAt);
      consent.set(result.profileId, c);
      touchedProfiles.add(result.profileId);
      resolved.push({ profileId: result.profileId, dropped: result.dropped });
    });

    const eventCount = records.reduce((n, r) => n + r.events.length, 0);
    const observationIds = eventCount > 0 ? await this.graphs.reserveObservationIds(trx, records.length) : [];
    const changes: GraphChanges = {
      newProfiles: [],
      updatedProfiles: [],
      moves: [],
      links: [],
      detach: [],
      observations: [],
      events: [],
      merges: [],
      flags: [],
    };
    let profilesCreated = 0;
    for (const p of graph.profiles.values()) {
      const mergedInto = graph.mergedInto.has(p.id) ? graph.live(p.id) : null;
      if (p.isNew) {
        if (!mergedInto) profilesCreated++;
        changes.newProfiles.push({
          id: p.id,
          createdAt: new Date(p.createdAt),
          mergedInto,
          traits: traits.get(p.id) ?? {},
          consent: consent.get(p.id) ?? {},
        });
      } else if (touchedProfiles.has(p.id)) {
        const t = traits.get(p.id) ?? {};
        const c = consent.get(p.id) ?? {};
        // Attaching a known identifier changes nothing on the profile row: skip the write.
        if (mergedInto || before.get(p.id) !== JSON.stringify([t, c]))
          changes.updatedProfiles.push({ id: p.id, mergedInto, traits: t, consent: c });
        if (mergedInto) changes.moves.push({ loser: p.id, winner: mergedInto });
      }
    }
    for (const key of graph.touched) {
      const owner = graph.owner.get(key)!;
      const identifier = keys.get(key)!;
      const was = stored.get(key);
      // Same profile and seen again within a day: last_seen is precise enough for time-to-live, skip the write.
      if (
        was &&
        was.profileId === graph.live(owner) &&
        graph.lastSeen.get(key)! - was.lastSeen < LAST_SEEN_RESOLUTION_MS
      )
        continue;
      changes.links.push({
        type: identifier.type,
        value: identifier.value,
        profileId: graph.live(owner),
        sourceId: meta.sourceId,
        seen: new Date(graph.lastSeen.get(key)!),
        // Every stored identifier of the batch is in `stored` (its profile is locked and loaded), and the bucket
        // lock keeps other writers off the key until commit.
        isNew: was === undefined,
      });
    }
    records.forEach((record, index) => {
      const profileId = graph.live(resolved[index].profileId);
      resolved[index].profileId = profileId;
      const observationId = observationIds[index] ?? null;
      changes.observations.push({
        id: observationId,
        profileId,
        sourceId: meta.sourceId,
        runId: meta.runId ?? null,
        observedAt: record.observedAt,
        ...observed[index],
      });
      for (const e of record.events)
        changes.events.push({
          profileId,
          observationId,
          sourceId: meta.sourceId,
          eventId: e.id ?? null,
          name: e.name,
          occurredAt: e.occurredAt,
          properties: JSON.stringify(e.properties),
        });
    });
    for (const { index, merge } of mergesByRecord)
      for (const loser of merge.losers)
        changes.merges.push({
          winner: merge.winner,
          loser,
          causedBy: JSON.stringify(merge.causedBy),
          observationId: observationIds[index] ?? null,
          sourceId: meta.sourceId,
          runId: meta.runId ?? null,
        });
    for (const key of graph.touchedFlags) {
      const identifier = keys.get(key) ?? parseKey(key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1));
      const flagged = graph.flagged.has(key);
      changes.flags.push({
        type: identifier.type,
        value: identifier.value,
        people: [...(graph.seenWith.get(key) ?? [])],
        flagged,
        reason: flagged ? `seen with more than ${rules.rules.superNode.maxPeople} people` : null,
      });
    }
    await this.graphs.write(trx, changes);
    return {
      records: resolved,
      profilesCreated,
      merges: changes.merges.length,
      mergedAway: changes.moves.map((m) => m.loser),
      changed: {
        profileIds: [...new Set(resolved.map((r) => r.profileId))],
        merges: changes.merges.map((m) => ({ winner: graph.live(m.winner), loser: m.loser })),
      },
    };
  }
}
