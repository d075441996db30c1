import { sql, type RawBuilder } from 'kysely';
import {
  IDENTIFYING_TYPES,
  type ComputedTraitDefinition,
  type EventCondition,
  type PropertyFilter,
  type RuleDate,
  type RuleLeaf,
  type RuleNode,
  type RuleScalar,
  type TraitCondition,
} from './audience-rule.types.js';

export type LeafNode = Extract<RuleNode, { path: string }>;

/**
 * A rule compiled to SQL over `profiles p`: the event aggregates it needs (one CTE each, joined on the
 * profile), the whole rule as one boolean expression, and each top-level condition (leaf) as a boolean with
 * the data behind it, so an evaluation can say which conditions decided a membership.
 */
export interface CompiledRule {
  ctes: RawBuilder<unknown>[];
  joins: RawBuilder<unknown>[];
  match: RawBuilder<boolean>;
  leaves: Array<{ node: LeafNode; ok: RawBuilder<boolean>; data: RawBuilder<unknown> }>;
}

export interface CompileOptions {
  /** The evaluation's clock: windows and relative dates end here. */
  now: Date;
  /** Only these profiles (incremental evaluation); absent = every profile. */
  profileIds?: string[];
  /** Only the profiles whose ids lie in this range (one part of a full evaluation split across connections). */
  profileRange?: ProfileRange;
}

/** Profile ids from `from` (included) up to `to` (excluded); an absent bound is open. */
export interface ProfileRange {
  from?: string;
  to?: string;
}

/** The conditions on `column` (a profile id) that keep an evaluation to the profiles `options` name. */
export function profileScope(
  column: RawBuilder<unknown>,
  options: Pick<CompileOptions, 'profileIds' | 'profileRange'>,
): RawBuilder<unknown>[] {
  const out: RawBuilder<unknown>[] = [];
  if (options.profileIds) out.push(sql`${column} = any(${options.profileIds}::uuid[])`);
  if (options.profileRange?.from) out.push(sql`${column} >= ${options.profileRange.from}::uuid`);
  if (options.profileRange?.to) out.push(sql`${column} < ${options.profileRange.to}::uuid`);
  return out;
}

/** `and`-prefixed conditions, to follow a `where`. */
export const andAll = (conditions: RawBuilder<unknown>[]): RawBuilder<unknown> =>
  conditions.length > 0 ? sql`and ${sql.join(conditions, sql` and `)}` : sql``;

/**
 * Several rules compiled for one statement over `profiles p` (see `compileRules`): the CTEs and joins they
 * share, and each rule as one boolean expression, in the order given.
 */
export interface CompiledRules {
  /** `profiles p`, or a subquery over it with the values rules share computed once per profile. */
  profiles: RawBuilder<unknown>;
  ctes: RawBuilder<unknown>[];
  joins: RawBuilder<unknown>[];
  matches: RawBuilder<boolean>[];
}

type Measure = 'n' | 'a' | 'f' | 'l';

/**
 * What the rules of one statement read from events and identifiers, gathered so that it is read once: every
 * event condition becomes an aggregate column with its own `filter` in one pass over the events of the named
 * events (deduplicated: twenty rules on "Page Viewed in 30 days" share one column), and identifier conditions
 * test an array of each profile's identifier types instead of a correlated lookup per profile and rule.
 */
class SharedAggregates {
  static readonly EVENTS = 'plx_events';
  static readonly IDENTIFIERS = 'plx_identifiers';
  /** Which events a condition looks at (name and property filters), computed once per event row. */
  private readonly selections = new Map<string, { name: string; expr: RawBuilder<unknown> }>();
  private readonly columns = new Map<string, { name: string; expr: RawBuilder<unknown> }>();
  private readonly events = new Set<string>();
  /** The earliest window start, or null once a condition has no window (then every event of the name counts). */
  private since: number | null = Infinity;
  private readonly identifierTypes = new Set<string>();
  /** Profile values (a live trait, a consent) several conditions read: computed once per profile. */
  private readonly values = new Map<string, { name: string; expr: RawBuilder<unknown> }>();

  constructor(private readonly options: CompileOptions) {}

  /** `expr` (over `p`, keyed by `key`) as a column of the profiles subquery. */
  value(key: string, expr: RawBuilder<unknown>): RawBuilder<unknown> {
    let value = this.values.get(key);
    if (!value) {
      value = { name: `v${this.values.size}`, expr };
      this.values.set(key, value);
    }
    return sql`p.${sql.raw(value.name)}`;
  }

