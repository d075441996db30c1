/**
 * The audience rule language as a validated tree (see docs/AUDIENCES.md). `@plexus/audiences` parses and
 * validates the JSON an admin sends into these types; the storage compiler turns them into SQL.
 */
export type TraitOp =
  'eq' | 'neq' | 'in' | 'contains' | 'gt' | 'gte' | 'lt' | 'lte' | 'between' | 'exists' | 'before' | 'after';
export type CompareOp = 'eq' | 'neq' | 'gt' | 'gte' | 'lt' | 'lte';
export type Aggregation = 'count' | 'sum' | 'min' | 'max' | 'avg';

/** A scalar a condition compares with. */
export type RuleScalar = string | number | boolean;

/** A date: absolute (ISO) or relative to the evaluation's clock, in milliseconds (negative = in the past). */
export type RuleDate = { at: string } | { relativeMs: number };

export interface TraitCondition {
  kind: 'trait';
  trait: string;
  op: TraitOp;
  /** eq/neq/contains/gt…: one scalar; in: a list; between: [low, high]; exists: none. */
  value?: RuleScalar | RuleScalar[];
  /** before/after: the date compared with. */
  date?: RuleDate;
  /** exists: false means "has no such trait". */
  present?: boolean;
}

export interface PropertyFilter {
  property: string;
  op: Exclude<TraitOp, 'before' | 'after'>;
  value?: RuleScalar | RuleScalar[];
  present?: boolean;
}

export interface EventCondition {
  kind: 'event';
  event: string;
  /** Window length in milliseconds, ending at the evaluation's clock; absent = all time. */
  withinMs?: number;
  where: PropertyFilter[];
  aggregation: Aggregation;
  /** The numeric property summed, averaged… (all but count). */
  property?: string;
  op: CompareOp;
  value: number;
  /** first/last occurrence instead of an aggregation: the first/last matching event before or after a date. */
  occurrence?: { which: 'first' | 'last'; op: 'before' | 'after'; date: RuleDate };
}

export interface IdentifierCondition {
  kind: 'identifier';
  type: string;
}

/** Anonymous: no identifier of the identified types (email, email_sha256, phone, user_id). */
export interface AnonymousCondition {
  kind: 'anonymous';
  anonymous: boolean;
}

export interface ConsentCondition {
  kind: 'consent';
  purpose: string;
  granted: boolean;
}

/** Membership of another audience: its rule, inlined at compile time (so it is always current). */
export interface AudienceCondition {
  kind: 'audience';
  audienceId: string;
  rule: RuleNode;
}

export type ComputedAggregation = Aggregation | 'most_frequent' | 'first' | 'last';

/** A computed trait: one aggregation of a profile's events of one name, optionally within a window. */
export interface ComputedTraitDefinition {
  event: string;
  withinMs?: number;
  where: PropertyFilter[];
  aggregation: ComputedAggregation;
  /** The property aggregated (all but count). */
  property?: string;
}

/** A computed trait's value compared like a trait (computed live from the events, so never stale). */
export interface ComputedCondition {
  kind: 'computed';
  name: string;
  definition: ComputedTraitDefinition;
  op: TraitOp;
  value?: RuleScalar | RuleScalar[];
  date?: RuleDate;
  present?: boolean;
}

export type RuleLeaf =
  | TraitCondition
  | ComputedCondition
  | EventCondition
  | IdentifierCondition
  | AnonymousCondition
  | ConsentCondition
  | AudienceCondition;

export type RuleNode =
  | { kind: 'all'; children: RuleNode[] }
  | { kind: 'any'; children: RuleNode[] }
  | { kind: 'not'; child: RuleNode }
  | (RuleLeaf & { path: string; source: unknown });

/** The identifier types that make a profile "identified"; a profile with none of them is anonymous. */
export const IDENTIFYING_TYPES = ['email', 'email_sha256', 'phone', 'user_id'] as const;
