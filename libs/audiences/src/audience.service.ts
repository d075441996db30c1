import { randomUUID } from 'node:crypto';
import { Injectable, Optional } from '@nestjs/common';
import {
  AudienceRepository,
  compileRule,
  Database,
  type AudienceRow,
  type RuleNode,
  type SizePoint,
} from '@plexus/storage';
import { AudienceInUseError, AudienceNotFoundError, InvalidRuleError } from './audience.errors.js';
import {
  AudienceEvaluator,
  parseOptions,
  storedRule,
  type EvaluationResult,
  type RuleContext,
} from './audience-evaluator.service.js';
import { AudienceMetrics } from './audience.metrics.js';
import { Clock } from './clock.js';
import { parseRule, type ParsedRule } from './rule.parser.js';

/** Profiles sampled to warn about traits a rule uses with a type they never have. */
const WARNING_SAMPLE = 10_000;

export interface AudienceInput {
  name: string;
  description?: string | null;
  rule: unknown;
}

export interface AudienceView {
  id: string;
  name: string;
  description: string | null;
  rule: unknown;
  size: number;
  lastEvaluatedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  /** Set on create and update: what the evaluation that followed changed. */
  evaluation?: EvaluationResult;
  /** Conditions that are valid but look like they cannot match (a trait never seen, or of another type). */
  warnings?: string[];
}

export const toAudienceView = (a: AudienceRow): AudienceView => ({
  id: a.id,
  name: a.name,
  description: a.description,
  rule: a.rule,
  size: a.size,
  lastEvaluatedAt: a.lastEvaluatedAt,
  createdAt: a.createdAt,
  updatedAt: a.updatedAt,
});

function validName(name: unknown, path: string): string {
  if (typeof name !== 'string' || name.trim().length === 0 || name.length > 200)
    throw new InvalidRuleError(path, 'must be a non-empty string of at most 200 characters');
  return name.trim();
}

/** Creating, changing and deleting audiences; previews. Each change of rule re-evaluates in its transaction. */
@Injectable()
export class AudienceService {
  constructor(
    private readonly database: Database,
    private readonly audiences: AudienceRepository,
    private readonly evaluator: AudienceEvaluator,
    private readonly clock: Clock,
    @Optional() private readonly metrics?: AudienceMetrics,
  ) {}

  private async parse(rule: unknown, selfId?: string): Promise<ParsedRule> {
    return parseRule(rule, parseOptions(await this.evaluator.context(), selfId));
  }

  async create(input: AudienceInput): Promise<AudienceView> {
    const name = validName(input.name, 'name');
    const parsed = await this.parse(input.rule);
    const warnings = await this.warnings(parsed.rule);
    const id = randomUUID();
    const evaluation = await this.database.db.transaction().execute(async (trx) => {
      await this.audiences.insert(trx, {
        id,
        name,
        description: input.description ?? null,
        rule: input.rule,
        timeDependent: parsed.timeDependent,
      });
      const row = (await this.audiences.lock(trx, id))!;
      return this.evaluator.evaluateIn(trx, row, parsed.rule, 'full');
    });
    this.metrics?.committed('full', [evaluation]);
    return { ...toAudienceView((await this.audiences.get(id))!), evaluation, warnings };
  }

  async update(id: string, patch: Partial<AudienceInput>): Promise<AudienceView> {
    const current = await this.audiences.get(id);
    if (!current) throw new AudienceNotFoundError(id);
    const name = patch.name !== undefined ? validName(patch.name, 'name') : undefined;
    let parsed: ParsedRule | undefined;
    let warnings: string[] | undefined;
    if (patch.rule !== undefined) {
      parsed = await this.parse(patch.rule, id);
      warnings = await this.warnings(parsed.rule);
    }
    // Read before the transaction: on the embedded database the transaction holds the only connection, so a read
    // outside it from inside it would wait forever.
    const base = parsed ? await this.evaluator.context() : undefined;
    const evaluations = await this.database.db.transaction().execute(async (trx) => {
      if (!(await this.audiences.lock(trx, id))) throw new AudienceNotFoundError(id);
      await this.audiences.update(trx, id, {
        name,
        description: patch.description,
        rule: patch.rule,
        timeDependent: parsed?.timeDependent,
      });
      if (!parsed || !base) return [];
      // This audience and every audience that inlines it see the new rule: re-evaluate them all, in order.
      const context: RuleContext = { ...base, audiences: await this.audiences.all(trx) };
      const affected = context.audiences.filter((a) => a.id === id || this.dependsOn(a, id, context));
      const results: EvaluationResult[] = [];
      for (const a of affected) {
        const row = (await this.audiences.lock(trx, a.id))!;
        results.push(await this.evaluator.evaluateIn(trx, row, storedRule(row, context), 'rule'));
      }
      return results;
    });
    this.metrics?.committed('rule', evaluations);
    const view: AudienceView = toAudienceView((await this.audiences.get(id))!);
    const evaluation = evaluations.find((e) => e.audienceId === id);
    return { ...view, ...(evaluation ? { evaluation } : {}), ...(warnings ? { warnings } : {}) };
  }

