import type { ColumnType, Generated } from 'kysely';
import type { Json, Timestamp } from '../schema.js';

type Defaulted<T> = ColumnType<T, T | undefined, T>;

export interface AudiencesTable {
  id: string;
  name: string;
  description: string | null;
  rule: Json<unknown>;
  time_dependent: Defaulted<boolean>;
  size: Defaulted<number>;
  last_evaluated_at: Timestamp | null;
  created_at: Defaulted<Date>;
  updated_at: Defaulted<Date>;
}

export interface AudienceMembersTable {
  audience_id: string;
  profile_id: string;
  entered_at: Timestamp;
  reason: Json<unknown>;
}

export interface AudienceChangesTable {
  id: Generated<number>;
  audience_id: string;
  profile_id: string;
  change: 'entered' | 'exited';
  reason: Json<unknown>;
  created_at: Defaulted<Date>;
}

export interface AudienceSizesTable {
  id: Generated<number>;
  audience_id: string;
  at: Timestamp;
  size: number;
  entered: number;
  exited: number;
  kind: string;
}

export interface ComputedTraitsTable {
  id: string;
  name: string;
  definition: Json<unknown>;
  time_dependent: Defaulted<boolean>;
  created_at: Defaulted<Date>;
  updated_at: Defaulted<Date>;
}

export interface ProfileComputedTraitsTable {
  trait_id: string;
  profile_id: string;
  value: Json<unknown>;
  computed_at: Timestamp;
}

/** The audience tables, spread into {@link Tables}. */
export interface AudienceTables {
  computed_traits: ComputedTraitsTable;
  profile_computed_traits: ProfileComputedTraitsTable;
  audiences: AudiencesTable;
  audience_members: AudienceMembersTable;
  audience_changes: AudienceChangesTable;
  audience_sizes: AudienceSizesTable;
}
