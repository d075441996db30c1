/** A rule (or an audience body) that cannot be accepted; `path` names the bad node, e.g. `rule.all[3].within`. */
export class InvalidRuleError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
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
