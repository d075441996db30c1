/**
 * Compact record storage for emulators: seeded arrays are kept as given, synthetic records are generated
 * from their index on demand, so 200,000 contacts cost a few MB of keys instead of full objects.
 */

/** A seed: an array of vendor-shaped records, or a lazy generator of `count` of them. */
export interface RecordSource<T> {
  readonly count: number;
  at(index: number): T;
}

export type Seed<T> = readonly T[] | RecordSource<T>;

/** A lazy source: `at(i)` must be deterministic (the same record every time for the same index). */
export function lazyRecords<T>(count: number, at: (index: number) => T): RecordSource<T> {
  return { count, at };
}

function asSource<T>(seed: Seed<T>): RecordSource<T> {
  return Array.isArray(seed)
    ? { count: seed.length, at: (i: number) => (seed as readonly T[])[i] }
    : (seed as RecordSource<T>);
}

/** The keys a table indexes for each record. */
export interface RowKey {
  id: string;
  /** Modification time in ms; the incremental cursor. */
  modifiedMs: number;
  /** Archived (HubSpot) or deleted: hidden from default listings. */
  archived?: boolean;
}

const compareIds = (a: string, b: string, an: number, bn: number): number => {
  if (!Number.isNaN(an) && !Number.isNaN(bn)) return an - bn;
  return a < b ? -1 : a > b ? 1 : 0;
};

export class RecordTable<T> {
  private readonly ids: string[] = [];
  private readonly idNums: number[] = [];
  private readonly modified: number[] = [];
  private readonly archivedRows: boolean[] = [];
  private readonly segments: Array<{ start: number; source: RecordSource<T> }> = [];
  private readonly overrides = new Map<number, T>();
  private rowsById = new Map<string, number>();
  private idOrder?: Uint32Array;
  private modifiedOrder?: Uint32Array;

  constructor(private readonly keyOf: (record: T) => RowKey) {}

  get count(): number {
    return this.ids.length;
  }

  /** Adds records (an array or a lazy source). Ids must be unique. */
  load(seed: Seed<T>): void {
    const source = asSource(seed);
    this.segments.push({ start: this.ids.length, source });
    for (let i = 0; i < source.count; i++) this.index(this.ids.length, this.keyOf(source.at(i)));
    this.invalidate();
  }

  /** Adds one record and returns its row. */
  insert(record: T): number {
    const row = this.ids.length;
    this.overrides.set(row, record);
    this.index(row, this.keyOf(record));
    this.invalidate();
    return row;
  }

  /** Replaces the record at `row` (its id must not change). */
  replace(row: number, record: T): void {
    const key = this.keyOf(record);
    if (key.id !== this.ids[row]) throw new Error(`record id changed from ${this.ids[row]} to ${key.id}`);
    this.overrides.set(row, record);
    this.modified[row] = key.modifiedMs;
    this.archivedRows[row] = key.archived ?? false;
    this.invalidate();
  }

  private index(row: number, key: RowKey): void {
    if (this.rowsById.has(key.id)) throw new Error(`duplicate record id ${key.id}`);
    this.ids[row] = key.id;
    this.idNums[row] = /^\d{1,15}$/.test(key.id) ? Number(key.id) : Number.NaN;
    this.modified[row] = key.modifiedMs;
    this.archivedRows[row] = key.archived ?? false;
    this.rowsById.set(key.id, row);
  }

  private invalidate(): void {
    this.idOrder = undefined;
    this.modifiedOrder = undefined;
  }

