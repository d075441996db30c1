import type { FailureType } from './connector.js';

/**
 * An error that says what the hub should do about it. Throw the subclass that fits; the HTTP client
 * throws them for you from HTTP answers.
 */
export class ConnectorError extends Error {
  constructor(
    message: string,
    readonly failureType: FailureType,
    readonly details: { status?: number; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ConnectorError';
  }
}

/** Bad configuration or credentials: the run stops and the admin is told what to fix. */
export class ConfigurationError extends ConnectorError {
  constructor(message: string, details: { status?: number; cause?: unknown } = {}) {
    super(message, 'config', details);
    this.name = 'ConfigurationError';
  }
}

/** Throttling, 5xx, timeouts: worth retrying later. */
export class TransientError extends ConnectorError {
  constructor(message: string, details: { status?: number; retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, 'transient', details);
    this.name = 'TransientError';
  }
}

/** A failure retrying will not fix and the admin cannot fix by configuration. */
export class SystemError extends ConnectorError {
  constructor(message: string, details: { status?: number; cause?: unknown } = {}) {
    super(message, 'system', details);
    this.name = 'SystemError';
  }
}

/** The failure type of any thrown value: ConnectorErrors say theirs; anything else is a `system` failure. */
export function failureTypeOf(error: unknown): FailureType {
  return error instanceof ConnectorError ? error.failureType : 'system';
}

/**
 * The work was cancelled (the run was cancelled or the process is shutting down). Transient: the next run
 * resumes from the last committed checkpoint.
 */
export class CancelledError extends ConnectorError {
  constructor(message = 'cancelled', details: { cause?: unknown } = {}) {
    super(message, 'transient', details);
    this.name = 'CancelledError';
  }
}
