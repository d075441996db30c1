import { Injectable } from '@nestjs/common';
import { NotFoundError } from '@plexus/errors';
import { AuditRepository, type AuditEntry, type AuditEntryInput, type AuditFilter } from '@plexus/storage';

/** What stands in the log where a secret was. */
export const REMOVED = '[removed]';

// Field names whose values are credentials: API and write keys, tokens, passwords, signing secrets.
const SECRET_NAME = /secret|token|password|passwd|credential|private|authorization|cookie|^(api|write)?_?key$/i;

/** A deep copy of `value` without secrets: every field named like a credential is replaced by {@link REMOVED}. */
export function withoutSecrets(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value;
  if (Array.isArray(value)) return value.map(withoutSecrets);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    out[key] = SECRET_NAME.test(key) && v !== null && v !== undefined ? REMOVED : withoutSecrets(v);
  }
  return out;
}

/**
 * Loads the current state of a target, for the "before" of an entry: `undefined` (or a `NotFoundError`) when it
 * does not exist. Any other failure is thrown on: a change whose earlier state cannot be read is not made.
 */
export type AuditStateLoader = (targetId: string | null) => Promise<unknown>;

/**
 * A database error of SQLSTATE class 22 (data exception: a malformed uuid, a NUL byte in a text, a value too
 * long) raised by the id it was given: no row can have it. The audit interceptor reads the earlier state before
 * the route's validation runs, so a hostile id reaches the loader first; the route then refuses it with a 4xx.
 */
function isDataException(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.length === 5 && code.startsWith('22');
}

/**
 * The audit log. `record` is for every admin change and privacy request, from the API layer (which records
 * every successful mutating request) or from any lib; secrets are removed from before/after first.
 * Resources register how their current state is read, so the API can record the state before a change
 * without their services knowing about auditing.
 */
@Injectable()
export class AuditService {
  private readonly loaders = new Map<string, AuditStateLoader>();

  constructor(private readonly repository: AuditRepository) {}

  record(entry: AuditEntryInput): Promise<AuditEntry> {
    return this.repository.append({
      ...entry,
      before: entry.before === undefined ? undefined : withoutSecrets(entry.before),
      after: entry.after === undefined ? undefined : withoutSecrets(entry.after),
    });
  }

  list(filter: AuditFilter, limit: number, beforeId?: number): Promise<AuditEntry[]> {
    return this.repository.list(filter, limit, beforeId);
  }

  /** Declares how the state of targets of `targetType` (e.g. `sources`) is read. One loader per type. */
  registerState(targetType: string, loader: AuditStateLoader): void {
    if (this.loaders.has(targetType)) throw new Error(`audit state of ${targetType} is already registered`);
    this.loaders.set(targetType, loader);
  }

  /**
   * The current state of a target, or undefined when its type registered none, it does not exist or its id cannot
   * name one. Other errors (the database unreachable, a bug) are thrown, so the change fails instead of going into
   * the log without the state it replaced.
   */
  async stateOf(targetType: string, targetId: string | null): Promise<unknown> {
    const loader = this.loaders.get(targetType);
    if (!loader) return undefined;
    try {
      return await loader(targetId);
    } catch (error) {
      if (error instanceof NotFoundError || isDataException(error)) return undefined;
      throw error;
    }
  }
}
