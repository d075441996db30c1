/**
 * Errors the libs throw for the API to map to HTTP once, in its exception filter. A lib never throws an HTTP
 * exception: it says what went wrong (`kind`), and the API decides the status.
 */
export type DomainErrorKind =
  'invalid' | 'not-found' | 'conflict' | 'unauthenticated' | 'forbidden' | 'too-large' | 'rate-limited';

/** One offending input field and what is wrong with it, e.g. `{ field: 'config.token', problems: ['required'] }`. */
export interface FieldProblem {
  field: string;
  problems: string[];
}

export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;

  constructor(
    message: string,
    /** Structured detail shown to the client (field problems, the conflicting run…). */
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The request is invalid (HTTP 400). `details` names each offending field. */
export class InvalidInputError extends DomainError {
  readonly kind = 'invalid';

  constructor(message: string, details?: unknown) {
    super(message, details);
  }

  /** `Invalid request: <field> (<problem>)`, with the field in `details`. */
  static field(field: string, problem: string): InvalidInputError {
    return InvalidInputError.fields([{ field, problems: [problem] }]);
  }

  /** One error naming every field. */
  static fields(problems: FieldProblem[]): InvalidInputError {
    const message = `Invalid request: ${problems.map((p) => `${p.field} (${p.problems.join('; ')})`).join(', ')}`;
    return new InvalidInputError(message, problems);
  }
}

/** The thing addressed does not exist (HTTP 404). */
export class NotFoundError extends DomainError {
  readonly kind = 'not-found';
}

/** The request conflicts with the current state (HTTP 409). */
export class ConflictError extends DomainError {
  readonly kind = 'conflict';
}

/** Credentials are missing or wrong (HTTP 401). */
export class UnauthenticatedError extends DomainError {
  readonly kind = 'unauthenticated';
}

/** Authenticated, but not allowed (HTTP 403). */
export class ForbiddenError extends DomainError {
  readonly kind = 'forbidden';
}

/** The request body is larger than a configured limit (HTTP 413); the rest of the body is not read. */
export class TooLargeError extends DomainError {
  readonly kind = 'too-large';
}

/** Too many requests (HTTP 429): `retryAfterSeconds` becomes the `Retry-After` header. */
export class RateLimitedError extends DomainError {
  readonly kind = 'rate-limited';

  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}
