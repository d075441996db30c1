import {
  CHILD_RELATIONSHIPS,
  SALESFORCE_OBJECTS,
  SALESFORCE_SCHEMA,
  type SalesforceField,
  type SalesforceObject,
  type SalesforceRecord,
} from './salesforce.data.js';
import { parseSfDate, type SalesforceObjectStore } from './salesforce.store.js';
import { parseSoql, SoqlError, type SoqlCondition, type SoqlLiteral, type SoqlQuery } from './soql.js';

/** A Salesforce error answer: `[{ message, errorCode }]`. */
export interface SalesforceFault {
  status: number;
  errorCode: string;
  message: string;
}

/** A query checked against the schema, field names in their canonical spelling. */
export interface ResolvedQuery extends SoqlQuery {
  object: SalesforceObject;
  subqueries: Array<SoqlQuery['subqueries'][number] & { child: SalesforceObject; key: string }>;
}

/** The rows a query selected (a snapshot, as Salesforce's cursors and bulk jobs are). */
export interface Selection {
  query: ResolvedQuery;
  rows: Uint32Array;
}

const soqlFault = (soql: string, errorCode: string, message: string): SalesforceFault => ({
  status: 400,
  errorCode,
  message: `\n${soql}\n^\nERROR at Row:1:Column:1\n${message}`,
});

const TEXT_TYPES = new Set(['id', 'reference', 'string', 'email', 'phone', 'picklist', 'textarea']);

/** The literal kind a field's filter must use, and how Salesforce words the mismatch. */
function literalProblem(field: string, def: SalesforceField, literal: SoqlLiteral): string | undefined {
  if (literal.kind === 'null') return undefined;
  if (def.type === 'datetime' && literal.kind !== 'datetime')
    return `value of filter criterion for field '${field}' must be of type dateTime and should not be enclosed in quotes`;
  if (def.type === 'date' && literal.kind !== 'date')
    return `value of filter criterion for field '${field}' must be of type date and should not be enclosed in quotes`;
  if (def.type === 'boolean' && literal.kind !== 'boolean')
    return `value of filter criterion for field '${field}' must be of type boolean and should not be enclosed in quotes`;
  if ((def.type === 'currency' || def.type === 'double') && literal.kind !== 'number')
    return `value of filter criterion for field '${field}' must be of type double and should not be enclosed in quotes`;
  if (TEXT_TYPES.has(def.type) && literal.kind !== 'string')
    return `value of filter criterion for field '${field}' must be of type string and should be enclosed in quotes`;
  return undefined;
}

/** Compares a stored value with a literal of the right kind; undefined when either is null. */
function compare(def: SalesforceField, stored: unknown, literal: SoqlLiteral): number | undefined {
  if (stored === null || stored === undefined || literal.kind === 'null') return undefined;
  switch (literal.kind) {
    case 'datetime':
      return parseSfDate(stored) - literal.ms;
    case 'number':
      return Number(stored) - literal.value;
    case 'boolean':
      return Number(stored === true) - Number(literal.value);
    case 'date':
    case 'string': {
      const a = typeof stored === 'string' ? stored : JSON.stringify(stored);
      const b = literal.text;
      // Text comparisons are case-insensitive in SOQL; ids compare exactly.
      const [x, y] = def.type === 'id' || def.type === 'reference' ? [a, b] : [a.toLowerCase(), b.toLowerCase()];
      return x < y ? -1 : x > y ? 1 : 0;
    }
  }
}

