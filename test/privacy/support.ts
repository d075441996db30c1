import { sql } from 'kysely';
import type { Database } from '@plexus/storage';
import type { TestApp } from '../support/app.js';
import { call } from '../support/http.js';
import { until } from '../support/wait.js';

/** Every row of every table of the database as text: what a `pg_dump` of the data would show. */
export async function dumpText(db: Database): Promise<Map<string, string>> {
  const { rows: tables } = await sql<{ name: string }>`select table_name as name from information_schema.tables
    where table_schema = current_schema() and table_type = 'BASE TABLE' order by 1`.execute(db.db);
  const out = new Map<string, string>();
  for (const { name } of tables) {
    const { rows } = await sql<{ text: string | null }>`select string_agg(t::text, E'\n') as text
      from ${sql.table(name)} t`.execute(db.db);
    out.set(name, rows[0]?.text ?? '');
  }
  return out;
}

/** The tables whose rows contain any of `needles` (case-insensitive), with the needle found. */
export async function tracesOf(db: Database, needles: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const [table, text] of await dumpText(db)) {
    const lower = text.toLowerCase();
    for (const n of needles) if (lower.includes(n.toLowerCase())) found.push(`${table}: ${n}`);
  }
  return found;
}

/** Files a privacy request through the API and waits until it has completed; returns it as GET shows it. */
export async function fileAndWait(t: TestApp, body: unknown, timeoutMs = 30_000): Promise<any> {
  const filed = await call(t.url, 'POST', '/v1/privacy/requests', { headers: t.auth, body });
  if (filed.status !== 202)
    throw new Error(`POST /v1/privacy/requests → ${filed.status}: ${JSON.stringify(filed.body)}`);
  return waitForRequest(t, filed.body.id as string, timeoutMs);
}

export async function waitForRequest(t: TestApp, id: string, timeoutMs = 30_000): Promise<any> {
  return until(async () => {
    const r = await call(t.url, 'GET', `/v1/privacy/requests/${id}`, { headers: t.auth });
    return r.body.status === 'completed' ? r.body : undefined;
  }, timeoutMs);
}

/**
 * Rows that still name one of these profiles, in any column of a profile type (`profile_id`, `winner`, `loser`,
 * `merged_into`, `people`), except the privacy request rows that keep the id as proof.
 */
export async function rowsNaming(db: Database, profileIds: string[]): Promise<string[]> {
  const { rows: columns } = await sql<{ table_name: string; column_name: string }>`select c.table_name, c.column_name
    from information_schema.columns c join information_schema.tables t
      on t.table_schema = c.table_schema and t.table_name = c.table_name and t.table_type = 'BASE TABLE'
    where c.table_schema = current_schema()
      and c.column_name in ('profile_id', 'winner', 'loser', 'merged_into', 'people', 'id')`.execute(db.db);
  const found: string[] = [];
  for (const { table_name: table, column_name: column } of columns) {
    if (table === 'privacy_requests' || table === 'privacy_pending_ledger') continue;
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}
      where ${sql.ref(column)}::text ilike any(${profileIds.map((id) => `%${id}%`)}::text[])`.execute(db.db);
    if (rows[0].n > 0) found.push(`${table}.${column}: ${rows[0].n}`);
  }
  return found;
}