  private dependsOn(audience: AudienceRow, id: string, context: RuleContext): boolean {
    if (audience.id === id) return false;
    return parseRule(audience.rule, parseOptions(context, audience.id)).references.includes(id);
  }

  async get(id: string): Promise<AudienceView> {
    const row = await this.audiences.get(id);
    if (!row) throw new AudienceNotFoundError(id);
    return toAudienceView(row);
  }

  async list(limit: number, after?: string): Promise<AudienceView[]> {
    return (await this.audiences.list(limit, after)).map(toAudienceView);
  }

  /** Deletes an audience with its members, change log and sizes; refused while another rule uses it. */
  async delete(id: string): Promise<void> {
    const context = await this.evaluator.context();
    if (!context.audiences.some((a) => a.id === id)) throw new AudienceNotFoundError(id);
    const users = context.audiences.filter((a) => this.dependsOn(a, id, context)).map((a) => a.id);
    if (users.length > 0) throw new AudienceInUseError(id, users);
    await this.database.db.transaction().execute(async (trx) => {
      await this.audiences.lock(trx, id);
      await this.audiences.delete(trx, id);
    });
  }

  /** Size points, oldest first, after `after`. */
  async sizes(id: string, limit: number, after?: Date): Promise<SizePoint[]> {
    if (!(await this.audiences.get(id))) throw new AudienceNotFoundError(id);
    return this.audiences.sizes(id, limit, after);
  }

  /** Members in common for each pair of audiences (`[a, a]` is a's size). */
  async overlap(ids: string[]): Promise<{
    audiences: Array<{ id: string; name: string; size: number }>;
    pairs: Array<{ a: string; b: string; count: number }>;
  }> {
    const unique = [...new Set(ids)];
    if (unique.length < 2 || unique.length > 20)
      throw new InvalidRuleError('ids', 'must list 2 to 20 audience ids, separated by commas');
    const bad = unique.find((id) => !/^[0-9a-f-]{36}$/i.test(id));
    if (bad) throw new InvalidRuleError('ids', `'${bad}' is not an audience id`);
    const rows = await this.audiences.getMany(unique);
    const missing = unique.find((id) => !rows.some((r) => r.id === id));
    if (missing) throw new AudienceNotFoundError(missing);
    const counts = new Map((await this.audiences.overlap(unique)).map((p) => [`${p.a}|${p.b}`, p.count]));
    const pairs: Array<{ a: string; b: string; count: number }> = [];
    for (let i = 0; i < unique.length; i++)
      for (let j = i + 1; j < unique.length; j++) {
        const [a, b] = unique[i] < unique[j] ? [unique[i], unique[j]] : [unique[j], unique[i]];
        pairs.push({ a: unique[i], b: unique[j], count: counts.get(`${a}|${b}`) ?? 0 });
      }
    return {
      audiences: unique.map((id) => {
        const r = rows.find((x) => x.id === id)!;
        return { id, name: r.name, size: counts.get(`${id}|${id}`) ?? 0 };
      }),
      pairs,
    };
  }

  /** Size and a sample of a rule's members, without saving anything. */
  async preview(rule: unknown, sampleSize = 10): Promise<{ size: number; sample: string[]; warnings: string[] }> {
    const parsed = await this.parse(rule);
    const warnings = await this.warnings(parsed.rule);
    const result = await this.audiences.preview(compileRule(parsed.rule, { now: this.clock.now() }), sampleSize);
    return { ...result, warnings };
  }

  /** Trait conditions that cannot match what a sample of profiles holds: warnings, not errors. */
  private async warnings(rule: RuleNode): Promise<string[]> {
    const traits: Array<Extract<RuleNode, { kind: 'trait' }>> = [];
    const walk = (n: RuleNode): void => {
      if (n.kind === 'all' || n.kind === 'any') n.children.forEach(walk);
      else if (n.kind === 'not') walk(n.child);
      else if (n.kind === 'trait') traits.push(n);
    };
    walk(rule);
    if (traits.length === 0) return [];
    const seen = await this.audiences.traitTypes(WARNING_SAMPLE);
    if (seen.size === 0) return [];
    const out: string[] = [];
    for (const t of traits) {
      const types = seen.get(t.trait);
      if (!types) {
        if (t.op !== 'exists' && t.op !== 'neq')
          out.push(`${t.path}: no sampled profile has a trait '${t.trait}'; the condition matches nobody yet`);
        continue;
      }
      const wanted =
        t.op === 'before' || t.op === 'after'
          ? ['string', 'number']
          : t.op === 'contains'
            ? ['string', 'array']
            : t.op === 'between' || typeof t.value === 'number'
              ? ['number', ...(t.op === 'in' ? ['array'] : [])]
              : t.op === 'exists' || t.op === 'neq' || t.op === 'in'
                ? undefined
                : [typeof t.value === 'boolean' ? 'boolean' : 'string'];
      if (wanted && !wanted.some((w) => types.has(w)))
        out.push(
          `${t.path}: trait '${t.trait}' is ${[...types].join('/')} on sampled profiles; ` +
            `${t.op} ${JSON.stringify(t.value ?? t.date)} cannot match it`,
        );
    }
    return out;
  }
}
