import { RE2JS } from 're2js';
import { IDENTIFIER_TYPES, isIdentifierType, type IdentifierType } from '@plexus/sdk';

/** How one identifier type takes part in resolution. */
export interface IdentifierRule {
  type: IdentifierType;
  /** false: the identifier still finds its profile, but never unites two profiles. */
  merges: boolean;
  /** Most distinct values per profile (for `external_id`: per `<sourceId>:<object>`). */
  limit: number;
  /** Days unseen after which the link expires (anonymous types); null keeps it forever. */
  ttlDays: number | null;
}

/** A blocked value: exact values and/or one pattern, for one identifier type or all (`type` absent). */
export interface BlockedValueRule {
  type?: IdentifierType;
  values?: string[];
  pattern?: string;
  reason?: string;
}

/**
 * The identity rules. `priority` lists every identifier type, most trusted first: when a merge would break a
 * limit, the record's lowest-priority conflicting identifiers are dropped first.
 */
export interface IdentityRules {
  identifiers: IdentifierRule[];
  priority: IdentifierType[];
  blocked: BlockedValueRule[];
  /** Super-node guard: an identifier of one of these types seen with more than `maxPeople` identified profiles stops merging. */
  superNode: { maxPeople: number; types: IdentifierType[] };
  /** Per trait, sources in priority order: a higher-priority source's value wins over a later observation. */
  traitSourcePriority: Record<string, string[]>;
}

export const ANONYMOUS_TYPES: IdentifierType[] = ['anonymous_id', 'cookie_id', 'device_id'];
/** Types that say who a person is; an anonymous identifier linking two profiles holding these is suspicious. */
export const PERSON_TYPES: IdentifierType[] = ['user_id', 'email', 'email_sha256', 'phone', 'external_id'];

// "A run of one digit" without a backreference, which RE2 does not have.
const ONE_DIGIT_RUN = `(${Array.from({ length: 10 }, (_, d) => `${d}{6,}`).join('|')})`;

/**
 * Placeholders that broken templates, serialisers and forms put where an identifier belongs — blocked for every
 * identifier type, compared case-insensitively, so two strangers never merge through one of them.
 */
export function defaultBlockedValues(): BlockedValueRule[] {
  return [
    {
      values: ['', 'null', 'nil', 'none', 'undefined', 'void', 'n/a', 'na', '#n/a', 'unknown', 'not set', '(not set)'],
      reason: 'placeholder',
    },
    {
      values: ['nan', 'infinity', '+infinity', '-infinity', 'true', 'false', '0', '-1', '[]', '{}', '(null)', '<null>'],
      reason: 'serialised non-value',
    },
    { pattern: '^\\[object [a-z]*\\]$', reason: 'serialised object' },
    { pattern: '^\\{\\{.*\\}\\}$', reason: 'unrendered template ({{…}})' },
    { pattern: '^\\$\\{.*\\}$', reason: 'unrendered template (${…})' },
    { pattern: '^#\\{.*\\}$', reason: 'unrendered template (#{…})' },
    { pattern: '^%%.*%%$', reason: 'unrendered template (%%…%%)' },
    { pattern: '^<%.*%>$', reason: 'unrendered template (<%…%>)' },
    { pattern: '^\\{%.*%\\}$', reason: 'unrendered template ({%…%})' },
    { pattern: '^\\*\\|.*\\|\\*$', reason: 'unrendered merge tag (*|…|*)' },
    { pattern: '^\\[\\[.*\\]\\]$', reason: 'unrendered template ([[…]])' },
    // Only blanks, quotes and punctuation: `""`, `' '`, `--`, `N/A`-style fillers, `?`.
    { pattern: '^[\\s"\'`.,;:_\\-–—/\\\\|*#?!()\\[\\]{}<>~^+=]*$', reason: 'empty value' },
    {
      type: 'email',
      pattern: '^(test|example|noreply|no-reply|null|none|unknown|n/?a)@',
      reason: 'placeholder email',
    },
    { type: 'email', pattern: '@(example\\.(com|org|net)|test\\.com|email\\.com)$', reason: 'placeholder domain' },
    {
      type: 'email_sha256',
      // SHA-256 of '' and of 'test@example.com'
      values: [
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        '973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b',
      ],
      reason: 'hash of a placeholder',
    },
    { type: 'device_id', pattern: '^[0-]+$', reason: 'zeroed device id' },
    { type: 'phone', pattern: `^\\+?${ONE_DIGIT_RUN}$`, reason: 'run of one digit' },
    { pattern: `^${ONE_DIGIT_RUN}$`, reason: 'run of one digit' },
  ];
}

