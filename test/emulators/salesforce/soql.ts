/**
 * The part of SOQL the emulator understands: field lists with parent-to-child subqueries
 * (`(SELECT ContactId FROM OpportunityContactRoles)`), one object, AND-ed comparisons and `IN (…)` lists with
 * typed literals (unquoted datetimes and dates, quoted strings, `true`/`false`, `null`, numbers), ORDER BY
 * and LIMIT. Anything else is a MALFORMED_QUERY, as Salesforce would answer for a query it cannot parse.
 */

/** A literal of a filter, typed as SOQL reads it. */
export type SoqlLiteral =
  | { kind: 'datetime'; ms: number }
  | { kind: 'date'; text: string }
  | { kind: 'string'; text: string }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'number'; value: number }
  | { kind: 'null' };

export type SoqlOperator = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'IN' | 'NOT IN';

export interface SoqlCondition {
  field: string;
  operator: SoqlOperator;
  /** One literal, or the list of `IN` / `NOT IN`. */
  value: SoqlLiteral | SoqlLiteral[];
}

export interface SoqlSubquery {
  /** The child relationship name, e.g. `OpportunityContactRoles`. */
  relationship: string;
  fields: string[];
  where: SoqlCondition[];
}

export interface SoqlQuery {
  fields: string[];
  subqueries: SoqlSubquery[];
  object: string;
  where: SoqlCondition[];
  orderBy: Array<{ field: string; descending: boolean }>;
  limit?: number;
}

/** A query Salesforce would refuse, with its error code. */
export class SoqlError extends Error {
  constructor(
    readonly errorCode: 'MALFORMED_QUERY' | 'INVALID_FIELD' | 'INVALID_TYPE',
    message: string,
  ) {
    super(message);
  }
}

const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:?\d{2})$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TOKEN =
  /\s*(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2})|\d{4}-\d{2}-\d{2}|'(?:[^'\\]|\\.)*'|!=|<=|>=|[=<>,()]|[A-Za-z_][A-Za-z0-9_.]*|-?\d+(?:\.\d+)?|\S)/y;

function tokenize(soql: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  let match: RegExpExecArray | null;
  while (TOKEN.lastIndex < soql.length && (match = TOKEN.exec(soql))) tokens.push(match[1]);
  return tokens;
}

export function parseDateTimeLiteral(literal: string): number {
  const normalised = literal.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  return Date.parse(normalised);
}

function literalOf(token: string | undefined): SoqlLiteral | undefined {
  if (token === undefined) return undefined;
  if (DATETIME.test(token)) return { kind: 'datetime', ms: parseDateTimeLiteral(token) };
  if (DATE.test(token)) return { kind: 'date', text: token };
  if (token.startsWith("'")) return { kind: 'string', text: token.slice(1, -1).replace(/\\(.)/g, '$1') };
  const lower = token.toLowerCase();
  if (lower === 'true' || lower === 'false') return { kind: 'boolean', value: lower === 'true' };
  if (lower === 'null') return { kind: 'null' };
  if (/^-?\d+(\.\d+)?$/.test(token)) return { kind: 'number', value: Number(token) };
  return undefined;
}

export function parseSoql(soql: string): SoqlQuery {
  const tokens = tokenize(soql.trim());
  let i = 0;
  const peek = () => tokens[i];
  const next = () => tokens[i++];
  const upper = () => peek()?.toUpperCase();
  const unexpected = (token = peek()) =>
    new SoqlError('MALFORMED_QUERY', token === undefined ? 'unexpected end of query' : `unexpected token: '${token}'`);
  const keyword = (word: string) => {
    if (upper() !== word) throw unexpected();
    i++;
  };
  const identifier = () => {
    const token = next();
    if (token === undefined || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(token)) throw unexpected(token);
    return token;
  };
  const literal = () => {
    const token = next();
    const value = literalOf(token);
    if (!value) throw unexpected(token);
    return value;
  };
  const conditions = (): SoqlCondition[] => {
    const where: SoqlCondition[] = [];
    do {
      const field = identifier();
      let operator: SoqlOperator;
      if (upper() === 'NOT') {
        next();
        keyword('IN');
        operator = 'NOT IN';
      } else if (upper() === 'IN') {
        next();
        operator = 'IN';
      } else {
        const op = next();
        if (!['=', '!=', '<', '<=', '>', '>='].includes(op)) throw unexpected(op);
        operator = op as SoqlOperator;
      }
      if (operator === 'IN' || operator === 'NOT IN') {
        if (next() !== '(') throw unexpected(tokens[i - 1]);
        const list = [literal()];
        while (peek() === ',') {
          next();
          list.push(literal());
        }
        if (next() !== ')') throw unexpected(tokens[i - 1]);
        where.push({ field, operator, value: list });
      } else where.push({ field, operator, value: literal() });
    } while (upper() === 'AND' && next());
    return where;
  };

  keyword('SELECT');
  const fields: string[] = [];
  const subqueries: SoqlSubquery[] = [];
  do {
    if (peek() === '(') {
      next();
      keyword('SELECT');
      const childFields = [identifier()];
      while (peek() === ',') {
        next();
        childFields.push(identifier());
      }
      keyword('FROM');
      const relationship = identifier();
      let childWhere: SoqlCondition[] = [];
      if (upper() === 'WHERE') {
        next();
        childWhere = conditions();
      }
      if (next() !== ')') throw unexpected(tokens[i - 1]);
      subqueries.push({ relationship, fields: childFields, where: childWhere });
    } else fields.push(identifier());
  } while (peek() === ',' && next());
  keyword('FROM');
  const object = identifier();

  let where: SoqlCondition[] = [];
  if (upper() === 'WHERE') {
    next();
    where = conditions();
  }

  const orderBy: SoqlQuery['orderBy'] = [];
  if (upper() === 'ORDER') {
    next();
    keyword('BY');
    do {
      const field = identifier();
      let descending = false;
      if (upper() === 'ASC') next();
      else if (upper() === 'DESC') {
        next();
        descending = true;
      }
      orderBy.push({ field, descending });
    } while (peek() === ',' && next());
  }

  let limit: number | undefined;
  if (upper() === 'LIMIT') {
    next();
    const n = next();
    if (n === undefined || !/^\d+$/.test(n)) throw unexpected(n);
    limit = Number(n);
  }
  if (i < tokens.length) throw unexpected();
  if (fields.length === 0) throw unexpected('(');
  return { fields, subqueries, object, where, orderBy, limit };
}