  /** What the statement reads profiles from: the table, or a subquery with the shared values. */
  profiles(): RawBuilder<unknown> {
    if (this.values.size === 0) return sql`profiles p`;
    const values = [...this.values.values()].map((v) => sql`${v.expr} as ${sql.raw(v.name)}`);
    // `offset 0` keeps the values computed once per profile, and keeps the caller's filters out: the profiles
    // of an incremental evaluation are picked here.
    const only = profileScope(sql`p.id`, this.options);
    const where = only.length > 0 ? sql`where ${sql.join(only, sql` and `)}` : sql``;
    return sql`(select p.*, ${sql.join(values, sql`, `)} from profiles p ${where} offset 0) p`;
  }

  /** The column holding `measure` of the events `node` looks at, per profile (null when it has none). */
  column(node: EventCondition, measure: Measure): RawBuilder<unknown> {
    const key = JSON.stringify([
      node.event,
      node.withinMs ?? null,
      node.where,
      measure,
      measure === 'a' ? [node.aggregation, node.property] : null,
    ]);
    let column = this.columns.get(key);
    if (!column) {
      this.events.add(node.event);
      const conditions = [this.selection(node)];
      if (node.withinMs === undefined) this.since = null;
      else {
        const since = this.options.now.getTime() - node.withinMs;
        if (this.since !== null) this.since = Math.min(this.since, since);
        conditions.push(sql`e.occurred_at > ${new Date(since).toISOString()}::timestamptz`);
        conditions.push(sql`e.occurred_at <= ${this.options.now.toISOString()}::timestamptz`);
      }
      const only = sql`filter (where ${sql.join(conditions, sql` and `)})`;
      const expr =
        measure === 'n'
          ? sql`count(*) ${only}::float8`
          : measure === 'a'
            ? sql`${sql.raw(node.aggregation)}(${node.property ? number(sql`e.properties`, node.property) : sql`null::float8`}) ${only}`
            : sql`${sql.raw(measure === 'f' ? 'min' : 'max')}(e.occurred_at) ${only}`;
      column = { name: `c${this.columns.size}`, expr };
      this.columns.set(key, column);
    }
    return sql`${sql.raw(SharedAggregates.EVENTS)}.${sql.raw(column.name)}`;
  }

  private selection(node: EventCondition): RawBuilder<unknown> {
    const key = JSON.stringify([node.event, node.where]);
    let selection = this.selections.get(key);
    if (!selection) {
      const conditions = [sql`e.name = ${node.event}::text`, ...node.where.map((f) => filterSql(sql`e.properties`, f))];
      selection = { name: `w${this.selections.size}`, expr: sql.join(conditions, sql` and `) };
      this.selections.set(key, selection);
    }
    return sql`e.${sql.raw(selection.name)}`;
  }

  /** The profile's identifier types among those rules ask about (null when it has none of them). */
  identifiers(types: readonly string[]): RawBuilder<unknown> {
    for (const t of types) this.identifierTypes.add(t);
    return sql`${sql.raw(SharedAggregates.IDENTIFIERS)}.types`;
  }

