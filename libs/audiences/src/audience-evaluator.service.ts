import { Injectable, Logger, Optional } from '@nestjs/common';
import type { Kysely } from 'kysely';
import {
  AudienceRepository,
  compileRule,
  compileRules,
  ComputedTraitRepository,
  Database,
  MAX_AUDIENCES_PER_PASS,
  type MembershipDiff,
  type AudienceRow,
  type ComputedTraitRow,
  type LeafNode,
  type RuleNode,
  type Tables,
} from '@plexus/storage';
import { AudienceNotFoundError } from './audience.errors.js';
import { AudienceMetrics } from './audience.metrics.js';
import { Clock } from './clock.js';
import { explainMembership, type MembershipReason } from './membership-reason.js';
import { parseRule, type ParseOptions } from './rule.parser.js';

export type EvaluationKind = 'full' | 'profiles' | 'schedule' | 'rule';

export interface EvaluationResult {
  audienceId: string;
  entered: number;
  exited: number;
  size: number;
  evaluatedAt: Date;
}

export interface ProfileAudienceView {
  audienceId: string;
  name: string;
  member: boolean;
  enteredAt: Date | null;
  /** Why the profile is in or out now, evaluated live. */
  reason: MembershipReason;
}

/** What rules refer to by id or name: the stored audiences and computed traits. */
export interface RuleContext {
  audiences: AudienceRow[];
  computed: ComputedTraitRow[];
}

export function parseOptions(context: RuleContext, selfId?: string): ParseOptions {
  const audiences = new Map(context.audiences.map((a) => [a.id, a.rule]));
  const computed = new Map(context.computed.map((c) => [c.name, c.definition]));
  return { lookup: (id) => audiences.get(id), computed: (name) => computed.get(name), selfId };
}

/** Parses a stored rule; the audiences and computed traits it uses are inlined, so always current. */
export function storedRule(audience: AudienceRow, context: RuleContext): RuleNode {
  return parseRule(audience.rule, parseOptions(context, audience.id)).rule;
}

/**
 * Evaluates audiences: a full evaluation of one audience diffs the members against the rule in a read-only
 * statement (split across reader connections on a large database) and deletes the leavers; the
 * changed profiles are then explained (which conditions decided) and appended to the change log in the same
 * transaction. Real-time evaluation runs the same statement restricted to the profiles that changed.
 */
@Injectable()
export class AudienceEvaluator {
  private readonly logger = new Logger('Audiences');

  constructor(
    private readonly database: Database,
    private readonly audiences: AudienceRepository,
    private readonly computed: ComputedTraitRepository,
    private readonly clock: Clock,
    @Optional() private readonly metrics?: AudienceMetrics,
  ) {}

  async context(): Promise<RuleContext> {
    const [audiences, computed] = await Promise.all([this.audiences.all(), this.computed.all()]);
    return { audiences, computed };
  }

  /** Full evaluation of one audience. */
  async evaluate(audienceId: string, kind: EvaluationKind = 'full'): Promise<EvaluationResult> {
    const context = await this.context();
    const result = await this.database.db.transaction().execute(async (trx) => {
      const row = await this.audiences.lock(trx, audienceId);
      if (!row) throw new AudienceNotFoundError(audienceId);
      return this.evaluateIn(trx, row, storedRule(row, context), kind);
    });
    this.metrics?.committed(kind, [result]);
    return result;
  }

  /**
   * Evaluates `audience` inside the caller's transaction (which holds its lock or created it). With
   * `profileIds`, only those profiles; the result is undefined-free: sizes are kept in step either way.
   */
  async evaluateIn(
    trx: Kysely<Tables>,
    audience: AudienceRow,
    rule: RuleNode,
    kind: EvaluationKind,
    profileIds?: string[],
    now: Date = this.clock.now(),
  ): Promise<EvaluationResult> {
    const diff = await this.audiences.applyMembership(trx, audience.id, rule, { now, profileIds });
    return this.record(trx, audience, rule, kind, diff, now, profileIds !== undefined);
  }

  /**
   * Full evaluation of several audiences in one transaction and one read: one pass over the profiles,
   * events and identifiers for all their rules (instead of one per audience), then each audience's changes are
   * explained and logged as a single evaluation would. Audiences deleted meanwhile are left out.
   */
  async evaluateMany(audienceIds: string[], kind: EvaluationKind = 'full'): Promise<EvaluationResult[]> {
    const ids = [...new Set(audienceIds)];
    if (ids.length === 0) return [];
    const context = await this.context();
    const results = await this.database.db.transaction().execute(async (trx) => {
      const locked = await this.audiences.lockMany(trx, ids);
      const now = this.clock.now();
      const out: EvaluationResult[] = [];
      for (let start = 0; start < locked.length; start += MAX_AUDIENCES_PER_PASS) {
        const pass = locked.slice(start, start + MAX_AUDIENCES_PER_PASS);
        const rules = pass.map((row) => storedRule(row, context));
        const diffs = await this.audiences.applyMemberships(
          trx,
          pass.map((row) => row.id),
          rules,
          { now },
        );
        for (const [i, row] of pass.entries())
          out.push(await this.record(trx, row, rules[i], kind, diffs.get(row.id)!, now, false));
      }
      return out;
    });
    this.metrics?.committed(kind, results);
    return results;
  }

