import pg from 'pg';
import { startGoogle, startMeta, type GoogleEmulator, type MetaEmulator } from '../../emulators/index.js';
import { call } from '../../support/http.js';
import { until } from '../../support/wait.js';
import { AUTH } from './cluster.js';
import { settled, sourceNames, type EndState } from './oracle.js';

/**
 * The destinations of the external-API scenarios: a Meta and a Google emulator, each its own platform (and so
 * its own queue partition in the hub), and how to read what the hub recorded of them (the ledger) and what
 * they ended up holding.
 */

export const META_TOKEN = 'meta-faults-token';
export const GOOGLE_TOKEN = 'google-faults-token';
export const GOOGLE_ACCOUNT = '1234567890';
export const GOOGLE_LIST = '5550001';

/**
 * Short HTTP budgets so a hanging API costs seconds, not minutes: a request times out after 1.5 s and is
 * retried 6 times, the first backoff 50 ms.
 */
export const QUICK_HTTP = { CONNECTOR_TIMEOUT_MS: '1500', CONNECTOR_RETRIES: '6', CONNECTOR_BACKOFF_MS: '50' };

export interface Platforms {
  meta: MetaEmulator;
  google: GoogleEmulator;
  close(): Promise<void>;
}

export async function startPlatforms(): Promise<Platforms> {
  const meta = await startMeta({ tokens: [META_TOKEN], adAccounts: ['1000'], rateLimit: false });
  const google = await startGoogle({
    tokens: [GOOGLE_TOKEN],
    accounts: { [GOOGLE_ACCOUNT]: [GOOGLE_LIST] },
    rateLimit: false,
  });
  return { meta, google, close: async () => void (await Promise.all([meta.close(), google.close()])) };
}

async function create(api: string, path: string, body: object): Promise<string> {
  const created = await call(api, 'POST', path, { headers: AUTH, body });
  if (created.status !== 201) throw new Error(`POST ${path} → ${created.status} ${JSON.stringify(created.body)}`);
  return created.body.id as string;
}

/** Destinations "Meta" and "Google" and an upsert activation of `audienceId` to each. */
export async function activateBoth(
  api: string,
  platforms: Platforms,
  audienceId: string,
): Promise<{ meta: string; google: string }> {
  const metaDestination = await create(api, '/v1/destinations', {
    name: 'Meta',
    connector: 'meta-custom-audiences',
    config: { accessToken: META_TOKEN, adAccountId: '1000', baseUrl: platforms.meta.url, requestsPerSecond: 100 },
  });
  const googleDestination = await create(api, '/v1/destinations', {
    name: 'Google',
    connector: 'google-customer-match',
    config: {
      accessToken: GOOGLE_TOKEN,
      operatingAccountId: GOOGLE_ACCOUNT,
      userListId: GOOGLE_LIST,
      customerMatchTermsAccepted: true,
      baseUrl: platforms.google.url,
    },
  });
  return {
    meta: await create(api, '/v1/activations', { audienceId, destinationId: metaDestination, mode: 'upsert' }),
    google: await create(api, '/v1/activations', { audienceId, destinationId: googleDestination, mode: 'upsert' }),
  };
}

/** The identify messages of `people` visitors who gave ads consent, each with an email. */
export function consentingVisitors(people: number): object[] {
  return Array.from({ length: people }, (_, p) => ({
    type: 'identify',
    messageId: `consenting-${p}`,
    userId: `visitor-${p}`,
    traits: { email: `consenting${p}@plexus-faults.io`, plan: p % 3 === 0 ? 'pro' : 'free' },
    context: { consent: { ads: true } },
  }));
}

/** What the platforms hold: Meta's members of every audience it has, Google's of the list, sorted. */
export function platformState(platforms: Platforms): { meta: string[]; google: string[] } {
  const meta = [...platforms.meta.state.audiences.values()].flatMap((a) =>
    [...a.members.values()].map((row) => `${a.name}: ${JSON.stringify(row)}`),
  );
  const google = platforms.google.state
    .members(GOOGLE_ACCOUNT, GOOGLE_LIST)
    .map((m) => [...m.identifiers].sort().join(' '));
  return { meta: meta.sort(), google: google.sort() };
}

