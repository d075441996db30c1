import { Injectable, Logger } from '@nestjs/common';
import { InvalidInputError } from '@plexus/errors';
import type { Kysely } from 'kysely';
import { IdentityRulesRepository, type Tables } from '@plexus/storage';
import {
  CompiledRules,
  defaultIdentityRules,
  validateIdentityRules,
  type IdentityRules,
  type RuleProblem,
} from './identity-rules.js';

export class InvalidRulesError extends InvalidInputError {
  constructor(readonly problems: RuleProblem[]) {
    super(InvalidInputError.fields(problems).message, problems);
  }
}

export interface RulesView {
  rules: IdentityRules;
  version: number;
  updatedAt: Date | null;
  isDefault: boolean;
}

/** The identity rules in force: stored ones, or the defaults. Read per batch so every worker sees changes. */
@Injectable()
export class IdentityRulesService {
  private readonly logger = new Logger('IdentityRules');
  private warnedVersion = -1;
  /** Compiling the RE2 patterns costs more than a batch's lookups: reused while the stored version is the same. */
  private cached?: { version: number; compiled: CompiledRules };

  constructor(private readonly repository: IdentityRulesRepository) {}

  async get(db?: Kysely<Tables>): Promise<RulesView> {
    const stored = await this.repository.get(db);
    if (!stored) return { rules: defaultIdentityRules(), version: 0, updatedAt: null, isDefault: true };
    return {
      rules: stored.rules as IdentityRules,
      version: stored.version,
      updatedAt: stored.updatedAt,
      isDefault: false,
    };
  }

  async compiled(db?: Kysely<Tables>): Promise<CompiledRules> {
    const view = await this.get(db);
    if (this.cached?.version === view.version) return this.cached.compiled;
    const compiled = new CompiledRules(view.rules);
    this.cached = { version: view.version, compiled };
    if (compiled.unusablePatterns.length > 0 && this.warnedVersion !== view.version) {
      this.warnedVersion = view.version;
      this.logger.warn(
        `identity rules v${view.version}: ${compiled.unusablePatterns.length} blocked-value pattern(s) are not RE2 ` +
          `and block nothing until replaced (PUT /v1/identity/rules): ${compiled.unusablePatterns.join(', ')}`,
      );
    }
    return compiled;
  }

  /** Throws {@link InvalidRulesError} naming every bad field. */
  parse(input: unknown): IdentityRules {
    const problems = validateIdentityRules(input);
    if (problems.length > 0) throw new InvalidRulesError(problems);
    return input as IdentityRules;
  }

  async put(input: unknown): Promise<RulesView> {
    const rules = this.parse(input);
    const stored = await this.repository.put(rules);
    return { rules, version: stored.version, updatedAt: stored.updatedAt, isDefault: false };
  }
}