/** True when the record meets every condition. */
function matches(object: SalesforceObject, record: SalesforceRecord, where: SoqlCondition[]): boolean {
  return where.every((c) => {
    const def = SALESFORCE_SCHEMA[object][c.field];
    const stored = record[c.field] ?? null;
    if (Array.isArray(c.value)) {
      const found = c.value.some((v) => compare(def, stored, v) === 0);
      return c.operator === 'IN' ? found : !found;
    }
    const literal = c.value;
    if (literal.kind === 'null') {
      if (c.operator === '=') return stored === null;
      if (c.operator === '!=') return stored !== null;
      return false;
    }
    const cmp = compare(def, stored, literal);
    if (cmp === undefined) return c.operator === '!=';
    switch (c.operator) {
      case '=':
        return cmp === 0;
      case '!=':
        return cmp !== 0;
      case '<':
        return cmp < 0;
      case '<=':
        return cmp <= 0;
      case '>':
        return cmp > 0;
      case '>=':
        return cmp >= 0;
      case 'IN':
      case 'NOT IN':
        return false;
    }
  });
}

/** Runs SOQL against the stores: parse, check names and literal types, select the rows. */
export class QueryEngine {
  /** `hidden`: fields this org does not have, as `Object.Field` (e.g. `Opportunity.CurrencyIsoCode`). */
  constructor(
    private readonly stores: Record<SalesforceObject, SalesforceObjectStore>,
    private readonly hidden: ReadonlySet<string> = new Set(),
  ) {}