  /**
   * Adds the shared CTEs and joins. The `offset 0` subqueries are evaluated as written: each event's
   * selections once (not once per aggregate), and the identifiers read in one sequential pass and hashed
   * (the planner would otherwise walk the profile index, a random read per identifier).
   */
  finish(ctes: RawBuilder<unknown>[], joins: RawBuilder<unknown>[]): void {
    const only = andAll(profileScope(sql`profile_id`, this.options));
    if (this.columns.size > 0) {
      const ref = sql.raw(SharedAggregates.EVENTS);
      const where: RawBuilder<unknown>[] = [];
      // Each column filters its events by name anyway. A few profiles' events are read through the profile index:
      // PostgreSQL plans the name and time conditions together in milliseconds, longer than reading a profile's
      // events of other names, so there only the time window prunes.
      if (!this.options.profileIds) where.push(sql`e.name = any(${[...this.events]}::text[])`);
      if (this.since !== null && this.since !== Infinity)
        where.push(sql`occurred_at > ${new Date(this.since).toISOString()}::timestamptz
            and occurred_at <= ${this.options.now.toISOString()}::timestamptz`);
      where.push(...profileScope(sql`profile_id`, this.options));
      const selections = [...this.selections.values()].map((w) => sql`${w.expr} as ${sql.raw(w.name)}`);
      const columns = [...this.columns.values()].map((c) => sql`${c.expr} as ${sql.raw(c.name)}`);
      ctes.push(sql`${ref} as (select e.profile_id, ${sql.join(columns, sql`, `)}
        from (select e.profile_id, e.occurred_at, e.properties, ${sql.join(selections, sql`, `)} from profile_events e
          ${where.length > 0 ? sql`where ${sql.join(where, sql` and `)}` : sql``} offset 0) e
        group by e.profile_id)`);
      joins.push(sql`left join ${ref} on ${ref}.profile_id = p.id`);
    }
    if (this.identifierTypes.size > 0) {
      const ref = sql.raw(SharedAggregates.IDENTIFIERS);
      ctes.push(sql`${ref} as (select profile_id, array_agg(type) as types
        from (select profile_id, type from profile_identifiers
          where type = any(${[...this.identifierTypes]}::text[]) ${only} offset 0) i
        group by profile_id)`);
      joins.push(sql`left join ${ref} on ${ref}.profile_id = p.id`);
    }
  }
}

const FALSE = sql<boolean>`false`;

/** The SQL operator of each numeric comparison of the rule language. */
const SQL_COMPARE: Record<EventCondition['op'], string> = {
  eq: '=',
  neq: '<>',
  gt: '>',
  gte: '>=',
  lt: '<',
  lte: '<=',
};

function dateOf(date: RuleDate, now: Date): string {
  return 'at' in date ? new Date(date.at).toISOString() : new Date(now.getTime() + date.relativeMs).toISOString();
}

const json = (value: unknown): RawBuilder<unknown> => sql`${JSON.stringify(value)}::jsonb`;

/** `v` (a jsonb value, null when absent) against one operator; never null, so `not` stays two-valued. */
function compareJson(
  v: RawBuilder<unknown>,
  op: TraitCondition['op'],
  value: RuleScalar | RuleScalar[] | undefined,
  present: boolean | undefined,
): RawBuilder<boolean> {
  switch (op) {
    case 'eq':
      return sql<boolean>`coalesce(${v} = ${json(value)}, false)`;
    case 'neq':
      return sql<boolean>`not coalesce(${v} = ${json(value)}, false)`;
    case 'in':
      return sql<boolean>`coalesce(case when jsonb_typeof(${v}) = 'array'
        then exists (select 1 from jsonb_array_elements(${v}) x(e) where ${json(value)} @> jsonb_build_array(x.e))
        else ${json(value)} @> jsonb_build_array(${v}) end, false)`;
    case 'contains':
      return sql<boolean>`coalesce(case jsonb_typeof(${v})
        when 'array' then ${v} @> ${json([value])}
        when 'string' then strpos(${v} #>> '{}', ${String(value)}::text) > 0
        else false end, false)`;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const cmp = sql.raw({ gt: '>', gte: '>=', lt: '<', lte: '<=' }[op]);
      if (typeof value === 'number')
        return sql<boolean>`coalesce(case when jsonb_typeof(${v}) = 'number'
          then (${v} #>> '{}')::float8 ${cmp} ${value}::float8 end, false)`;
      return sql<boolean>`coalesce(case when jsonb_typeof(${v}) = 'string'
        then (${v} #>> '{}') collate "C" ${cmp} ${String(value)}::text collate "C" end, false)`;
    }
    case 'between': {
      const [low, high] = value as [number, number];
      return sql<boolean>`coalesce(case when jsonb_typeof(${v}) = 'number'
        then (${v} #>> '{}')::float8 between ${low}::float8 and ${high}::float8 end, false)`;
    }
    case 'exists':
      return present === false
        ? sql<boolean>`(${v} is null or ${v} = 'null'::jsonb)`
        : sql<boolean>`(${v} is not null and ${v} <> 'null'::jsonb)`;
    case 'before':
    case 'after':
      // Dates are compared by the caller (they need the clock).
      return FALSE;
  }
}

/** A jsonb date (ISO string or epoch milliseconds) as timestamptz; null when it is not a date. */
function asTimestamp(v: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`(case jsonb_typeof(${v}) when 'string' then plexus_try_timestamptz(${v} #>> '{}')
    when 'number' then to_timestamp((${v} #>> '{}')::float8 / 1000) end)`;
}