/** The ledger by destination name: `identifiers | state` per member, sorted; and the open and dead batches. */
export interface LedgerState {
  ledger: Record<string, string[]>;
  openBatches: number;
  /** Batches the activation engine had to send again: a failure the HTTP client's own retries did not absorb. */
  engineRetries: number;
  deadLetters: number;
}

export async function readLedger(databaseUrl: string): Promise<LedgerState> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const rows = await client.query<{ destination: string; ids: string; state: string }>(
      `select c.name as destination, m.state,
              (select string_agg(i.type || ':' || i.value, ' ' order by i.type, i.value)
                 from profile_identifiers i where i.profile_id = m.profile_id) as ids
         from activation_members m
         join activations a on a.id = m.activation_id
         join connections c on c.id = a.destination_id`,
    );
    const canonical = await sourceNames(client);
    const ledger: Record<string, string[]> = {};
    for (const r of rows.rows) (ledger[r.destination] ??= []).push(`${canonical(r.ids)} | ${r.state}`);
    for (const list of Object.values(ledger)) list.sort();
    const open = await client.query<{ n: string }>(
      `select count(*) as n from activation_batches where state in ('planned', 'retrying')`,
    );
    const retried = await client.query<{ n: string }>(
      `select count(*) as n from activation_batches where attempts > 0`,
    );
    const dead = await client.query<{ n: string }>(`select count(*) as n from activation_dead_letters`);
    return {
      ledger,
      openBatches: Number(open.rows[0].n),
      engineRetries: Number(retried.rows[0].n),
      deadLetters: Number(dead.rows[0].n),
    };
  } finally {
    await client.end();
  }
}

/** Ledger rows of one activation, and the members of its audience: delivered when they are as many. */
export async function deliveredCount(databaseUrl: string, activationId: string): Promise<[number, number]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const result = await client.query<{ ledger: string; members: string }>(
      `select (select count(*) from activation_members where activation_id = $1) as ledger,
              (select count(*) from audience_members m join activations a on a.audience_id = m.audience_id
                where a.id = $1) as members`,
      [activationId],
    );
    return [Number(result.rows[0].ledger), Number(result.rows[0].members)];
  } finally {
    await client.end();
  }
}

export interface FullState {
  profiles: EndState;
  ledger: LedgerState;
  platforms: { meta: string[]; google: string[] };
}

/**
 * Waits until every activation has a ledger row per audience member and no batch is open, then reads the end
 * state once it stops changing.
 */
export async function deliveredState(
  databaseUrl: string,
  platforms: Platforms,
  activations: string[],
  timeoutMs = 90_000,
): Promise<FullState> {
  await until(
    async () => {
      for (const id of activations) {
        const [ledger, members] = await deliveredCount(databaseUrl, id);
        if (members === 0 || ledger < members) return false;
      }
      return (await readLedger(databaseUrl)).openBatches === 0;
    },
    timeoutMs,
    300,
  );
  const profiles = await settled(databaseUrl);
  let last = '';
  return until(
    async () => {
      const state: FullState = { profiles, ledger: await readLedger(databaseUrl), platforms: platformState(platforms) };
      const now = JSON.stringify(state);
      if (now === last && state.ledger.openBatches === 0) return state;
      last = now;
      return undefined;
    },
    60_000,
    1_500,
  );
}

export async function activation(api: string, id: string): Promise<any> {
  return (await call(api, 'GET', `/v1/activations/${id}`, { headers: AUTH })).body;
}

export async function activationRuns(api: string, id: string): Promise<any[]> {
  return (await call(api, 'GET', `/v1/activations/${id}/runs`, { headers: AUTH })).body.data as any[];
}