  get(row: number): T {
    const override = this.overrides.get(row);
    if (override !== undefined) return override;
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.segments[mid].start <= row) lo = mid;
      else hi = mid - 1;
    }
    const segment = this.segments[lo];
    return segment.source.at(row - segment.start);
  }

  rowOf(id: string): number | undefined {
    return this.rowsById.get(id);
  }

  idAt(row: number): string {
    return this.ids[row];
  }

  modifiedAt(row: number): number {
    return this.modified[row];
  }

  isArchived(row: number): boolean {
    return this.archivedRows[row];
  }

  compareRowsById(a: number, b: number): number {
    return compareIds(this.ids[a], this.ids[b], this.idNums[a], this.idNums[b]);
  }

  /** Compares a row's id with an id that may not exist in the table. */
  compareIdTo(row: number, id: string): number {
    const n = /^\d{1,15}$/.test(id) ? Number(id) : Number.NaN;
    return compareIds(this.ids[row], id, this.idNums[row], n);
  }

  /** Rows ordered by id (numeric ids numerically). */
  byId(): Uint32Array {
    this.idOrder ??= this.sorted((a, b) => this.compareRowsById(a, b));
    return this.idOrder;
  }

  /** Rows ordered by modification time, then id. */
  byModified(): Uint32Array {
    this.modifiedOrder ??= this.sorted((a, b) => this.modified[a] - this.modified[b] || this.compareRowsById(a, b));
    return this.modifiedOrder;
  }

  private sorted(compare: (a: number, b: number) => number): Uint32Array {
    const rows = new Uint32Array(this.ids.length);
    for (let i = 0; i < rows.length; i++) rows[i] = i;
    return rows.sort(compare);
  }

  /** First position in `byModified()` whose time is >= ms (or > ms when `strict`). */
  modifiedLowerBound(ms: number, strict = false): number {
    const order = this.byModified();
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const value = this.modified[order[mid]];
      if (value < ms || (strict && value === ms)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First position in `byId()` whose id is > `id` (or >= when `inclusive`). */
  idLowerBound(id: string, inclusive = false): number {
    const order = this.byId();
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = this.compareIdTo(order[mid], id);
      if (c < 0 || (!inclusive && c === 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** A fast deterministic pseudo-random number in [0, 1) for index `i` under `seed` (mulberry32 of a mix). */
export function noise(i: number, seed = 1): number {
  let t = (Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(seed, 0x85ebca6b)) >>> 0;
  t = (t + 0x6d2b79f5) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

export function pick<T>(list: readonly T[], i: number, seed: number): T {
  return list[Math.floor(noise(i, seed) * list.length)];
}

export const FIRST_NAMES = [
  'Ada',
  'Ben',
  'Chloé',
  'Dario',
  'Emma',
  'Farah',
  'Giulia',
  'Hugo',
  'Ines',
  'Jonas',
  'Kenji',
  'Lena',
  'Mateo',
  'Nora',
  'Omar',
  'Priya',
  'Quentin',
  'Rosa',
  'Sven',
  'Tara',
  'Uma',
  'Viktor',
  'Wen',
  'Yara',
  'Zoe',
] as const;
export const LAST_NAMES = [
  'Anders',
  'Bianchi',
  'Costa',
  'Dubois',
  'Evans',
  'Fischer',
  'García',
  'Hansen',
  'Ito',
  'Jensen',
  'Kowalski',
  'Lopez',
  'Müller',
  'Nakamura',
  'Okafor',
  'Petrov',
  'Quinn',
  'Rossi',
  'Schmidt',
  'Tanaka',
  'Novak',
  'Weber',
] as const;
export const COUNTRIES = ['US', 'GB', 'FR', 'DE', 'IT', 'ES', 'NL', 'CA', 'JP', 'BR'] as const;
export const COUNTRY_NAMES: Record<(typeof COUNTRIES)[number], string> = {
  US: 'United States',
  GB: 'United Kingdom',
  FR: 'France',
  DE: 'Germany',
  IT: 'Italy',
  ES: 'Spain',
  NL: 'Netherlands',
  CA: 'Canada',
  JP: 'Japan',
  BR: 'Brazil',
};

/** A stable synthetic person for index `i`: the same `i` gives the same person in every vendor's generator. */
export function syntheticPerson(i: number): {
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
  country: (typeof COUNTRIES)[number];
} {
  const firstName = pick(FIRST_NAMES, i, 11);
  const lastName = pick(LAST_NAMES, i, 12);
  const ascii = (s: string) =>
    s
      .normalize('NFD')
      .replace(/[^A-Za-z]/g, '')
      .toLowerCase();
  return {
    firstName,
    lastName,
    email: `${ascii(firstName)}.${ascii(lastName)}.${i}@example.org`,
    // A valid NANP number (area 202, exchange 200–999), unique for the first 8,000,000 indexes.
    phone: `+1202${200 + (Math.floor(i / 10_000) % 800)}${String(i % 10_000).padStart(4, '0')}`,
    country: pick(COUNTRIES, i, 13),
  };
}