export function defaultIdentityRules(): IdentityRules {
  const rule = (type: IdentifierType, limit: number, ttlDays: number | null = null): IdentifierRule => ({
    type,
    merges: true,
    limit,
    ttlDays,
  });
  return {
    identifiers: [
      rule('user_id', 1),
      rule('external_id', 1),
      rule('email', 5),
      rule('email_sha256', 5),
      rule('phone', 5),
      rule('device_id', 10, 90),
      rule('anonymous_id', 50, 90),
      rule('cookie_id', 50, 90),
    ],
    priority: ['user_id', 'external_id', 'email', 'email_sha256', 'phone', 'device_id', 'anonymous_id', 'cookie_id'],
    blocked: defaultBlockedValues(),
    superNode: { maxPeople: 1, types: [...ANONYMOUS_TYPES] },
    traitSourcePriority: {},
  };
}

export interface RuleProblem {
  field: string;
  problems: string[];
}

/**
 * Checks rules sent by an admin; returns the problems by field (empty when valid). Unknown keys are
 * problems too, so a typo never silently does nothing.
 */
export function validateIdentityRules(input: unknown): RuleProblem[] {
  const out: RuleProblem[] = [];
  const problem = (field: string, text: string): void => {
    const existing = out.find((p) => p.field === field);
    if (existing) existing.problems.push(text);
    else out.push({ field, problems: [text] });
  };
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return [{ field: '(body)', problems: ['must be an object'] }];
  }
  const body = input as Record<string, unknown>;
  for (const key of Object.keys(body)) {
    if (!['identifiers', 'priority', 'blocked', 'superNode', 'traitSourcePriority'].includes(key))
      problem(key, 'is not a known setting');
  }
  if (!Array.isArray(body.identifiers)) problem('identifiers', 'must be an array');
  else {
    const seen = new Set<string>();
    body.identifiers.forEach((raw: unknown, i) => {
      const f = `identifiers[${i}]`;
      if (typeof raw !== 'object' || raw === null) return problem(f, 'must be an object');
      const r = raw as Record<string, unknown>;
      for (const key of Object.keys(r))
        if (!['type', 'merges', 'limit', 'ttlDays'].includes(key)) problem(`${f}.${key}`, 'is not a known setting');
      if (!isIdentifierType(r.type)) problem(`${f}.type`, `must be one of ${IDENTIFIER_TYPES.join(', ')}`);
      else if (seen.has(r.type)) problem(`${f}.type`, `${r.type} is listed twice`);
      else seen.add(r.type);
      if (typeof r.merges !== 'boolean') problem(`${f}.merges`, 'must be a boolean');
      if (!Number.isInteger(r.limit) || (r.limit as number) < 1 || (r.limit as number) > 10_000)
        problem(`${f}.limit`, 'must be an integer from 1 to 10000');
      if (r.ttlDays !== null && (!Number.isInteger(r.ttlDays) || (r.ttlDays as number) < 1))
        problem(`${f}.ttlDays`, 'must be a positive integer or null');
    });
    const missing = IDENTIFIER_TYPES.filter((t) => !seen.has(t));
    if (missing.length) problem('identifiers', `must have a rule for every type; missing ${missing.join(', ')}`);
  }
  if (!Array.isArray(body.priority)) problem('priority', 'must be an array');
  else {
    const bad = body.priority.filter((t) => !isIdentifierType(t));
    if (bad.length) problem('priority', `unknown types ${bad.map(String).join(', ')}`);
    if (new Set(body.priority).size !== body.priority.length) problem('priority', 'lists a type twice');
    const missing = IDENTIFIER_TYPES.filter((t) => !(body.priority as unknown[]).includes(t));
    if (missing.length) problem('priority', `must list every type; missing ${missing.join(', ')}`);
  }
  if (!Array.isArray(body.blocked)) problem('blocked', 'must be an array');
  else
    body.blocked.forEach((raw: unknown, i) => {
      const f = `blocked[${i}]`;
      if (typeof raw !== 'object' || raw === null) return problem(f, 'must be an object');
      const b = raw as Record<string, unknown>;
      for (const key of Object.keys(b))
        if (!['type', 'values', 'pattern', 'reason'].includes(key)) problem(`${f}.${key}`, 'is not a known setting');
      if (b.type !== undefined && !isIdentifierType(b.type))
        problem(`${f}.type`, `must be one of ${IDENTIFIER_TYPES.join(', ')}`);
      if (b.values !== undefined && (!Array.isArray(b.values) || b.values.some((v) => typeof v !== 'string')))
        problem(`${f}.values`, 'must be an array of strings');
      if (b.pattern !== undefined) {
        if (typeof b.pattern !== 'string') problem(`${f}.pattern`, 'must be a string');
        else {
          const invalid = patternProblem(b.pattern);
          if (invalid) problem(`${f}.pattern`, invalid);
        }
      }
      if (b.values === undefined && b.pattern === undefined) problem(f, 'needs values or a pattern');
      if (b.reason !== undefined && typeof b.reason !== 'string') problem(`${f}.reason`, 'must be a string');
    });
  const sn = body.superNode as Record<string, unknown> | undefined;
  if (typeof sn !== 'object' || sn === null) problem('superNode', 'must be an object');
  else {
    if (!Number.isInteger(sn.maxPeople) || (sn.maxPeople as number) < 1)
      problem('superNode.maxPeople', 'must be a positive integer');
    if (!Array.isArray(sn.types) || sn.types.some((t) => !isIdentifierType(t)))
      problem('superNode.types', `must be an array of ${IDENTIFIER_TYPES.join(', ')}`);
  }
  const tp = body.traitSourcePriority;
  if (typeof tp !== 'object' || tp === null || Array.isArray(tp)) problem('traitSourcePriority', 'must be an object');
  else
    for (const [trait, sources] of Object.entries(tp))
      if (!Array.isArray(sources) || sources.some((s) => typeof s !== 'string'))
        problem(`traitSourcePriority.${trait}`, 'must be an array of source ids');
  return out;
}

