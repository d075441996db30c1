export { IDENTIFIER_TYPES } from '../../components/identifier-types.js';

/**
 * The audience rule language (docs/AUDIENCES.md) as the builder edits it. The builder edits the JSON tree
 * itself: nothing here decides membership, the API validates and evaluates every rule.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type RuleNode = { [key: string]: Json };

export const TRAIT_OPS = [
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
export const COUNT_OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte'];
export type ConditionKind = 'trait' | 'identifier' | 'anonymous' | 'consent' | 'event' | 'audience' | 'computed';

export const NEW_CONDITION: Record<ConditionKind | 'group', () => RuleNode> = {
  trait: () => ({ trait: 'country', op: 'eq', value: 'US' }),
  identifier: () => ({ identifier: 'email' }),
  anonymous: () => ({ anonymous: false }),
  consent: () => ({ consent: 'ads' }),
  event: () => ({ event: 'Order Completed', within: '90d' }),
  audience: () => ({ audience: '' }),
  computed: () => ({ computed: '', op: 'gte', value: 1 }),
  group: () => ({ any: [NEW_CONDITION.trait()] }),
};

export const isObject = (v: unknown): v is RuleNode => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What kind of node this is, or `undefined` for one the builder shows as JSON only. */
export function nodeKind(node: RuleNode): 'all' | 'any' | 'not' | ConditionKind | undefined {
  if (Array.isArray(node.all)) return 'all';
  if (Array.isArray(node.any)) return 'any';
  if (isObject(node.not)) return 'not';
  for (const kind of ['trait', 'identifier', 'anonymous', 'consent', 'event', 'audience', 'computed'] as const)
    if (kind in node) return kind;
  return undefined;
}

/** Event conditions the form edits: a name, a window and a count. Sums, property filters… stay in JSON. */
export function isSimpleEvent(node: RuleNode): boolean {
  return Object.keys(node).every((k) => ['event', 'within', 'count'].includes(k));
}

/** A JSON value as text: strings as they are, anything else as JSON. */
export function text(value: Json | undefined): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A value typed in a field: numbers and booleans as such, anything else as text. */
export function parseScalar(text: string): Json {
  const t = text.trim();
  if (t === 'true' || t === 'false') return t === 'true';
  if (t !== '' && /^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  return text;
}

/** The value field of a trait-like condition, as text: lists and ranges are comma-separated. */
export function valueText(value: Json | undefined): string {
  if (Array.isArray(value)) return value.map((v) => text(v)).join(', ');
  return text(value);
}

export function parseValue(op: string, text: string): Json | undefined {
  if (op === 'exists') return undefined;
  if (op === 'in' || op === 'between') return text.split(',').map((part) => parseScalar(part.trim()));
  if (op === 'before' || op === 'after') return text.trim();
  return parseScalar(text);
}

/** One line saying what a condition asks, for reasons and summaries. */
export function describeCondition(node: unknown): string {
  if (!isObject(node)) return JSON.stringify(node);
  const value = (v: Json | undefined) => (v === undefined ? '' : ` ${JSON.stringify(v)}`);
  switch (nodeKind(node)) {
    case 'all':
    case 'any': {
      const kind = 'all' in node ? 'all' : 'any';
      return `${kind} of ${(node[kind] as Json[]).length} conditions`;
    }
    case 'not':
      return `not (${describeCondition(node.not)})`;
    case 'trait':
      return `trait ${text(node.trait)} ${text(node.op)}${value(node.value)}`;
    case 'computed':
      return `computed ${text(node.computed)} ${text(node.op)}${value(node.value)}`;
    case 'identifier':
      return `has an identifier ${text(node.identifier)}`;
    case 'anonymous':
      return node.anonymous ? 'is anonymous' : 'is identified';
    case 'consent':
      return `consent ${text(node.consent)} ${node.granted === false ? 'not granted' : 'granted'}`;
    case 'audience':
      return `in audience ${text(node.audience)}`;
    case 'event': {
      const count = isObject(node.count) ? ` count ${text(node.count.op)} ${text(node.count.value)}` : '';
      const within = node.within ? ` within ${text(node.within)}` : '';
      return `event ${JSON.stringify(node.event)}${within}${count}`;
    }
    case undefined:
      return JSON.stringify(node);
  }
}
