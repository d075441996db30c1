/** A rule (or an audience body) that cannot be accepted; `path` names the bad node, e.g. `rule.all[3].within`. */
export class InvalidRuleError extends Error {
  readonly path: string;

  constructor(
    path: string,
    readonly problem: string,
  ) {
    // Fields of a top-level body (a computed trait's `within`) come without a parent: no leading dot.
    const clean = path.replace(/^\./, '');
    super(`${clean}: ${problem}`);
    this.path = clean;
    this.name = 'InvalidRuleError';
  }
}

export class AudienceNotFoundError extends Error {
  constructor(readonly audienceId: string) {
    super(`No audience ${audienceId}`);
    this.name = 'AudienceNotFoundError';
  }
}

/** The audience is used by the rules of other audiences and cannot be deleted. */
export class AudienceInUseError extends Error {
  constructor(
    readonly audienceId: string,
    readonly usedBy: string[],
  ) {
    super(`Audience ${audienceId} is used by the rules of audiences ${usedBy.join(', ')}; change those first`);
    this.name = 'AudienceInUseError';
  }
}

export class ComputedTraitNotFoundError extends Error {
  constructor(readonly traitId: string) {
    super(`No computed trait ${traitId}`);
    this.name = 'ComputedTraitNotFoundError';
  }
}

/** The computed trait's name is taken, or the trait is used by audience rules and cannot be renamed or deleted. */
export class ComputedTraitConflictError extends Error {
  constructor(
    message: string,
    readonly usedBy: string[] = [],
  ) {
    super(message);
    this.name = 'ComputedTraitConflictError';
  }
}
