import { isIdentifierType } from '@plexus/sdk';
import type {
  Aggregation,
  CompareOp,
  ComputedAggregation,
  ComputedTraitDefinition,
  EventCondition,
  PropertyFilter,
  RuleDate,
  RuleNode,
  RuleScalar,
  TraitOp,
} from '@plexus/storage';
import { InvalidRuleError } from './audience.errors.js';

/** Deepest nesting of all/any/not accepted (a 400 above it). */
export const MAX_RULE_DEPTH = 10;
/** Most conditions in one rule, audiences it refers to included. */
export const MAX_RULE_CONDITIONS = 200;
/** Longest event window. */
export const MAX_WINDOW_MS = 3650 * 86_400_000;

const TRAIT_OPS: readonly TraitOp[] = [
  'eq',
  'neq',
  'in',
  'contains',
  'gt',
  'gte',
  'lt',
  'lte',
  'between',
  'exists',
  'before',
  'after',
];
const COMPARE_OPS: readonly CompareOp[] = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte'];
const VALUE_AGGREGATIONS: readonly Exclude<Aggregation, 'count'>[] = ['sum', 'min', 'max', 'avg'];
const NAME = /^[\w .:$@/-]{1,200}$/u;

/** The stored rules of other audiences, for `{ "audience": id }` conditions. */
export type AudienceLookup = (id: string) => unknown;

const COMPUTED_AGGREGATIONS: readonly ComputedAggregation[] = [
  'count',
  'sum',
  'min',
  'max',
  'avg',
  'most_frequent',
  'first',
  'last',
];

export interface ParseOptions {
  lookup: AudienceLookup;
  /** The stored definitions of computed traits, by name, for `{ "computed": name }` conditions. */
  computed?: (name: string) => unknown;
  /** The audience the rule belongs to (a reference back to it is a cycle). */
  selfId?: string;
}

export interface ParsedRule {
  rule: RuleNode;
  /** Audiences referred to, directly or through others. */
  references: string[];
  /** The rule looks at the clock (windows, relative dates, traits that may expire). */
  timeDependent: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (v: unknown): v is RuleScalar =>
  typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

/** `90d` / `12h` → milliseconds. */
export function parseWindow(value: unknown, path: string): number {
  const m = typeof value === 'string' ? /^(\d{1,7})([dh])$/.exec(value) : null;
  if (!m) throw new InvalidRuleError(path, 'must be like "90d" or "12h"');
  const ms = Number(m[1]) * (m[2] === 'd' ? 86_400_000 : 3_600_000);
  if (ms <= 0 || ms > MAX_WINDOW_MS) throw new InvalidRuleError(path, 'must be between 1h and 3650d');
  return ms;
}

/** An ISO date, or one relative to now like `-30d` / `+12h`. */
export function parseDate(value: unknown, path: string): RuleDate {
  if (typeof value === 'string') {
    const rel = /^([-+])(\d{1,7})([dh])$/.exec(value);
    if (rel) {
      const ms = Number(rel[2]) * (rel[3] === 'd' ? 86_400_000 : 3_600_000);
      if (ms > MAX_WINDOW_MS) throw new InvalidRuleError(path, 'must be within 3650d of now');
      return { relativeMs: rel[1] === '-' ? -ms : ms };
    }
    if (/^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(Date.parse(value))) return { at: value };
  }
  throw new InvalidRuleError(path, 'must be an ISO date ("2026-01-31") or relative to now ("-30d", "+12h")');
}

class RuleParser {
  private conditions = 0;
  private timeDependent = false;
  private readonly references = new Set<string>();

  constructor(private readonly options: ParseOptions) {}

  parse(input: unknown, path: string): ParsedRule {
    const rule = this.node(input, path, 1, this.options.selfId ? [this.options.selfId] : []);
    return { rule, references: [...this.references], timeDependent: this.timeDependent };
  }

  private keysOnly(o: Record<string, unknown>, path: string, allowed: string[]): void {
    for (const key of Object.keys(o))
      if (!allowed.includes(key))
        throw new InvalidRuleError(`${path}.${key}`, `unknown field (expected ${allowed.join(', ')})`);
  }

