import pg from 'pg';
import { until } from '../../support/wait.js';

/**
 * The end state a scenario is judged by, in a form that does not depend on generated ids or on the order work
 * happened in: the identity graph as the sets of identifiers that share a profile, the events per profile, and
 * audience memberships by the identifiers of their members. The oracle is the same state after the same work
 * run without faults.
 */
export interface EndState {
  /** One entry per live profile: its identifiers `type:value`, sorted, joined with a space; the list sorted. */
  graph: string[];
  /** Events as `identifier-set | source event id | name`, sorted; a duplicate shows up twice. */
  events: string[];
  /** Audience name → sorted identifier sets of its members. */
  memberships: Record<string, string[]>;
  /** Identity observations (accepted records) per source name. */
  observations: Record<string, number>;
}

/** Source ids differ between deployments (external ids are scoped by them): a value with the source's name instead. */
export async function sourceNames(client: pg.Client): Promise<(value: string) => string> {
  const sources = await client.query<{ id: string; name: string }>(`select id, name from connections`);
  const names = new Map(sources.rows.map((r) => [r.id, r.name]));
  return (value) => value.replace(/src_[0-9a-f]+/g, (id) => names.get(id) ?? id);
}

export async function readEndState(databaseUrl: string): Promise<EndState> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const ids = await client.query<{ profile_id: string; ids: string }>(
      `select profile_id, string_agg(type || ':' || value, ' ' order by type, value) as ids
         from profile_identifiers group by profile_id`,
    );
    const canonical = await sourceNames(client);
    const key = new Map(ids.rows.map((r) => [r.profile_id, canonical(r.ids)]));
    const events = await client.query<{ profile_id: string; event_id: string | null; name: string }>(
      `select profile_id, event_id, name from profile_events`,
    );
    const members = await client.query<{ name: string; profile_id: string }>(
      `select a.name, m.profile_id from audience_members m join audiences a on a.id = m.audience_id`,
    );
    const observations = await client.query<{ name: string; n: string }>(
      `select coalesce(s.name, o.source_id) as name, count(*) as n
         from identity_observations o left join connections s on s.id = o.source_id group by 1`,
    );
    const memberships: Record<string, string[]> = {};
    for (const m of members.rows) (memberships[m.name] ??= []).push(key.get(m.profile_id) ?? `?${m.profile_id}`);
    for (const list of Object.values(memberships)) list.sort();
    return {
      graph: [...key.values()].sort(),
      events: events.rows.map((e) => `${key.get(e.profile_id) ?? '?'} | ${e.event_id ?? ''} | ${e.name}`).sort(),
      memberships,
      observations: Object.fromEntries(observations.rows.map((r) => [r.name, Number(r.n)])),
    };
  } finally {
    await client.end();
  }
}

/** Reads the end state once it stops changing (real-time audience evaluation runs a little after ingestion). */
export async function settled(url: string): Promise<EndState> {
  let last = '';
  return until(
    async () => {
      const state = await readEndState(url);
      const now = JSON.stringify(state);
      if (now === last) return state;
      last = now;
      return undefined;
    },
    60_000,
    1_500,
  );
}
