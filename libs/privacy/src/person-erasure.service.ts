import { Injectable } from '@nestjs/common';
import { identifierKey } from '@plexus/profile';
import { inRetriedTransaction, lockBucket, ProfileChanges } from '@plexus/identity';
import {
  Database,
  ErasureRepository,
  IdentityGraphRepository,
  type ErasureCounts,
  type ErasureTarget,
} from '@plexus/storage';
import type { IdentifierType } from '@plexus/sdk';

export interface Person {
  /** The live profile (null: nothing held) and every profile merged into it. */
  profileId: string | null;
  profileIds: string[];
  /** Every identifier the person holds or their stored records carried, normalised, as `[type, value]`. */
  identifiers: Array<[string, string]>;
}

/** Lower-cased identifier values to look for in raw quarantined records, and phone numbers' national digits. */
export function searchTerms(identifiers: Array<[string, string]>): Pick<ErasureTarget, 'needles' | 'digits'> {
  const needles = new Set<string>();
  const digits = new Set<string>();
  for (const [type, value] of identifiers) {
    if (value.length >= 4) needles.add(value.toLowerCase());
    if (type === 'phone') {
      const d = value.replace(/\D/g, '');
      // The last 9 digits: the national number without a country code or trunk prefix, in any raw format.
      if (d.length >= 9) digits.add(d.slice(-9));
    }
  }
  return { needles: [...needles], digits: [...digits] };
}

/**
 * Erases people from the profile store, in one transaction per person that first takes the lock buckets of
 * their identifiers (the ones ingestion takes), so no batch resolves against them half-way.
 */
@Injectable()
export class PersonErasure {
  constructor(
    private readonly database: Database,
    private readonly erasure: ErasureRepository,
    private readonly graphs: IdentityGraphRepository,
    private readonly changes: ProfileChanges,
  ) {}

  /** The person holding `profileId` now: the profile tree and every identifier it holds or was seen with. */
  async person(profileId: string | null, requested: Array<[string, string]>): Promise<Person> {
    if (!profileId) return { profileId: null, profileIds: [], identifiers: dedupe(requested) };
    const db = this.database.db;
    const profileIds = await this.erasure.profileTree(db, profileId);
    const held = (await this.graphs.identifiersOf(db, profileIds)).map((l) => [l.type, l.value] as [string, string]);
    // A record's identifier that resolution dropped may belong to someone else now: only those nobody holds count.
    const observed = await this.erasure.observedIdentifiers(db, profileIds);
    const tree = new Set(profileIds);
    const owners = await this.graphs.lookup(
      db,
      observed.map(([type]) => type),
      observed.map(([, value]) => value),
    );
    const others = new Set(owners.filter((o) => !tree.has(o.profileId)).map((o) => `${o.type}\u0000${o.value}`));
    const unheld = observed.filter(([type, value]) => !others.has(`${type}\u0000${value}`));
    return { profileId, profileIds, identifiers: dedupe([...requested, ...held, ...unheld]) };
  }

  async erase(person: Person, requestId?: string): Promise<ErasureCounts> {
    const identifiers = person.identifiers.map(([type, value]) => ({ type, value }));
    const counts = await inRetriedTransaction(this.database, async (trx) => {
      await this.graphs.lockBuckets(
        trx,
        identifiers.map((i) => lockBucket(identifierKey({ type: i.type as IdentifierType, value: i.value }))),
      );
      // Profiles merged into the person since it was resolved are theirs too.
      const profileIds = new Set(await this.erasure.profileTree(trx, person.profileIds));
      for (const id of await this.erasure.holders(trx, identifiers)) profileIds.add(id);
      await this.graphs.lockProfiles(trx, [...profileIds]);
      return this.erasure.erase(trx, {
        profileIds: [...profileIds],
        identifiers,
        ...searchTerms(person.identifiers),
        requestId,
      });
    });
    await this.changes.committed({ profileIds: person.profileIds, cause: 'delete' });
    return counts;
  }

  /** Profiles that hold any of the person's identifiers again. */
  holders(person: Person): Promise<string[]> {
    return this.erasure.holders(
      this.database.db,
      person.identifiers.map(([type, value]) => ({ type, value })),
    );
  }
}

function dedupe(pairs: Array<[string, string]>): Array<[string, string]> {
  const seen = new Map<string, [string, string]>();
  for (const p of pairs) seen.set(`${p[0]}\u0000${p[1]}`, p);
  return [...seen.values()];
}