  private node(input: unknown, path: string, depth: number, chain: string[]): RuleNode {
    if (depth > MAX_RULE_DEPTH) throw new InvalidRuleError(path, `nested deeper than ${MAX_RULE_DEPTH} levels`);
    if (!isObject(input)) throw new InvalidRuleError(path, 'must be an object');
    for (const kind of ['all', 'any'] as const)
      if (kind in input) {
        this.keysOnly(input, path, [kind]);
        const list = input[kind];
        if (!Array.isArray(list) || list.length === 0)
          throw new InvalidRuleError(`${path}.${kind}`, 'must be a non-empty array of conditions');
        return {
          kind,
          children: list.map((c, i) => this.node(c, `${path}.${kind}[${i}]`, depth + 1, chain)),
        };
      }
    if ('not' in input) {
      this.keysOnly(input, path, ['not']);
      return { kind: 'not', child: this.node(input.not, `${path}.not`, depth + 1, chain) };
    }
    if (++this.conditions > MAX_RULE_CONDITIONS)
      throw new InvalidRuleError(path, `more than ${MAX_RULE_CONDITIONS} conditions in one rule`);
    const leaf = { path, source: input };
    if ('trait' in input) return { ...leaf, ...this.trait(input, path) };
    if ('computed' in input) return { ...leaf, ...this.computed(input, path) };
    if ('event' in input) return { ...leaf, ...this.event(input, path) };
    if ('identifier' in input) {
      this.keysOnly(input, path, ['identifier']);
      if (typeof input.identifier !== 'string' || !isIdentifierType(input.identifier))
        throw new InvalidRuleError(`${path}.identifier`, 'must be an identifier type (email, phone, device_id, …)');
      return { ...leaf, kind: 'identifier', type: input.identifier };
    }
    if ('anonymous' in input) {
      this.keysOnly(input, path, ['anonymous']);
      if (typeof input.anonymous !== 'boolean')
        throw new InvalidRuleError(`${path}.anonymous`, 'must be true or false');
      return { ...leaf, kind: 'anonymous', anonymous: input.anonymous };
    }
    if ('consent' in input) {
      this.keysOnly(input, path, ['consent', 'granted']);
      if (typeof input.consent !== 'string' || !NAME.test(input.consent))
        throw new InvalidRuleError(`${path}.consent`, 'must be a purpose name such as "ads"');
      if (input.granted !== undefined && typeof input.granted !== 'boolean')
        throw new InvalidRuleError(`${path}.granted`, 'must be true or false');
      return { ...leaf, kind: 'consent', purpose: input.consent, granted: input.granted !== false };
    }
    if ('audience' in input) return { ...leaf, ...this.audience(input, path, depth, chain) };
    throw new InvalidRuleError(
      path,
      'must have one of all, any, not, trait, computed, event, identifier, anonymous, consent, audience',
    );
  }

  private audience(
    input: Record<string, unknown>,
    path: string,
    depth: number,
    chain: string[],
  ): { kind: 'audience'; audienceId: string; rule: RuleNode } {
    this.keysOnly(input, path, ['audience']);
    const id = input.audience;
    if (typeof id !== 'string' || !/^[0-9a-f-]{36}$/i.test(id))
      throw new InvalidRuleError(`${path}.audience`, 'must be an audience id');
    if (chain.includes(id))
      throw new InvalidRuleError(`${path}.audience`, `makes a cycle (${[...chain, id].join(' → ')})`);
    const stored = this.options.lookup(id);
    if (stored === undefined) throw new InvalidRuleError(`${path}.audience`, `no audience ${id} (deleted?)`);
    this.references.add(id);
    // Its conditions count against this rule's limits; its own paths stay as they were in its rule.
    let rule: RuleNode;
    try {
      rule = this.node(stored, `audience(${id})`, depth + 1, [...chain, id]);
    } catch (error) {
      // Named at this rule's node: the admin fixes this reference, not the other audience.
      if (error instanceof InvalidRuleError) throw new InvalidRuleError(`${path}.audience`, error.problem);
      throw error;
    }
    return { kind: 'audience', audienceId: id, rule };
  }