  /** Parses and checks a query; a SalesforceFault when Salesforce would refuse it. */
  resolve(soql: string): ResolvedQuery | SalesforceFault {
    let query: SoqlQuery;
    try {
      query = parseSoql(soql);
    } catch (error) {
      if (error instanceof SoqlError) return soqlFault(soql, error.errorCode, error.message);
      throw error;
    }
    const object = SALESFORCE_OBJECTS.find((o) => o.toLowerCase() === query.object.toLowerCase());
    if (!object) {
      return soqlFault(
        soql,
        'INVALID_TYPE',
        `sObject type '${query.object}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
      );
    }
    const fieldsOf = (o: SalesforceObject) => this.checkFields(soql, o);
    const parent = fieldsOf(object);
    const fields: string[] = [];
    for (const f of query.fields) {
      const c = parent.canonical(f);
      if (typeof c !== 'string') return c;
      fields.push(c);
    }
    const where = parent.conditions(query.where);
    if (!Array.isArray(where)) return where;
    const orderBy: SoqlQuery['orderBy'] = [];
    for (const o of query.orderBy) {
      const c = parent.canonical(o.field);
      if (typeof c !== 'string') return c;
      orderBy.push({ ...o, field: c });
    }
    const subqueries: ResolvedQuery['subqueries'] = [];
    for (const sub of query.subqueries) {
      const relationships = CHILD_RELATIONSHIPS[object] ?? {};
      const name = Object.keys(relationships).find((r) => r.toLowerCase() === sub.relationship.toLowerCase());
      if (!name) {
        return soqlFault(
          soql,
          'INVALID_TYPE',
          `Didn't understand relationship '${sub.relationship}' in FROM part of query call. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`,
        );
      }
      const { child, field: key } = relationships[name];
      const childFields = fieldsOf(child);
      const subFields: string[] = [];
      for (const f of sub.fields) {
        const c = childFields.canonical(f);
        if (typeof c !== 'string') return c;
        subFields.push(c);
      }
      const subWhere = childFields.conditions(sub.where);
      if (!Array.isArray(subWhere)) return subWhere;
      subqueries.push({ relationship: name, fields: subFields, where: subWhere, child, key });
    }
    return { ...query, object, fields, where, orderBy, subqueries };
  }

  private checkFields(soql: string, object: SalesforceObject) {
    const schema = SALESFORCE_SCHEMA[object];
    const names = Object.keys(schema).filter((f) => !this.hidden.has(`${object}.${f}`));
    const canonical = (field: string): string | SalesforceFault =>
      names.find((f) => f.toLowerCase() === field.toLowerCase()) ??
      soqlFault(
        soql,
        'INVALID_FIELD',
        `No such column '${field}' on entity '${object}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
      );
    const conditions = (list: SoqlCondition[]): SoqlCondition[] | SalesforceFault => {
      const out: SoqlCondition[] = [];
      for (const condition of list) {
        const c = canonical(condition.field);
        if (typeof c !== 'string') return c;
        for (const literal of Array.isArray(condition.value) ? condition.value : [condition.value]) {
          const problem = literalProblem(c, schema[c], literal);
          if (problem) return soqlFault(soql, 'INVALID_FIELD', problem);
        }
        if (['<', '<=', '>', '>='].includes(condition.operator) && schema[c].type === 'boolean') {
          return soqlFault(soql, 'INVALID_FIELD', `invalid operator on boolean field '${c}'`);
        }
        out.push({ ...condition, field: c });
      }
      return out;
    };
    return { canonical, conditions };
  }

  /** Selects the rows of a resolved query; `includeDeleted` for `queryAll`. */
  select(query: ResolvedQuery, includeDeleted: boolean): Selection {
    const store = this.stores[query.object];
    const table = store.table;
    // Without conditions, rows are not materialised (a lazily seeded table generates them on demand).
    const test = (row: number): boolean =>
      (includeDeleted || !table.isArchived(row)) &&
      (query.where.length === 0 || matches(query.object, table.get(row), query.where));
    const [first, second] = query.orderBy;
    let rows: number[];
    const idIn = query.where.find((c) => c.field === 'Id' && c.operator === 'IN');
    if (idIn && Array.isArray(idIn.value) && query.orderBy.length === 0) {
      // Lookups by id list (the destination's reads) go through the id index.
      rows = [];
      for (const v of idIn.value) {
        const row = v.kind === 'string' ? table.rowOf(v.text) : undefined;
        if (row !== undefined && !rows.includes(row) && test(row)) rows.push(row);
      }
    } else if (first === undefined || (first.field === 'Id' && second === undefined)) {
      rows = Array.from(table.byId()).filter(test);
      if (first?.descending) rows.reverse();
    } else if (
      first.field === 'SystemModstamp' &&
      (second === undefined || (second.field === 'Id' && second.descending === first.descending))
    ) {
      // The common incremental shape: narrow by the SystemModstamp lower bound through the index.
      const order = table.byModified();
      let start = 0;
      for (const c of query.where) {
        if (c.field === 'SystemModstamp' && (c.operator === '>' || c.operator === '>=')) {
          const literal = c.value as SoqlLiteral;
          if (literal.kind === 'datetime')
            start = Math.max(start, table.modifiedLowerBound(literal.ms, c.operator === '>'));
        }
      }
      rows = [];
      for (let p = start; p < order.length; p++) if (test(order[p])) rows.push(order[p]);
      if (first.descending) rows.reverse();
    } else {
      rows = [];
      for (let row = 0; row < table.count; row++) if (test(row)) rows.push(row);
      const schema = SALESFORCE_SCHEMA[query.object];
      rows.sort((a, b) => {
        for (const k of query.orderBy) {
          const [x, y] = [table.get(a)[k.field], table.get(b)[k.field]];
          let d: number;
          if (x === y) d = 0;
          else if (x === null || x === undefined) d = -1;
          else if (y === null || y === undefined) d = 1;
          else if (schema[k.field].type === 'datetime') d = parseSfDate(x) - parseSfDate(y);
          else if (typeof x === 'number' && typeof y === 'number') d = x - y;
          else d = String(x) < String(y) ? -1 : 1;
          if (d !== 0) return k.descending ? -d : d;
        }
        return table.compareRowsById(a, b);
      });
    }
    if (query.limit !== undefined) rows = rows.slice(0, query.limit);
    return { query, rows: Uint32Array.from(rows) };
  }

  /** The child rows of a parent for one subquery (deleted children are never returned). */
  children(sub: ResolvedQuery['subqueries'][number], parentId: string): SalesforceRecord[] {
    const store = this.stores[sub.child];
    return store
      .rowsWhere(sub.key, parentId)
      .filter((row) => !store.table.isArchived(row))
      .map((row) => store.table.get(row))
      .filter((record) => matches(sub.child, record, sub.where));
  }
}
