import { Injectable } from '@nestjs/common';
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

/** Loads the current state of a target (`undefined` when it does not exist), for the "before" of an entry. */
export type AuditStateLoader = (targetId: string | null) => Promise<unknown>;

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

  /** The current state of a target, or undefined when its type registered none or it does not exist. */
  async stateOf(targetType: string, targetId: string | null): Promise<unknown> {
    const loader = this.loaders.get(targetType);
    return loader ? loader(targetId) : undefined;
  }
}