function compareDate(t: RawBuilder<unknown>, op: 'before' | 'after', date: RuleDate, now: Date): RawBuilder<boolean> {
  return op === 'before'
    ? sql<boolean>`coalesce(${t} < ${dateOf(date, now)}::timestamptz, false)`
    : sql<boolean>`coalesce(${t} > ${dateOf(date, now)}::timestamptz, false)`;
}

function filterSql(e: RawBuilder<unknown>, f: PropertyFilter): RawBuilder<boolean> {
  return compareJson(sql`${e} -> ${f.property}::text`, f.op, f.value, f.present);
}

const number = (e: RawBuilder<unknown>, property: string): RawBuilder<unknown> =>
  sql`case when jsonb_typeof(${e} -> ${property}::text) = 'number' then (${e} ->> ${property}::text)::float8 end`;

/** The filter of events an event condition or a computed trait looks at. */
function eventConditions(
  def: { event: string; withinMs?: number; where: PropertyFilter[] },
  options: CompileOptions,
): RawBuilder<unknown> {
  const conditions: RawBuilder<unknown>[] = [sql`e.name = ${def.event}::text`];
  if (def.withinMs !== undefined) {
    conditions.push(sql`e.occurred_at > ${new Date(options.now.getTime() - def.withinMs).toISOString()}::timestamptz`);
    conditions.push(sql`e.occurred_at <= ${options.now.toISOString()}::timestamptz`);
  }
  for (const f of def.where) conditions.push(filterSql(sql`e.properties`, f));
  conditions.push(...profileScope(sql`e.profile_id`, options));
  return sql.join(conditions, sql` and `);
}

/**
 * `select profile_id, value` of a computed trait for every profile with matching events (jsonb values; a
 * count is 0, not absent, for profiles without any — the caller coalesces).
 */
export function computedTraitValues(def: ComputedTraitDefinition, options: CompileOptions): RawBuilder<unknown> {
  const prop = def.property ?? '';
  const has = sql`e.properties ? ${prop}::text`;
  let value: RawBuilder<unknown>;
  switch (def.aggregation) {
    case 'count':
      value = sql`to_jsonb(count(*))`;
      break;
    case 'sum':
    case 'min':
    case 'max':
    case 'avg':
      value = sql`to_jsonb(${sql.raw(def.aggregation)}(${number(sql`e.properties`, prop)}))`;
      break;
    case 'most_frequent':
      value = sql`mode() within group (order by e.properties -> ${prop}::text)`;
      break;
    case 'first':
    case 'last': {
      const order = def.aggregation === 'first' ? sql`asc` : sql`desc`;
      value = sql`(array_agg(e.properties -> ${prop}::text order by e.occurred_at ${order}, e.id ${order})
        filter (where ${has}))[1]`;
      break;
    }
  }
  return sql`select e.profile_id, ${value} as value from profile_events e
    where ${eventConditions(def, options)} group by e.profile_id`;
}

class Compiler {
  readonly ctes: RawBuilder<unknown>[] = [];
  readonly joins: RawBuilder<unknown>[] = [];
  private readonly nowMs: number;
  private readonly eventCtes = new Map<EventCondition, RawBuilder<unknown>>();

  constructor(
    private readonly options: CompileOptions,
    private readonly shared?: SharedAggregates,
  ) {
    this.nowMs = options.now.getTime();
  }

  /** The whole rule; `leaves` collects the top-level conditions (an inlined audience is one leaf). */
  node(node: RuleNode, leaves?: CompiledRule['leaves']): RawBuilder<boolean> {
    switch (node.kind) {
      case 'all':
        return node.children.length === 0
          ? sql<boolean>`true`
          : sql<boolean>`(${sql.join(
              node.children.map((c) => this.node(c, leaves)),
              sql` and `,
            )})`;
      case 'any':
        return node.children.length === 0
          ? FALSE
          : sql<boolean>`(${sql.join(
              node.children.map((c) => this.node(c, leaves)),
              sql` or `,
            )})`;
      case 'not':
        return sql<boolean>`(not ${this.node(node.child, leaves)})`;
      case 'trait':
      case 'computed':
      case 'event':
      case 'identifier':
      case 'anonymous':
      case 'consent':
      case 'audience': {
        const { ok, data } = this.leaf(node);
        leaves?.push({ node, ok, data });
        return ok;
      }
    }
  }