/** Longest blocked-value pattern accepted (RE2 runs in linear time, but its program grows with the pattern). */
export const MAX_PATTERN_LENGTH = 1000;

/**
 * Compiles an admin's pattern with RE2 semantics (`re2js`: matching is linear in the input, so no pattern can stall
 * ingestion). Backreferences and lookaround do not exist in RE2; such patterns are refused, never run elsewhere.
 */
export function compilePattern(pattern: string): RE2JS {
  if (pattern.length > MAX_PATTERN_LENGTH) throw new Error(`is longer than ${MAX_PATTERN_LENGTH} characters`);
  return RE2JS.compile(pattern, RE2JS.CASE_INSENSITIVE);
}

/** Why a pattern is refused, or undefined when the linear-time engine accepts it. */
export function patternProblem(pattern: string): string | undefined {
  try {
    compilePattern(pattern);
    return undefined;
  } catch (error) {
    return `is not a pattern the linear-time RE2 engine accepts (no backreferences or lookaround): ${(error as Error).message}`;
  }
}

/** Rules compiled for the hot path: lookups by type, compiled patterns. */
export class CompiledRules {
  readonly byType: Map<IdentifierType, IdentifierRule>;
  /** Lower number = higher priority. */
  readonly rank: Map<IdentifierType, number>;
  readonly superNodeTypes: Set<IdentifierType>;
  private readonly exact = new Map<string, string>();
  /** Per type, its patterns and the type-less ones as one RE2 alternation: one linear pass per value. */
  private readonly patterns = new Map<IdentifierType, RE2JS>();
  /** Stored patterns the linear-time engine refuses (saved before it was used): they block nothing, and are reported. */
  readonly unusablePatterns: string[] = [];

  constructor(readonly rules: IdentityRules) {
    this.byType = new Map(rules.identifiers.map((r) => [r.type, r]));
    this.rank = new Map(rules.priority.map((t, i) => [t, i]));
    this.superNodeTypes = new Set(rules.superNode.types);
    const usable: Array<{ type?: IdentifierType; pattern: string }> = [];
    for (const b of rules.blocked) {
      const reason = b.reason ?? 'blocked';
      for (const v of b.values ?? []) {
        const key = `${b.type ?? '*'}\u0000${v.trim().toLowerCase()}`;
        this.exact.set(key, reason);
      }
      if (b.pattern) {
        if (patternProblem(b.pattern)) this.unusablePatterns.push(b.pattern);
        else usable.push({ type: b.type, pattern: b.pattern });
      }
    }
    for (const type of IDENTIFIER_TYPES) {
      const own = usable.filter((u) => !u.type || u.type === type).map((u) => `(?:${u.pattern})`);
      if (own.length > 0) this.patterns.set(type, RE2JS.compile(own.join('|'), RE2JS.CASE_INSENSITIVE));
    }
  }

  rule(type: IdentifierType): IdentifierRule {
    return this.byType.get(type) ?? { type, merges: true, limit: 1, ttlDays: null };
  }

  /** Blocked values compare case-insensitively: a placeholder is one in any case. */
  isBlocked = (type: IdentifierType, value: string): boolean => {
    const lower = value.toLowerCase();
    if (this.exact.has(`*\u0000${lower}`) || this.exact.has(`${type}\u0000${lower}`)) return true;
    // `test` finds a match anywhere, like RegExp.prototype.test (about 20 times faster than a Matcher).
    return this.patterns.get(type)?.test(value) ?? false;
  };
}
