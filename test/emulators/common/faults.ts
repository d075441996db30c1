/**
 * Fault injection shared by every emulator. A fault is armed through the JS API (`emulator.faults.inject`)
 * or over HTTP (`POST /__emulator/faults`) and fires on the next `times` matching requests.
 */

/** What can go wrong, each answered in the vendor's own words by the emulator that serves the request. */
export const FAULT_KINDS = [
  '429',
  '5xx',
  'slow',
  'truncated',
  'expired-token',
  'malformed-record',
  // Destination emulators: the token lost the permission the request needs; the platform refuses part of a batch.
  'permission',
  'partial-failure',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultSpec {
  kind: FaultKind;
  /** How many matching requests it affects (default 1). */
  times?: number;
  /** A regular expression the request path (without query) must match; every path when absent. */
  path?: string;
  /** HTTP method to match (default: any). */
  method?: string;
  /** `slow`: how long to wait before answering (default 2,000 ms). */
  delayMs?: number;
  /** `5xx`: the status to answer with (default 503). */
  status?: number;
}

interface ArmedFault {
  spec: FaultSpec;
  remaining: number;
  pattern?: RegExp;
}

/** One fault that fired, for assertions (`faults.fired`). */
export interface FiredFault {
  kind: FaultKind;
  method: string;
  path: string;
  /** For `malformed-record`: the id of the record that was corrupted. */
  detail?: string;
}

export class FaultController {
  private armed: ArmedFault[] = [];
  readonly fired: FiredFault[] = [];

  /** Arms one or more faults; throws on an unknown kind or a bad pattern (the HTTP endpoint answers 400). */
  inject(...specs: FaultSpec[]): void {
    for (const spec of specs) {
      if (!FAULT_KINDS.includes(spec.kind)) throw new Error(`unknown fault kind ${String(spec.kind)}`);
      const times = spec.times ?? 1;
      if (!Number.isInteger(times) || times < 1) throw new Error('times must be a positive integer');
      this.armed.push({ spec, remaining: times, pattern: spec.path === undefined ? undefined : new RegExp(spec.path) });
    }
  }

  clear(): void {
    this.armed = [];
  }

  /** Faults still armed, with how many times each will still fire. */
  pending(): Array<FaultSpec & { remaining: number }> {
    return this.armed.map((a) => ({ ...a.spec, remaining: a.remaining }));
  }

  /**
   * Consumes the first armed fault of one of `kinds` that matches the request, if any.
   * Emulators call it at the point where the fault applies (e.g. `malformed-record` only on a page with records).
   */
  take(kinds: readonly FaultKind[], method: string, path: string): FaultSpec | undefined {
    const index = this.armed.findIndex(
      (a) =>
        kinds.includes(a.spec.kind) &&
        (a.spec.method === undefined || a.spec.method.toUpperCase() === method) &&
        (a.pattern === undefined || a.pattern.test(path)),
    );
    if (index < 0) return undefined;
    const fault = this.armed[index];
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.armed.splice(index, 1);
    this.fired.push({ kind: fault.spec.kind, method, path });
    return fault.spec;
  }

  /** Adds detail (e.g. the corrupted record's id) to the most recent fired fault. */
  note(detail: string): void {
    const last = this.fired.at(-1);
    if (last) last.detail = detail;
  }
}

/** Validates a fault spec received over HTTP. */
export function parseFaultSpec(input: unknown): FaultSpec {
  if (typeof input !== 'object' || input === null) throw new Error('a fault is an object');
  const raw = input as Record<string, unknown>;
  const kind = raw.kind;
  if (typeof kind !== 'string' || !(FAULT_KINDS as readonly string[]).includes(kind)) {
    throw new Error(`kind must be one of ${FAULT_KINDS.join(', ')}`);
  }
  const spec: FaultSpec = { kind: kind as FaultKind };
  for (const key of ['times', 'delayMs', 'status'] as const) {
    if (raw[key] !== undefined) {
      if (typeof raw[key] !== 'number') throw new Error(`${key} must be a number`);
      spec[key] = raw[key];
    }
  }
  for (const key of ['path', 'method'] as const) {
    if (raw[key] !== undefined) {
      if (typeof raw[key] !== 'string') throw new Error(`${key} must be a string`);
      spec[key] = raw[key];
    }
  }
  if (spec.path !== undefined) new RegExp(spec.path); // throws on a bad pattern
  return spec;
}