  private cteName(): string {
    return `ev${this.ctes.length}`;
  }

  private traitValue(name: string): RawBuilder<unknown> {
    // An expired trait (a DMP segment past its expiry) is absent.
    const value = sql`(case when p.traits -> ${name}::text -> 'x' is null
      or (p.traits -> ${name}::text ->> 'x')::float8 > ${this.nowMs}::float8 then p.traits -> ${name}::text -> 'v' end)`;
    return this.shared ? this.shared.value(`trait:${name}`, value) : value;
  }

  private leaf(node: RuleLeaf): { ok: RawBuilder<boolean>; data: RawBuilder<unknown> } {
    switch (node.kind) {
      case 'trait': {
        const v = this.traitValue(node.trait);
        const ok =
          node.op === 'before' || node.op === 'after'
            ? compareDate(asTimestamp(v), node.op, node.date!, this.options.now)
            : compareJson(v, node.op, node.value, node.present);
        return { ok, data: v };
      }
      case 'computed': {
        const ref = sql.raw(this.cteName());
        this.ctes.push(sql`${ref} as (${computedTraitValues(node.definition, this.options)})`);
        this.joins.push(sql`left join ${ref} on ${ref}.profile_id = p.id`);
        const v = node.definition.aggregation === 'count' ? sql`coalesce(${ref}.value, '0'::jsonb)` : sql`${ref}.value`;
        const ok =
          node.op === 'before' || node.op === 'after'
            ? compareDate(asTimestamp(v), node.op, node.date!, this.options.now)
            : compareJson(v, node.op, node.value, node.present);
        return { ok, data: v };
      }
      case 'identifier': {
        if (this.shared) {
          const ok = sql<boolean>`coalesce(${node.type}::text = any(${this.shared.identifiers([node.type])}), false)`;
          return { ok, data: sql`to_jsonb(${ok})` };
        }
        const ok = sql<boolean>`exists (select 1 from profile_identifiers i where i.profile_id = p.id and i.type = ${node.type}::text)`;
        return { ok, data: sql`to_jsonb(${ok})` };
      }
      case 'anonymous': {
        const types = [...IDENTIFYING_TYPES];
        const anonymous = this.shared
          ? sql<boolean>`not coalesce(${this.shared.identifiers(types)} && ${types}::text[], false)`
          : sql<boolean>`not exists (select 1 from profile_identifiers i
          where i.profile_id = p.id and i.type = any(${types}::text[]))`;
        const ok = node.anonymous ? anonymous : sql<boolean>`(not ${anonymous})`;
        return { ok, data: sql`to_jsonb(${anonymous})` };
      }
      case 'consent': {
        const stored = sql`(p.consent -> ${node.purpose}::text ->> 'g')::boolean`;
        const granted = this.shared ? this.shared.value(`consent:${node.purpose}`, stored) : stored;
        const ok = node.granted
          ? sql<boolean>`coalesce(${granted}, false)`
          : sql<boolean>`not coalesce(${granted}, false)`;
        return { ok, data: sql`to_jsonb(${granted})` };
      }
      case 'event':
        return this.event(node);
      case 'audience': {
        const ok = this.node(node.rule);
        return { ok, data: sql`to_jsonb(${ok})` };
      }
    }
  }

  private event(node: EventCondition): { ok: RawBuilder<boolean>; data: RawBuilder<unknown> } {
    const at = (which: 'first' | 'last'): RawBuilder<unknown> => this.eventMeasure(node, which === 'first' ? 'f' : 'l');
    if (node.occurrence) {
      const when = at(node.occurrence.which);
      return {
        ok: compareDate(when, node.occurrence.op, node.occurrence.date, this.options.now),
        data: sql`to_jsonb(${when})`,
      };
    }
    const measured =
      node.aggregation === 'count'
        ? sql`coalesce(${this.eventMeasure(node, 'n')}, 0)`
        : node.aggregation === 'sum'
          ? sql`coalesce(${this.eventMeasure(node, 'a')}, 0)`
          : this.eventMeasure(node, 'a');
    const cmp = sql.raw(SQL_COMPARE[node.op]);
    return {
      ok: sql<boolean>`coalesce(${measured} ${cmp} ${node.value}::float8, false)`,
      data: sql`to_jsonb(${measured})`,
    };
  }

