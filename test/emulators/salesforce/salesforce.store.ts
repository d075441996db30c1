import { RecordTable, type Seed } from '../common/table.js';
import { salesforceId, sfDateTime, type SalesforceObject, type SalesforceRecord } from './salesforce.data.js';

export type FieldValue = string | number | boolean | null;

/** Salesforce datetimes (`…+0000` or `…Z`) in ms. */
export const parseSfDate = (value: unknown): number =>
  Date.parse(String(value).replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));

/** The rows of one sObject: seeded (lazily) or inserted, updated and deleted through the state API or the REST API. */
export class SalesforceObjectStore {
  readonly table = new RecordTable<SalesforceRecord>((r) => ({
    id: r.Id,
    modifiedMs: parseSfDate(r.SystemModstamp),
    archived: r.IsDeleted === true,
  }));
  private nextNumber: number;
  /** Bumped on every change, so indexes built on the rows know when they are stale. */
  private version = 0;
  private readonly indexes = new Map<string, { version: number; rows: Map<string, number[]> }>();

  constructor(
    readonly object: SalesforceObject,
    seed: Seed<SalesforceRecord> | undefined,
  ) {
    if (seed) this.table.load(seed);
    this.nextNumber = 10_000_000 + this.table.count;
  }

  get count(): number {
    return this.table.count;
  }

  get(id: string): SalesforceRecord | undefined {
    const row = this.table.rowOf(id);
    return row === undefined ? undefined : this.table.get(row);
  }

  /** Live (not deleted) rows. */
  all(): SalesforceRecord[] {
    const out: SalesforceRecord[] = [];
    for (let row = 0; row < this.table.count; row++) if (!this.table.isArchived(row)) out.push(this.table.get(row));
    return out;
  }

  /** Inserts a record; `SystemModstamp`, `CreatedDate` and `LastModifiedDate` are set to `at` (default now). */
  insert(fields: Record<string, FieldValue>, at = Date.now()): SalesforceRecord {
    const stamp = sfDateTime(at);
    const record: SalesforceRecord = {
      IsDeleted: false,
      ...fields,
      Id: salesforceId(this.object, this.nextNumber++),
      CreatedDate: stamp,
      LastModifiedDate: stamp,
      SystemModstamp: stamp,
    };
    this.table.insert(record);
    this.version++;
    return record;
  }

  /** Updates fields and bumps `LastModifiedDate` and `SystemModstamp` to `at` (default now). */
  update(id: string, fields: Record<string, FieldValue>, at = Date.now()): SalesforceRecord {
    const row = this.table.rowOf(id);
    if (row === undefined) throw new Error(`no ${this.object} ${id}`);
    const stamp = sfDateTime(at);
    const record = { ...this.table.get(row), ...fields, Id: id, LastModifiedDate: stamp, SystemModstamp: stamp };
    this.table.replace(row, record);
    this.version++;
    return record;
  }

  /** Deletes (to the recycle bin): hidden from `query`, visible with `IsDeleted = true` through `queryAll`. */
  delete(id: string, at = Date.now()): SalesforceRecord {
    const row = this.table.rowOf(id);
    if (row === undefined) throw new Error(`no ${this.object} ${id}`);
    const record = { ...this.table.get(row), IsDeleted: true, SystemModstamp: sfDateTime(at) };
    this.table.replace(row, record);
    this.version++;
    return record;
  }

  /** Rows whose `field` holds `value` (deleted ones included), through an index rebuilt after changes. */
  rowsWhere(field: string, value: string): number[] {
    let index = this.indexes.get(field);
    if (!index || index.version !== this.version) {
      const rows = new Map<string, number[]>();
      for (let row = 0; row < this.table.count; row++) {
        const key = this.table.get(row)[field];
        if (typeof key !== 'string') continue;
        const list = rows.get(key);
        if (list) list.push(row);
        else rows.set(key, [row]);
      }
      index = { version: this.version, rows };
      this.indexes.set(field, index);
    }
    return index.rows.get(value) ?? [];
  }
}
