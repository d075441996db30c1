import { sql, type RawBuilder } from 'kysely';

/**
 * Rows as one JSON document: `from ${jsonRows(rows)}` is a function scan of the rows, in order, each as `r`, an
 * array of its cells read by position: `(r ->> 0)::uuid`, `(r ->> 3)::timestamptz`, `(r -> 5)::jsonb` for a JSON
 * cell (always cast: see below), `jsonb_array_elements_text((r -> 2)::jsonb)` for a list.
 *
 * Why: an array parameter (`$1::jsonb[]`, `$1::text[]`) is quoted and escaped element by element by the driver and
 * parsed as an array literal by the server, then each element parsed again; for a batch of JSON texts that costs
 * several times as much as one JSON document, which the server parses once.
 *
 * Cells: `null` and `undefined` are JSON null (SQL null through `->>`); a `Date` its ISO text (an invalid date
 * throws, as `toISOString` does); a `bigint` its decimal text; a {@link JsonText} its text as it is (a JSON value
 * serialised earlier, not serialised again); any other value `JSON.stringify`'s text. Strings are sent as the
 * driver sends a text parameter: a lone UTF-16 surrogate becomes U+FFFD (UTF-8 cannot encode it). A NUL character
 * cannot be sent either way: the server refuses it (`\u0000` cannot become text or jsonb) as it refuses a NUL in a
 * text parameter.
 *
 * The document is `jsonb`, whose parse is the cheapest here; one longer than `jsonbLimit` characters is sent as
 * `json` instead (jsonb holds at most 256 MB), which is why JSON cells are read with a cast to `jsonb`.
 */
export function jsonRows(
  rows: Iterable<readonly unknown[]>,
  alias = 'u',
  jsonbLimit = JSONB_LIMIT,
): RawBuilder<unknown> {
  const document = jsonRowsText(rows);
  return document.length > jsonbLimit
    ? sql`json_array_elements(${document}::json) as ${sql.raw(alias)}(r)`
    : sql`jsonb_array_elements(${document}::jsonb) as ${sql.raw(alias)}(r)`;
}

/** A JSON text to place in a {@link jsonRows} document as it is; `null` is JSON null. */
export class JsonText {
  constructor(readonly text: string | null) {}
}

/** The text of a {@link jsonRows} document: `[[cell, …], …]`. */
export function jsonRowsText(rows: Iterable<readonly unknown[]>): string {
  const out: string[] = [];
  for (const row of rows) {
    let line = '[';
    for (let i = 0; i < row.length; i++) {
      if (i > 0) line += ',';
      line += jsonCell(row[i]);
    }
    out.push(`${line}]`);
  }
  return `[${out.join(',')}]`;
}

/** Characters of a document sent as `jsonb`: far below jsonb's 256 MB even for short cells of multi-byte text. */
const JSONB_LIMIT = 32 * 1024 * 1024;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function jsonCell(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') {
    const text = JSON.stringify(value);
    // `JSON.stringify` writes `\u` only for control characters and lone surrogates (or the text held `\u`).
    return text.includes('\\u') ? JSON.stringify(value.replace(LONE_SURROGATE, '\ufffd')) : text;
  }
  if (value instanceof JsonText) return value.text ?? 'null';
  if (value instanceof Date) return `"${value.toISOString()}"`;
  if (typeof value === 'bigint') return `"${value}"`;
  return JSON.stringify(value);
}
