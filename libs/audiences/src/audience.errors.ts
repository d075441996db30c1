import { ConflictError, InvalidInputError, NotFoundError } from '@plexus/errors';

/** A rule (or an audience body) that cannot be accepted; `path` names the bad node, e.g. `rule.all[3].within`. */
export class InvalidRuleError extends InvalidInputError {
  readonly path: string;

  constructor(
    path: string,
    readonly problem: string,
  ) {
    // Fields of a top-level body (a computed trait's `within`) come without a parent: no leading dot.
    const clean = path.replace(/^\./, '');
    super(`Invalid request: ${clean}: ${problem}`, [{ field: clean, problems: [problem] }]);
    this.path = clean;
  }
}

export class AudienceNotFoundError extends NotFoundError {
  constructor(readonly audienceId: string) {
    super(`No audience ${audienceId}`);
  }
}

/** The audience is used by the rules of other audiences and cannot be deleted. */
export class AudienceInUseError extends ConflictError {
  constructor(
    readonly audienceId: string,
    readonly usedBy: string[],
  ) {
    super(`Audience ${audienceId} is used by the rules of audiences ${usedBy.join(', ')}; change those first`, {
      usedBy,
    });
  }
}

export class ComputedTraitNotFoundError extends NotFoundError {
  constructor(readonly traitId: string) {
    super(`No computed trait ${traitId}`);
  }
}

/** The computed trait's name is taken, or the trait is used by audience rules and cannot be renamed or deleted. */
export class ComputedTraitConflictError extends ConflictError {
  constructor(
    message: string,
    readonly usedBy: string[] = [],
  ) {
    super(message, usedBy.length ? { usedBy } : undefined);
  }
}
