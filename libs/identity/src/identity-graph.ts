import type { Identifier, IdentifierType } from '@plexus/sdk';
import { externalIdNamespace, identifierKey, type DroppedIdentifier } from '@plexus/profile';
import { PERSON_TYPES, type CompiledRules } from './identity-rules.js';

const DAY_MS = 86_400_000;
const PERSON = new Set<IdentifierType>(PERSON_TYPES);
const NEW_PERSON = '(new person)';

/** A profile as the resolver sees it: when it was created and which identifiers it holds. */
export interface GraphProfile {
  id: string;
  createdAt: number;
  /** Identifier key → its identifier. */
  identifiers: Map<string, Identifier>;
  isNew: boolean;
}

/** One merge: `losers` were folded into `winner` because of `causedBy` (identifiers of one record). */
export interface MergeEvent {
  winner: string;
  losers: string[];
  causedBy: Array<Identifier & { profileId: string }>;
}

export interface RecordResolution {
  profileId: string;
  created: boolean;
  attached: Identifier[];
  dropped: DroppedIdentifier[];
  merges: MergeEvent[];
  /** Identifiers the super-node guard flagged while resolving this record. */
  flagged: Identifier[];
}

/** One side of what an unmerge keeps apart; the separation is named by the id of the merge it undid. */
export interface SeparationSide {
  mergeId: number;
  side: 0 | 1;
}

/**
 * The part of the identity graph one batch touches, in memory. Storage loads it (bulk lookups), the resolver
 * changes it record by record, and storage writes the differences back. The same class replays stored
 * observations for unmerge and for rule dry runs, so all three follow one algorithm.
 */
export class IdentityGraph {
  readonly owner = new Map<string, string>();
  readonly lastSeen = new Map<string, number>();
  readonly profiles = new Map<string, GraphProfile>();
  readonly mergedInto = new Map<string, string>();
  /** Identifiers the guard stopped from merging. */
  readonly flagged = new Set<string>();
  /** Guard-watched identifier → identified profiles seen with it. */
  readonly seenWith = new Map<string, Set<string>>();
  /** Identifiers whose link or last-seen changed: storage upserts these. */
  readonly touched = new Set<string>();
  readonly touchedFlags = new Set<string>();
  /** Identifier key → the separations it is on a side of (see {@link addSeparation}). */
  readonly separations = new Map<string, SeparationSide[]>();

  constructor(
    readonly rules: CompiledRules,
    private readonly newProfileId: () => string,
    private readonly clock: () => number = Date.now,
  ) {}

  addProfile(id: string, createdAt: number, isNew = false): GraphProfile {
    let profile = this.profiles.get(id);
    if (!profile) {
      profile = { id, createdAt, identifiers: new Map(), isNew };
      this.profiles.set(id, profile);
    }
    return profile;
  }

  addLink(identifier: Identifier, profileId: string, lastSeen: number): void {
    const key = identifierKey(identifier);
    this.owner.set(key, profileId);
    this.lastSeen.set(key, lastSeen);
    this.profiles.get(profileId)?.identifiers.set(key, identifier);
  }

  /**
   * Records that `identifier` is on one side of a separation (an undone merge): no profile may again hold
   * identifiers of both sides of it, so a record that would unite them loses its lowest-priority identifier
   * that brings one side in.
   */
  addSeparation(identifier: Identifier | string, mergeId: number, side: 0 | 1): void {
    const key = typeof identifier === 'string' ? identifier : identifierKey(identifier);
    const list = this.separations.get(key) ?? [];
    if (!list.some((s) => s.mergeId === mergeId && s.side === side)) list.push({ mergeId, side });
    this.separations.set(key, list);
  }

  /** The live profile a (possibly merged) profile id now belongs to. */
  live(profileId: string): string {
    let id = profileId;
    for (let next = this.mergedInto.get(id); next; next = this.mergedInto.get(id)) id = next;
    return id;
  }

  private expired(key: string, type: IdentifierType, at: number): boolean {
    const ttl = this.rules.rule(type).ttlDays;
    const seen = this.lastSeen.get(key);
    return ttl !== null && seen !== undefined && seen + ttl * DAY_MS < at;
  }

  private isIdentified(profile: GraphProfile | undefined): boolean {
    if (!profile) return false;
    for (const identifier of profile.identifiers.values()) if (PERSON.has(identifier.type)) return true;
    return false;
  }

