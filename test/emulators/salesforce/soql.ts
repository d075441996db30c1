/**
 * The small part of SOQL the emulator understands: field lists, one object, AND-ed comparisons on
 * datetime fields (unquoted literals) or on `Id`, ORDER BY on datetime fields and `Id`, and LIMIT.
 * Anything else is a MALFORMED_QUERY, as Salesforce would answer for a query it cannot parse.
 */

export interface SoqlCondition {
  field: string;
  operator: '=' | '!=' | '<' | '<=' | '>' | '>=';
  /** ms since the epoch for datetime literals, the string for quoted literals. */
  value: number | string;
}

export interface SoqlQuery {
  fields: string[];
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
const TOKEN =
  /\s*(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2})|'(?:[^'\\]|\\.)*'|!=|<=|>=|[=<>,]|[A-Za-z_][A-Za-z0-9_.]*|\d+|\S)/y;

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

export function parseSoql(soql: string): SoqlQuery {
  const tokens = tokenize(soql.trim());
  let i = 0;
  const peek = () => tokens[i];
  const next = () => tokens[i++];
  const unexpected = (token = peek()) =>
    new SoqlError('MALFORMED_QUERY', token === undefined ? 'unexpected end of query' : `unexpected token: '${token}'`);
  const keyword = (word: string) => {
    if (peek()?.toUpperCase() !== word) throw unexpected();
    i++;
  };
  const identifier = () => {
    const token = next();
    if (token === undefined || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(token)) throw unexpected(token);
    return token;
  };

  keyword('SELECT');
  const fields = [identifier()];
  while (peek() === ',') {
    next();
    fields.push(identifier());
  }
  keyword('FROM');
  const object = identifier();

  const where: SoqlCondition[] = [];
  if (peek()?.toUpperCase() === 'WHERE') {
    next();
    do {
      const field = identifier();
      const operator = next();
      if (!['=', '!=', '<', '<=', '>', '>='].includes(operator)) throw unexpected(operator);
      const literal = next();
      if (literal === undefined) throw unexpected(literal);
      let value: number | string;
      if (DATETIME.test(literal)) value = parseDateTimeLiteral(literal);
      else if (literal.startsWith("'")) value = literal.slice(1, -1).replace(/\\(.)/g, '$1');
      else throw unexpected(literal);
      where.push({ field, operator: operator as SoqlCondition['operator'], value });
    } while (peek()?.toUpperCase() === 'AND' && next());
  }

  const orderBy: SoqlQuery['orderBy'] = [];
  if (peek()?.toUpperCase() === 'ORDER') {
    next();
    keyword('BY');
    do {
      const field = identifier();
      let descending = false;
      if (peek()?.toUpperCase() === 'ASC') next();
      else if (peek()?.toUpperCase() === 'DESC') {
        next();
        descending = true;
      }
      orderBy.push({ field, descending });
    } while (peek() === ',' && next());
  }

  let limit: number | undefined;
  if (peek()?.toUpperCase() === 'LIMIT') {
    next();
    const n = next();
    if (n === undefined || !/^\d+$/.test(n)) throw unexpected(n);
    limit = Number(n);
  }
  if (i < tokens.length) throw unexpected();
  return { fields, object, where, orderBy, limit };
}