  /**
   * Conditions every profile matching `node` meets, written so that a profile without events makes them null:
   * the event conditions that cannot hold without a matching event, found through `all` and referenced
   * audiences (not through `any` or `not`). Added to a rule's match, they change nothing it matches, but the
   * planner can see that only profiles with such events can match: it reads the events first and looks up their
   * profiles, where the match alone (two-valued, with `coalesce`) makes it read every profile and join all events.
   */
  required(node: RuleNode): RawBuilder<boolean>[] {
    switch (node.kind) {
      case 'all':
        return node.children.flatMap((c) => this.required(c));
      case 'audience':
        return this.required(node.rule);
      case 'event':
        return this.eventRequired(node);
      case 'any':
      case 'not':
      case 'trait':
      case 'computed':
      case 'identifier':
      case 'anonymous':
      case 'consent':
        return [];
    }
  }

  private eventRequired(node: EventCondition): RawBuilder<boolean>[] {
    if (node.occurrence) {
      const when = this.eventMeasure(node, node.occurrence.which === 'first' ? 'f' : 'l');
      const cmp = sql.raw(node.occurrence.op === 'before' ? '<' : '>');
      return [sql<boolean>`${when} ${cmp} ${dateOf(node.occurrence.date, this.options.now)}::timestamptz`];
    }
    const counted = node.aggregation === 'count' || node.aggregation === 'sum';
    // A count or a sum is 0 without events: when 0 passes, profiles without events match too.
    if (counted && compareNumbers(0, node.op, node.value)) return [];
    const measure = this.eventMeasure(node, node.aggregation === 'count' ? 'n' : 'a');
    const cmp = sql.raw(SQL_COMPARE[node.op]);
    return [sql<boolean>`${measure} ${cmp} ${node.value}::float8`];
  }

  /**
   * One measure of the events an event condition looks at, per profile: a column of the shared aggregate when
   * compiling several rules, otherwise of the condition's own CTE (count, aggregate, first and last time).
   */
  private eventMeasure(node: EventCondition, measure: Measure): RawBuilder<unknown> {
    if (this.shared) return this.shared.column(node, measure);
    let ref = this.eventCtes.get(node);
    if (!ref) {
      ref = sql.raw(this.cteName());
      const value =
        node.aggregation === 'count' || !node.property
          ? sql`null::float8`
          : sql`${sql.raw(node.aggregation)}(${number(sql`e.properties`, node.property)})`;
      this.ctes.push(sql`${ref} as (select e.profile_id, count(*)::float8 as n, ${value} as a,
        min(e.occurred_at) as f, max(e.occurred_at) as l
        from profile_events e where ${eventConditions(node, this.options)} group by e.profile_id)`);
      this.joins.push(sql`left join ${ref} on ${ref}.profile_id = p.id`);
      this.eventCtes.set(node, ref);
    }
    return sql`${ref}.${sql.raw(measure)}`;
  }
}

/** `a op b` on numbers, as SQL compares them. */
function compareNumbers(a: number, op: EventCondition['op'], b: number): boolean {
  return { eq: a === b, neq: a !== b, gt: a > b, gte: a >= b, lt: a < b, lte: a <= b }[op];
}

/**
 * Compiles a validated rule for one evaluation (its clock and, for incremental runs, its profiles). The match
 * carries the rule's required event conditions too (see `Compiler.required`).
 */
export function compileRule(rule: RuleNode, options: CompileOptions): CompiledRule {
  const compiler = new Compiler(options);
  const leaves: CompiledRule['leaves'] = [];
  const whole = compiler.node(rule, leaves);
  const required = compiler.required(rule);
  const match = required.length > 0 ? sql<boolean>`(${whole} and ${sql.join(required, sql` and `)})` : whole;
  return { ctes: compiler.ctes, joins: compiler.joins, match, leaves };
}

/**
 * Compiles several rules for one statement that evaluates them all in one pass over the profiles: events and
 * identifiers are read once for all of them (see `SharedAggregates`); computed traits keep a CTE each.
 */
export function compileRules(rules: RuleNode[], options: CompileOptions): CompiledRules {
  const shared = new SharedAggregates(options);
  const compiler = new Compiler(options, shared);
  const matches = rules.map((rule) => compiler.node(rule));
  const ctes = [...compiler.ctes];
  const joins = [...compiler.joins];
  shared.finish(ctes, joins);
  return { profiles: shared.profiles(), ctes, joins, matches };
}