  /** Counts per limit bucket (type, or `external_id:<source>:<object>`) over the live links of profiles + extra. */
  private violations(profileIds: string[], extra: Identifier[], at: number): Set<IdentifierType> {
    const values = new Map<string, Set<string>>();
    const bucketOf = (i: Identifier): string =>
      i.type === 'external_id' ? `external_id:${externalIdNamespace(i.value)}` : i.type;
    const add = (i: Identifier): void => {
      const bucket = bucketOf(i);
      let set = values.get(bucket);
      if (!set) values.set(bucket, (set = new Set()));
      set.add(i.value);
    };
    for (const id of profileIds)
      for (const [key, i] of this.profiles.get(id)?.identifiers ?? []) if (!this.expired(key, i.type, at)) add(i);
    for (const i of extra) add(i);
    const broken = new Set<IdentifierType>();
    for (const [bucket, set] of values) {
      const type = (bucket.startsWith('external_id:') ? 'external_id' : bucket) as IdentifierType;
      if (set.size > this.rules.rule(type).limit) broken.add(type);
    }
    return broken;
  }

  /**
   * The record identifier to drop because applying the record would put both sides of a separation in one
   * profile, or undefined. Each identifier brings in a unit — the target profile it links, or itself when it
   * is new — and a separation is broken when two different units carry its two sides. Two sides already held
   * by one profile (never written by Plexus itself) do not count, so dropping always converges.
   */
  private separationBreaker(
    working: Identifier[],
    targets: Set<string>,
    at: number,
  ): { identifier: Identifier; mergeId: number } | undefined {
    if (this.separations.size === 0) return undefined;
    const unitOf = new Map<Identifier, string>();
    for (const identifier of working) {
      const key = identifierKey(identifier);
      const owner = this.owner.get(key);
      const target = owner !== undefined && !this.expired(key, identifier.type, at) ? this.live(owner) : undefined;
      unitOf.set(identifier, target !== undefined && targets.has(target) ? target : `=${key}`);
    }
    const units = new Set(unitOf.values());
    if (units.size < 2) return undefined;
    // merge id → units carrying side 0, units carrying side 1
    const sides = new Map<number, [Set<string>, Set<string>]>();
    for (const unit of units) {
      const keys = unit.startsWith('=') ? [unit.slice(1)] : (this.profiles.get(unit)?.identifiers.keys() ?? []);
      for (const key of keys)
        for (const s of this.separations.get(key) ?? []) {
          let pair = sides.get(s.mergeId);
          if (!pair) sides.set(s.mergeId, (pair = [new Set(), new Set()]));
          pair[s.side].add(unit);
        }
    }
    const rank = (i: Identifier): number => this.rules.rank.get(i.type) ?? 99;
    for (const [mergeId, [a, b]] of sides) {
      if (a.size === 0 || b.size === 0 || (a.size === 1 && b.size === 1 && [...a][0] === [...b][0])) continue;
      // The record stays with the side its highest-priority identifier brings in (working is in priority
      // order); of the identifiers bringing the other side, the lowest-priority one goes first.
      const keep = unitOf.get(working.find((i) => a.has(unitOf.get(i)!) || b.has(unitOf.get(i)!))!)!;
      const other = new Set([...(a.has(keep) ? b : []), ...(b.has(keep) ? a : [])]);
      other.delete(keep);
      let worst: Identifier | undefined;
      for (const i of working) if (other.has(unitOf.get(i)!) && (!worst || rank(i) >= rank(worst))) worst = i;
      return { identifier: worst!, mergeId };
    }
    return undefined;
  }

