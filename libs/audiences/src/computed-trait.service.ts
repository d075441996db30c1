import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Kysely } from 'kysely';
import { ComputedTraitRepository, Database, type ComputedTraitRow, type RuleNode, type Tables } from '@plexus/storage';
import { ComputedTraitConflictError, ComputedTraitNotFoundError, InvalidRuleError } from './audience.errors.js';
import { AudienceEvaluator, storedRule } from './audience-evaluator.service.js';
import { Clock } from './clock.js';
import { parseComputedTrait } from './rule.parser.js';

const NAME = /^[A-Za-z_][\w]{0,99}$/;

export interface ComputedTraitInput {
  name: string;
  event: string;
  within?: string;
  where?: unknown[];
  aggregation: string;
  property?: string;
}

export interface ComputedTraitView extends Omit<ComputedTraitRow, 'definition'> {
  event: string;
  within?: string;
  where?: unknown[];
  aggregation: string;
  property?: string;
  /** Set on create and update: profiles whose value was written. */
  written?: number;
}

const toView = (row: ComputedTraitRow): ComputedTraitView => ({
  id: row.id,
  name: row.name,
  ...(row.definition as Omit<ComputedTraitInput, 'name'>),
  timeDependent: row.timeDependent,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

function usesComputed(node: RuleNode, name: string): boolean {
  switch (node.kind) {
    case 'all':
    case 'any':
      return node.children.some((c) => usesComputed(c, name));
    case 'not':
      return usesComputed(node.child, name);
    case 'computed':
      return node.name === name;
    case 'audience':
      return usesComputed(node.rule, name);
    case 'trait':
    case 'event':
    case 'identifier':
    case 'anonymous':
    case 'consent':
      return false;
  }
}

/**
 * Computed traits: named aggregations of each profile's events (count, sum, min, max, avg, most frequent,
 * first, last value, within a window), kept per profile and refreshed with the profiles that change.
 */
@Injectable()
export class ComputedTraitService {
  constructor(
    private readonly database: Database,
    private readonly traits: ComputedTraitRepository,
    private readonly evaluator: AudienceEvaluator,
    private readonly clock: Clock,
  ) {}

  private validate(input: Partial<ComputedTraitInput>): {
    definition: Omit<ComputedTraitInput, 'name'>;
    parsed: ReturnType<typeof parseComputedTrait>;
  } {
    const { name: _name, ...definition } = input;
    const parsed = parseComputedTrait(definition);
    return { definition: definition as Omit<ComputedTraitInput, 'name'>, parsed };
  }

  private async usedBy(name: string): Promise<string[]> {
    const context = await this.evaluator.context();
    return context.audiences.filter((a) => usesComputed(storedRule(a, context), name)).map((a) => a.id);
  }

  async create(input: ComputedTraitInput): Promise<ComputedTraitView> {
    if (typeof input.name !== 'string' || !NAME.test(input.name))
      throw new InvalidRuleError('name', 'must be a letter or _ then letters, digits or _ (at most 100)');
    const { definition, parsed } = this.validate(input);
    if ((await this.traits.all()).some((t) => t.name === input.name))
      throw new ComputedTraitConflictError(`A computed trait named ${input.name} exists`);
    const id = randomUUID();
    const written = await this.database.db.transaction().execute(async (trx) => {
      await this.traits.insert(trx, { id, name: input.name, definition, timeDependent: parsed.timeDependent });
      return this.traits.refresh(trx, id, parsed.definition, this.clock.now());
    });
    return { ...toView((await this.traits.get(id))!), written };
  }

  async list(): Promise<ComputedTraitView[]> {
    return (await this.traits.all()).map(toView);
  }

  async get(id: string): Promise<ComputedTraitView> {
    const row = await this.traits.get(id);
    if (!row) throw new ComputedTraitNotFoundError(id);
    return toView(row);
  }

  /** Changes the definition (the name stays: rules refer to it) and recomputes every value. */
  async update(id: string, patch: Partial<ComputedTraitInput>): Promise<ComputedTraitView> {
    const row = await this.traits.get(id);
    if (!row) throw new ComputedTraitNotFoundError(id);
    if (patch.name !== undefined && patch.name !== row.name)
      throw new ComputedTraitConflictError(
        `A computed trait cannot be renamed (rules refer to it by name); create ${patch.name} instead`,
      );
    const { definition, parsed } = this.validate({ ...(row.definition as object), ...patch });
    const written = await this.database.db.transaction().execute(async (trx) => {
      await this.traits.update(trx, id, { definition, timeDependent: parsed.timeDependent });
      return this.traits.refresh(trx, id, parsed.definition, this.clock.now());
    });
    return { ...toView((await this.traits.get(id))!), written };
  }

  async delete(id: string): Promise<void> {
    const row = await this.traits.get(id);
    if (!row) throw new ComputedTraitNotFoundError(id);
    const users = await this.usedBy(row.name);
    if (users.length > 0)
      throw new ComputedTraitConflictError(
        `Computed trait ${row.name} is used by the rules of audiences ${users.join(', ')}; change those first`,
        users,
      );
    await this.traits.delete(this.database.db, id);
  }

  /** Recomputes every trait for these profiles (real time), or every time-dependent trait in full (schedule). */
  async refresh(profileIds?: string[], db: Kysely<Tables> = this.database.db): Promise<number> {
    const now = this.clock.now();
    let written = 0;
    for (const row of await this.traits.all()) {
      if (!profileIds && !row.timeDependent) continue;
      const { definition } = parseComputedTrait(row.definition);
      written += await this.traits.refresh(db, row.id, definition, now, profileIds);
    }
    return written;
  }

  async valuesOf(profileId: string): Promise<Array<{ name: string; value: unknown; computedAt: Date }>> {
    return this.traits.valuesOf(profileId);
  }
}