  private scalarOrList(op: TraitOp, value: unknown, path: string): RuleScalar | RuleScalar[] | undefined {
    switch (op) {
      case 'exists':
        if (value !== undefined) throw new InvalidRuleError(path, 'exists takes no value (wrap it in "not")');
        return undefined;
      case 'in':
        if (!Array.isArray(value) || value.length === 0 || value.length > 1000 || !value.every(isScalar))
          throw new InvalidRuleError(path, 'must be a non-empty list of strings, numbers or booleans');
        return value;
      case 'between':
        if (
          !Array.isArray(value) ||
          value.length !== 2 ||
          !value.every((v) => typeof v === 'number' && Number.isFinite(v)) ||
          (value[0] as number) > (value[1] as number)
        )
          throw new InvalidRuleError(path, 'must be [low, high], two numbers with low ≤ high');
        return value as number[];
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte':
        if (!(typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))))
          throw new InvalidRuleError(path, 'must be a number (or a string, compared in code-point order)');
        return value;
      case 'contains':
        if (!(typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))))
          throw new InvalidRuleError(path, 'must be a string or a number');
        return value;
      case 'eq':
      case 'neq':
      case 'before':
      case 'after':
        if (!isScalar(value)) throw new InvalidRuleError(path, 'must be a string, a number or a boolean');
        return value;
    }
  }

  private trait(input: Record<string, unknown>, path: string): RuleNode {
    this.keysOnly(input, path, ['trait', 'op', 'value']);
    if (typeof input.trait !== 'string' || !NAME.test(input.trait))
      throw new InvalidRuleError(`${path}.trait`, 'must be a trait name');
    const op = input.op as TraitOp;
    if (!TRAIT_OPS.includes(op)) throw new InvalidRuleError(`${path}.op`, `must be one of ${TRAIT_OPS.join(', ')}`);
    // A trait may expire (DMP segments): any trait condition can change with time alone.
    this.timeDependent = true;
    if (op === 'before' || op === 'after')
      return { kind: 'trait', trait: input.trait, op, date: parseDate(input.value, `${path}.value`) } as RuleNode;
    return {
      kind: 'trait',
      trait: input.trait,
      op,
      value: this.scalarOrList(op, input.value, `${path}.value`),
    } as RuleNode;
  }

  private computed(input: Record<string, unknown>, path: string): RuleNode {
    this.keysOnly(input, path, ['computed', 'op', 'value']);
    const stored = typeof input.computed === 'string' ? this.options.computed?.(input.computed) : undefined;
    if (stored === undefined)
      throw new InvalidRuleError(`${path}.computed`, `no computed trait named ${JSON.stringify(input.computed)}`);
    const definition = this.definition(stored, `computed(${String(input.computed)})`);
    const {
      kind: _trait,
      trait: _name,
      ...compare
    } = this.trait({ trait: input.computed, op: input.op, value: input.value }, path) as {
      kind: 'trait';
      trait: string;
    };
    return { kind: 'computed', name: input.computed as string, definition, ...compare } as RuleNode;
  }

  /** A computed trait's definition: `{ event, within?, where?, aggregation, property? }`. */
  definition(input: unknown, path: string): ComputedTraitDefinition {
    if (!isObject(input)) throw new InvalidRuleError(path, 'must be an object');
    this.keysOnly(input, path, ['event', 'within', 'where', 'aggregation', 'property']);
    if (typeof input.event !== 'string' || input.event.length === 0 || input.event.length > 200)
      throw new InvalidRuleError(`${path}.event`, 'must be an event name');
    const aggregation = input.aggregation as ComputedAggregation;
    if (!COMPUTED_AGGREGATIONS.includes(aggregation))
      throw new InvalidRuleError(`${path}.aggregation`, `must be one of ${COMPUTED_AGGREGATIONS.join(', ')}`);
    const definition: ComputedTraitDefinition = { event: input.event, where: [], aggregation };
    if (aggregation === 'count') {
      if (input.property !== undefined) throw new InvalidRuleError(`${path}.property`, 'count takes no property');
    } else if (typeof input.property !== 'string' || !NAME.test(input.property))
      throw new InvalidRuleError(`${path}.property`, `must be the property ${aggregation} looks at`);
    else definition.property = input.property;
    this.windowAndFilters(input, path, definition);
    return definition;
  }

  /** `within` and `where`, shared by event conditions and computed traits. */
  private windowAndFilters(
    input: Record<string, unknown>,
    path: string,
    into: { withinMs?: number; where: PropertyFilter[] },
  ): void {
    if (input.within !== undefined) {
      into.withinMs = parseWindow(input.within, `${path}.within`);
      this.timeDependent = true;
    }
    if (input.where !== undefined) {
      if (!Array.isArray(input.where) || input.where.length > 20)
        throw new InvalidRuleError(`${path}.where`, 'must be a list of at most 20 property filters');
      into.where = input.where.map((f, i) => this.filter(f, `${path}.where[${i}]`));
    }
  }

  get dependsOnClock(): boolean {
    return this.timeDependent;
  }

  private filter(input: unknown, path: string): PropertyFilter {
    if (!isObject(input)) throw new InvalidRuleError(path, 'must be { property, op, value }');
    this.keysOnly(input, path, ['property', 'op', 'value']);
    if (typeof input.property !== 'string' || !NAME.test(input.property))
      throw new InvalidRuleError(`${path}.property`, 'must be a property name');
    const op = input.op as PropertyFilter['op'];
    if (!TRAIT_OPS.includes(op) || op === ('before' as string) || op === ('after' as string))
      throw new InvalidRuleError(
        `${path}.op`,
        `must be one of ${TRAIT_OPS.filter((o) => o !== 'before' && o !== 'after').join(', ')}`,
      );
    return { property: input.property, op, value: this.scalarOrList(op, input.value, `${path}.value`) };
  }

  private compare(input: Record<string, unknown>, path: string): { op: CompareOp; value: number } {
    const op = input.op as CompareOp;
    if (!COMPARE_OPS.includes(op)) throw new InvalidRuleError(`${path}.op`, `must be one of ${COMPARE_OPS.join(', ')}`);
    if (typeof input.value !== 'number' || !Number.isFinite(input.value))
      throw new InvalidRuleError(`${path}.value`, 'must be a number');
    return { op, value: input.value };
  }

  private event(input: Record<string, unknown>, path: string): RuleNode {
    const aggregation = VALUE_AGGREGATIONS.find((a) => a in input);
    const occurrence = (['first', 'last'] as const).find((w) => w in input);
    const allowed = ['event', 'within', 'where'];
    if (aggregation) allowed.push(aggregation, 'op', 'value');
    else if (occurrence) allowed.push(occurrence);
    else allowed.push('count');
    this.keysOnly(input, path, allowed);
    if (typeof input.event !== 'string' || input.event.length === 0 || input.event.length > 200)
      throw new InvalidRuleError(`${path}.event`, 'must be an event name');
    const node: EventCondition = {
      kind: 'event',
      event: input.event,
      where: [],
      aggregation: 'count',
      op: 'gte',
      value: 1,
    };
    this.windowAndFilters(input, path, node);
    if (aggregation) {
      const property = input[aggregation];
      if (typeof property !== 'string' || !NAME.test(property))
        throw new InvalidRuleError(`${path}.${aggregation}`, 'must be the name of a numeric property');
      Object.assign(node, { aggregation, property }, this.compare(input, path));
    } else if (occurrence) {
      const o = input[occurrence];
      if (!isObject(o))
        throw new InvalidRuleError(`${path}.${occurrence}`, 'must be { op: before|after, value: date }');
      this.keysOnly(o, `${path}.${occurrence}`, ['op', 'value']);
      if (o.op !== 'before' && o.op !== 'after')
        throw new InvalidRuleError(`${path}.${occurrence}.op`, 'must be before or after');
      const date = parseDate(o.value, `${path}.${occurrence}.value`);
      if ('relativeMs' in date) this.timeDependent = true;
      node.occurrence = { which: occurrence, op: o.op, date };
    } else if (input.count !== undefined) {
      if (!isObject(input.count)) throw new InvalidRuleError(`${path}.count`, 'must be { op, value }');
      this.keysOnly(input.count, `${path}.count`, ['op', 'value']);
      Object.assign(node, this.compare(input.count, `${path}.count`));
    }
    return node as RuleNode;
  }
}

/**
 * Validates an admin's rule (JSON) into a {@link RuleNode}, inlining the audiences it refers to. Throws
 * {@link InvalidRuleError} naming the first bad node by its path.
 *
 * @example parseRule({ all: [{ trait: 'country', op: 'eq', value: 'FR' }, { consent: 'ads' }] }, { lookup })
 */
export function parseRule(input: unknown, options: ParseOptions, path = 'rule'): ParsedRule {
  return new RuleParser(options).parse(input, path);
}

/** Validates a computed trait's definition; throws {@link InvalidRuleError} naming the bad field. */
export function parseComputedTrait(input: unknown): { definition: ComputedTraitDefinition; timeDependent: boolean } {
  const parser = new RuleParser({ lookup: () => undefined });
  const definition = parser.definition(input, '');
  return { definition, timeDependent: parser.dependsOnClock };
}