  /**
   * Segment's algorithm for one record: look its identifiers up; none → new profile; one → attach; several →
   * merge into the oldest. When that would break a limit, drop the lowest-priority conflicting identifier and
   * try again. Identifiers that do not merge (by rule, or flagged by the guard) never unite profiles.
   */
  resolve(identifiers: Identifier[], observedAt: number): RecordResolution {
    const rank = (i: Identifier): number => this.rules.rank.get(i.type) ?? 99;
    let working = [...identifiers].sort((a, b) => rank(a) - rank(b));
    const dropped: DroppedIdentifier[] = [];
    const flagged: Identifier[] = [];
    const drop = (identifier: Identifier, reason: string): void => {
      working = working.filter((i) => i !== identifier);
      dropped.push({ ...identifier, reason });
    };
    for (;;) {
      if (working.length === 0) {
        // Every identifier conflicted: nothing can be attached. Cannot happen with at least one new identifier.
        throw new Error('resolution dropped every identifier');
      }
      const links: Array<{ identifier: Identifier; key: string; profileId: string }> = [];
      const superNode = working.find((i) => this.flagged.has(identifierKey(i)));
      if (superNode && working.some((i) => !this.flagged.has(identifierKey(i)))) {
        // A flagged identifier says nothing about who this is when the record has anything else: it neither
        // finds nor merges profiles. Alone, it still finds the profile that holds it.
        drop(superNode, `${superNode.type} is flagged as shared by several people`);
        continue;
      }
      for (const identifier of working) {
        const key = identifierKey(identifier);
        const owner = this.owner.get(key);
        if (owner !== undefined && !this.expired(key, identifier.type, observedAt))
          links.push({ identifier, key, profileId: this.live(owner) });
      }
      const mergeable = (l: (typeof links)[number]): boolean =>
        this.rules.rule(l.identifier.type).merges && !this.flagged.has(l.key);
      const strong = links.filter(mergeable);
      const targets = new Set(strong.map((l) => l.profileId));
      const weak = links.filter((l) => !mergeable(l));
      if (targets.size === 0 && weak.length > 0) targets.add(weak[0].profileId);
      const outside = weak.find((l) => !targets.has(l.profileId));
      if (outside) {
        drop(outside.identifier, `${outside.identifier.type} does not merge profiles`);
        continue;
      }

      // Before the guard: a record that would reunite an unmerge says nothing about shared identifiers.
      const apart = this.separationBreaker(working, targets, observedAt);
      if (apart) {
        drop(
          apart.identifier,
          `${apart.identifier.type} would join profiles kept apart by the unmerge of merge ${apart.mergeId}`,
        );
        continue;
      }

      // Super-node guard: an anonymous identifier that links records of more than maxPeople identified
      // profiles (a family tablet, a DMP's shared cookie) stops merging and is flagged for review.
      const guarded = strong.filter((l) => this.rules.superNodeTypes.has(l.identifier.type));
      const people = new Set<string>();
      if (guarded.length > 0) {
        const personLinks = links.filter((l) => PERSON.has(l.identifier.type));
        const recordIsNewPerson =
          personLinks.length === 0 && working.some((i) => PERSON.has(i.type) && !this.owner.has(identifierKey(i)));
        for (const id of targets) if (this.isIdentified(this.profiles.get(id))) people.add(id);
        if (recordIsNewPerson) people.add(NEW_PERSON);
      }
      let guardHit = false;
      if (people.size > 1) {
        for (const l of guarded) {
          const seen = new Set([...(this.seenWith.get(l.key) ?? []), ...people]);
          if (seen.size > this.rules.rules.superNode.maxPeople) {
            seen.delete(NEW_PERSON);
            this.seenWith.set(l.key, seen);
            this.flagged.add(l.key);
            this.touchedFlags.add(l.key);
            flagged.push(l.identifier);
            drop(l.identifier, `${l.identifier.type} is shared by several people (flagged)`);
            guardHit = true;
            break;
          }
        }
      }
      if (guardHit) continue;

      const targetIds = [...targets];
      const fresh = working.filter((i) => {
        const owner = this.owner.get(identifierKey(i));
        return (
          owner === undefined || !targets.has(this.live(owner)) || this.expired(identifierKey(i), i.type, observedAt)
        );
      });
      const broken = this.violations(targetIds, fresh, observedAt);
      if (broken.size > 0) {
        const candidates = [...strong.map((l) => l.identifier), ...fresh.filter((i) => broken.has(i.type))];
        // Lowest priority first; among equals, the later one in the record.
        let worst = candidates[0];
        for (const c of candidates) if (rank(c) >= rank(worst)) worst = c;
        const type = [...broken][0];
        drop(worst, `${type} limit ${this.rules.rule(type).limit} would be exceeded`);
        continue;
      }

      // Apply.
      let winner: GraphProfile;
      const merges: MergeEvent[] = [];
      let created = false;
      if (targetIds.length === 0) {
        winner = this.addProfile(this.newProfileId(), this.clock(), true);
        created = true;
      } else {
        const ordered = targetIds
          .map((id) => this.profiles.get(id)!)
          .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        winner = ordered[0]!;
        const losers = ordered.slice(1);
        if (losers.length > 0) {
          for (const loser of losers) {
            for (const [key, identifier] of loser.identifiers) {
              winner.identifiers.set(key, identifier);
              this.owner.set(key, winner.id);
            }
            loser.identifiers.clear();
            this.mergedInto.set(loser.id, winner.id);
          }
          merges.push({
            winner: winner.id,
            losers: losers.map((l) => l.id),
            causedBy: strong.map((l) => ({ ...l.identifier, profileId: l.profileId })),
          });
        }
      }
      for (const identifier of working) {
        const key = identifierKey(identifier);
        const previous = this.owner.get(key);
        if (previous !== undefined && this.live(previous) !== winner.id) {
          this.profiles.get(this.live(previous))?.identifiers.delete(key);
        }
        this.owner.set(key, winner.id);
        winner.identifiers.set(key, identifier);
        this.lastSeen.set(key, Math.max(this.lastSeen.get(key) ?? 0, observedAt));
        this.touched.add(key);
      }
      if (people.size > 1) {
        // Remember whom the guarded identifiers were seen with (raw ids: a merge does not make two people one).
        for (const l of guarded) {
          const seen = this.seenWith.get(l.key) ?? new Set<string>();
          for (const p of people) seen.add(p === NEW_PERSON ? winner.id : p);
          this.seenWith.set(l.key, seen);
          this.touchedFlags.add(l.key);
        }
      }
      return { profileId: winner.id, created, attached: working, dropped, merges, flagged };
    }
  }
}