  /**
   * Explains an evaluation's changes, appends them to the change log, inserts the entering members with their
   * reasons and stores the new size (with a size point, except for a real-time evaluation that moved nothing).
   */
  private async record(
    trx: Kysely<Tables>,
    audience: AudienceRow,
    rule: RuleNode,
    kind: EvaluationKind,
    { entered, exited }: MembershipDiff,
    now: Date,
    incremental: boolean,
  ): Promise<EvaluationResult> {
    const changed = [...exited.map((e) => e.profileId), ...entered];
    const reasons = await this.reasons(trx, rule, now, changed, kind);
    const log = [
      ...exited.map((e) => ({ profileId: e.profileId, change: 'exited' as const, reason: reasons.get(e.profileId)! })),
      ...entered.map((id) => ({ profileId: id, change: 'entered' as const, reason: reasons.get(id)! })),
    ];
    await this.audiences.logChanges(trx, audience.id, log, now);
    if (incremental && changed.length === 0)
      return { audienceId: audience.id, entered: 0, exited: 0, size: audience.size, evaluatedAt: now };
    const size = await this.audiences.finishEvaluation(trx, audience.id, {
      entered: entered.length,
      exited: exited.length,
      now,
      kind,
      // Real-time evaluations add a point only when the size moved; the others always do.
      recordPoint: !incremental || changed.length > 0,
    });
    return { audienceId: audience.id, entered: entered.length, exited: exited.length, size, evaluatedAt: now };
  }

  /** Why each of these profiles is in or out of `rule` now (merged-away and deleted profiles say so). */
  private async reasons(
    db: Kysely<Tables>,
    rule: RuleNode,
    now: Date,
    profileIds: string[],
    kind: string,
  ): Promise<Map<string, MembershipReason>> {
    const out = new Map<string, MembershipReason>();
    if (profileIds.length === 0) return out;
    const compiled = compileRule(rule, { now, profileIds });
    const rows = await this.audiences.explain(db, compiled, profileIds);
    for (const row of rows) {
      if (row.mergedInto) {
        out.set(row.profileId, { matched: false, because: [], evaluation: kind, mergedInto: row.mergedInto });
        continue;
      }
      const results = new Map<LeafNode, { ok: boolean; value: unknown }>();
      compiled.leaves.forEach((leaf, i) => {
        const [ok, value] = row.leaves[i] ?? [false, null];
        results.set(leaf.node, { ok, value });
      });
      out.set(row.profileId, { ...explainMembership(rule, results), evaluation: kind });
    }
    for (const id of profileIds)
      if (!out.has(id)) out.set(id, { matched: false, because: [], evaluation: kind, deleted: true });
    return out;
  }

  /**
   * Re-evaluates these profiles against every audience (real time), in one transaction: the audiences are
   * locked in one statement, one statement finds those whose members among the profiles the change moved, and
   * only those are rewritten (with reasons and change log). Holding the locks before looking means no
   * evaluation of the same audiences is in flight, so what the check saw is what the rewrite would see.
   */
  async evaluateProfiles(profileIds: string[]): Promise<EvaluationResult[]> {
    const ids = [...new Set(profileIds)];
    if (ids.length === 0) return [];
    const context = await this.context();
    if (context.audiences.length === 0) return [];
    const evaluated = await this.database.db.transaction().execute(async (trx) => {
      const locked = await this.audiences.lockMany(
        trx,
        context.audiences.map((a) => a.id),
      );
      const now = this.clock.now();
      const rules = locked.map((row) => ({ row, rule: storedRule(row, context) }));
      const moved = await this.audiences.membershipsToChange(
        trx,
        rules.map(({ row }) => row.id),
        compileRules(
          rules.map(({ rule }) => rule),
          { now, profileIds: ids },
        ),
        ids,
      );
      // Nothing moved, so nothing is written: the transaction only holds the audiences' row locks, which need not
      // reach the disk (a crash releases them anyway). Its commit then does not wait for the WAL to be flushed,
      // which is most of the time of the common case — a change that moves no membership.
      if (moved.size === 0) await this.audiences.commitWithoutFlush(trx);
      const results: EvaluationResult[] = [];
      for (const { row, rule } of rules)
        results.push(
          moved.has(row.id)
            ? await this.evaluateIn(trx, row, rule, 'profiles', ids, now)
            : { audienceId: row.id, entered: 0, exited: 0, size: row.size, evaluatedAt: now },
        );
      return results;
    });
    this.metrics?.committed('profiles', evaluated);
    return evaluated;
  }

  /** Full evaluation of every audience whose rule depends on the clock (in one pass): members age out on time. */
  async recheckTimeDependent(): Promise<EvaluationResult[]> {
    const ids = (await this.audiences.all()).filter((a) => a.timeDependent).map((a) => a.id);
    return this.evaluateMany(ids, 'schedule');
  }

  /** Every audience, with whether the profile is in it and why (evaluated now). */
  async explainProfile(profileId: string): Promise<ProfileAudienceView[]> {
    const context = await this.context();
    const members = new Map((await this.audiences.membershipsOf(profileId)).map((m) => [m.audienceId, m]));
    const now = this.clock.now();
    const views: ProfileAudienceView[] = [];
    for (const a of context.audiences) {
      const rule = storedRule(a, context);
      const reason = (await this.reasons(this.database.db, rule, now, [profileId], 'explain')).get(profileId)!;
      const member = members.get(a.id);
      views.push({
        audienceId: a.id,
        name: a.name,
        member: member !== undefined,
        enteredAt: member?.enteredAt ?? null,
        reason,
      });
    }
    return views;
  }
}
