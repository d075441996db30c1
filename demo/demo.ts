import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadEnvironment } from '@plexus/config';
import { assertRedisReachable } from '@plexus/queue';
import { createApiApp } from '../apps/api/src/bootstrap.js';
import { DEMO_CREDENTIALS, startEmulators, type RunningEmulators } from '../test/emulators/index.js';
import {
  dmpFilesFromPopulation,
  hubspotContactsFromPopulation,
  shopifyFromPopulation,
} from '../test/emulators/seed/population.seed.js';
import {
  generatePopulation,
  pairwiseQuality,
  SHARED_DMP_COOKIE,
  type Population,
  type PopulationOptions,
} from '../test/fixtures/population.js';
import {
  activate,
  createDestination,
  DESTINATIONS,
  printActivations,
  type ActivationReport,
  type DestinationPlan,
} from './activation.js';
import { eraseOnePerson, type ErasureReport } from './privacy.js';

export interface DemoOptions {
  /** People in the synthetic population (default 300). */
  people?: number;
  /** Seed of the population (default 42): the same seed gives the same people. */
  seed?: number;
  /** API port (default 3000; 0 picks a free one). */
  port?: number;
  /** Data folder of the embedded database, wiped at start (default ./.plexus/demo). */
  dataDir?: string;
  redisUrl?: string;
  /** Where progress lines go (default stdout). */
  print?: (line: string) => void;
}

export interface SourceReport {
  name: string;
  connector: string;
  sourceId: string;
  runId?: string;
  status: string;
  read: number;
  written: number;
  quarantined: number;
  quarantineReasons: Record<string, number>;
}

export interface DemoReport {
  sources: SourceReport[];
  recordsIn: number;
  profiles: number;
  /** Profiles holding identifiers from more than one source. */
  crossSourceProfiles: number;
  merges: number;
  /** Identifier type that caused each merge → count. */
  mergeReasons: Record<string, number>;
  /** Pairwise quality of CRM contacts and shop customers resolved into profiles, against the seeded truth. */
  quality: { precision: number; recall: number; records: number; people: number };
  truth: { people: number };
  /** Profiles with CRM history as events: deals created, deals won, tickets opened (`POST /v1/audiences/preview`). */
  crm: { dealProfiles: number; wonDealProfiles: number; ticketProfiles: number; openTicketProfiles: number };
  /** The identity rules the demo put (`PUT /v1/identity/rules`): their version and what was added. */
  identityRules: { version: number; added: string[] };
  /** The two audiences, with their size when created. */
  audiences: Array<{ id: string; name: string; size: number; rule: unknown; evaluatedAt: string }>;
  /** What each platform received and accepted. */
  activations: ActivationReport[];
  /** HubSpot contacts that carry a property the hub wrote back (`plexus_*`). */
  crmEnrichedContacts: number;
  /** The deletion request for one activated person. */
  erasure?: ErasureReport;
  /** Where the seeded population starts (its events span the 120 days from there to the run). */
  populationStart: string;
  /** Everything that did not go as it should; `npm run demo -- --once` exits non-zero when there is any. */
  problems: string[];
}

export interface RunningDemo {
  report: DemoReport;
  url: string;
  apiKey: string;
  emulators: RunningEmulators;
  close(): Promise<void>;
}

interface Page<T> {
  data: T[];
  next: string | null;
}
interface RunDto {
  status: string;
  stats: { read: number; written: number; quarantined: number };
  error?: { type: string; message: string };
}
interface HistoryDto {
  kind: string;
  causedBy?: Array<{ type: string }>;
}

class AdminClient {
  constructor(
    readonly url: string,
    private readonly key: string,
  ) {}
  async call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.key}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const parsed = (text ? JSON.parse(text) : undefined) as (T & { message?: string }) | undefined;
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${parsed?.message ?? text}`);
    return parsed as T;
  }
  /** A non-JSON answer (NDJSON export). */
  async text(path: string): Promise<string> {
    const res = await fetch(`${this.url}${path}`, { headers: { authorization: `Bearer ${this.key}` } });
    if (!res.ok) throw new Error(`GET ${path} → ${res.status}`);
    return res.text();
  }
}

/** A non-JSON answer's status (a 404 is an answer here). */
async function statusOf(url: string, key: string, path: string): Promise<number> {
  const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  await res.arrayBuffer();
  return res.status;
}

export const IDENTIFIED_AUDIENCE = 'French customers, 2+ orders in 90 days, ads consent';
export const DMP_AUDIENCE = 'Auto-intenders seen in the last 30 days (anonymous)';

/**
 * The population the demo seeds: its events span the 120 days up to the start of today (UTC), so "the last 90
 * days" means something; a quarter of the people live in France, and a fifth more are known only to the DMP.
 */
export function demoPopulationOptions(people: number, seed: number, now = Date.now()): PopulationOptions {
  const today = Math.floor(now / 86_400_000) * 86_400_000;
  return {
    people,
    seed,
    start: new Date(today - 120 * 86_400_000),
    frenchShare: 0.25,
    dmpOnlyPeople: Math.round(people / 5),
    dmpConsent: true,
  };
}

/** Groups quarantine reasons by their general part ("no valid identifier: email 'x' is blocked" → "no valid identifier"). */
function reasonKey(reason: string): string {
  return reason
    .replace(/^line \d+: /, '')
    .split(/[:(]/)[0]
    .trim();
}

/**
 * The whole story on the embedded defaults: emulators seeded with one synthetic population (the same people
 * in the CRM, the shop, the DMP feed and on the website, with realistic noise), Plexus configured through
 * its public REST API as an admin would, every source synced, and a report of what came in and what it became.
 */
export async function runDemo(options: DemoOptions = {}): Promise<RunningDemo> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const people = options.people ?? 300;
  const redisUrl = options.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  // Said before anything starts, with how to fix it, rather than as a stack trace from the middle of the run.
  await assertRedisReachable(redisUrl);
  const populationOptions = demoPopulationOptions(people, options.seed ?? 42);
  const population: Population = generatePopulation(populationOptions);
  const shop = shopifyFromPopulation(population);
  const crm = hubspotContactsFromPopulation(population);

  print(
    `▸ starting vendor emulators seeded with ${population.people.length} people: sources HubSpot (contacts, deals, tickets, engagements), Shopify, a DMP bucket; destinations Meta, Google, The Trade Desk, HubSpot`,
  );
  const emulators = await startEmulators({
    people,
    seeds: { hubspot: { contacts: crm }, shopify: shop, s3: dmpFilesFromPopulation(population) },
  });

  const dataDir = resolve(options.dataDir ?? join('.plexus', 'demo'));
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const apiKey = `plx_demo_${randomBytes(16).toString('hex')}`;
  const env = loadEnvironment({
    ...process.env,
    DATA_DIR: dataDir,
    DATABASE_URL: '',
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: `plexus-demo-${randomBytes(3).toString('hex')}`,
    ADMIN_API_KEY: apiKey,
    PORT: String(options.port ?? 3000),
    LOG_LEVEL: 'info',
    // The emulators listen on loopback, which connectors may reach only when allowed.
    OUTBOUND_ALLOW: '127.0.0.1,::1,localhost',
  });
  print(`▸ starting Plexus on the embedded database (${join(dataDir, 'db')}), logs in ${join(dataDir, 'plexus.log')}`);
  let app: NestExpressApplication;
  try {
    app = await createApiApp(env, { logDestination: createWriteStream(join(dataDir, 'plexus.log')) });
    await app.listen(env.PORT, '127.0.0.1');
  } catch (error) {
    await emulators.close();
    throw error;
  }
  const port = (app.getHttpServer().address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}`;
  const admin = new AdminClient(url, apiKey);
  const close = async (): Promise<void> => {
    await app.close();
    await emulators.close();
  };

  try {
    const available = new Set((await admin.call<Page<{ id: string }>>('GET', '/v1/connectors')).data.map((c) => c.id));
    const plans: Array<{ name: string; connector: string; config: Record<string, unknown> }> = [
      {
        name: 'HubSpot CRM',
        connector: 'hubspot',
        config: {
          baseUrl: emulators.hubspot.url,
          accessToken: DEMO_CREDENTIALS.hubspot.token,
          objects: ['deals', 'tickets', 'emails', 'calls', 'meetings'],
        },
      },
      {
        name: 'Shopify store',
        connector: 'shopify',
        config: {
          baseUrl: emulators.shopify.url,
          accessToken: DEMO_CREDENTIALS.shopify.token,
          apiVersion: DEMO_CREDENTIALS.shopify.apiVersion,
        },
      },
      {
        name: 'DMP cookie feed',
        connector: 'dmp-feed',
        config: {
          bucket: DEMO_CREDENTIALS.s3.bucket,
          endpoint: emulators.s3.url,
          region: DEMO_CREDENTIALS.s3.region,
          forcePathStyle: true,
          accessKeyId: DEMO_CREDENTIALS.s3.accessKeyId,
          secretAccessKey: DEMO_CREDENTIALS.s3.secretAccessKey,
          // This DMP calls the mobile advertising id `idfa`; a segment counts for 30 days after it was seen.
          columns: { deviceId: 'idfa' },
          segmentTtlDays: 30,
        },
      },
    ];
    print('▸ configuring sources through the REST API');
    const sources: SourceReport[] = [];
    for (const plan of plans) {
      if (!available.has(plan.connector)) {
        print(`  (connector ${plan.connector} is not installed: skipped)`);
        continue;
      }
      const created = await admin.call<{ id: string }>('POST', '/v1/sources', plan);
      sources.push({
        name: plan.name,
        connector: plan.connector,
        sourceId: created.id,
        status: 'queued',
        read: 0,
        written: 0,
        quarantined: 0,
        quarantineReasons: {},
      });
      print(`  POST /v1/sources ${plan.connector.padEnd(10)} → ${created.id}`);
    }

    const identityRules = await configureIdentityRules(admin, sources, print);

    print('▸ syncing');
    for (const source of sources)
      source.runId = (await admin.call<{ runId: string }>('POST', `/v1/sources/${source.sourceId}/sync`)).runId;
    let webSent = 0;
    if (available.has('http-events')) webSent = await sendWebEvents(admin, population, print);
    for (;;) {
      let active = 0;
      for (const source of sources) {
        const run = await admin.call<RunDto>('GET', `/v1/runs/${source.runId}`);
        Object.assign(source, {
          status: run.status,
          read: run.stats.read,
          written: run.stats.written,
          quarantined: run.stats.quarantined,
        });
        if (run.status === 'queued' || run.status === 'running') active++;
        if (run.status === 'failed') print(`  ${source.connector} failed: ${run.error?.type} ${run.error?.message}`);
      }
      print(`  ${sources.map((s) => `${s.connector} ${s.status} ${s.read} read`).join(' · ')}`);
      if (active === 0) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    for (const source of sources) {
      let after: string | null = null;
      do {
        const page: Page<{ reason: string }> = await admin.call<Page<{ reason: string }>>(
          'GET',
          `/v1/sources/${source.sourceId}/quarantine?limit=500${after ? `&after=${after}` : ''}`,
        );
        for (const q of page.data) {
          const key = reasonKey(q.reason);
          source.quarantineReasons[key] = (source.quarantineReasons[key] ?? 0) + 1;
        }
        after = page.next;
      } while (after);
    }

    const report = await buildReport(
      admin,
      sources,
      population,
      crm.map((c) => c.id),
      shop.customers.map((c) => String(c.id)),
      webSent,
    );
    report.identityRules = identityRules;
    report.populationStart = populationOptions.start!.toISOString();
    for (const s of sources)
      if (s.status !== 'succeeded' && s.status !== 'partial') report.problems.push(`${s.name} ended ${s.status}`);

    print('▸ audiences');
    const identified = await createAudience(admin, IDENTIFIED_AUDIENCE, IDENTIFIED_RULE, print);
    const anonymous = await createAudience(admin, DMP_AUDIENCE, DMP_RULE, print);
    report.audiences = [identified, anonymous];
    for (const a of report.audiences) if (a.size === 0) report.problems.push(`audience "${a.name}" has no members`);

    print(
      '▸ activating: the French customers to Meta, Google and back to HubSpot; the auto-intenders to The Trade Desk',
    );
    const links: Array<{ audience: typeof identified; plan: DestinationPlan; destinationId: string }> = [];
    for (const [audience, plan] of [
      [identified, DESTINATIONS.meta],
      [identified, DESTINATIONS.google],
      [identified, DESTINATIONS.hubspot],
      [anonymous, DESTINATIONS.ttd],
    ] as const) {
      if (!available.has(plan.connector)) {
        print(`  (connector ${plan.connector} is not installed: skipped)`);
        continue;
      }
      links.push({ audience, plan, destinationId: await createDestination(admin, emulators, plan, print) });
    }
    report.activations = await activate(admin, emulators, links, print);
    report.crmEnrichedContacts = enrichedContacts(emulators);
    for (const a of report.activations) {
      if (a.status !== 'active') report.problems.push(`${a.platform} activation is ${a.status}`);
      if (a.invalid > 0) report.problems.push(`${a.platform} refused ${a.invalid} member(s)`);
      if (a.held !== a.platformHolds)
        report.problems.push(`${a.platform}: the ledger says ${a.held} held, the platform holds ${a.platformHolds}`);
    }

    const candidate = await personToErase(
      admin,
      population,
      report.activations.filter((a) => a.audience === identified.name).map((a) => a.activationId),
    );
    if (candidate) {
      print('▸ erasing one activated person (right to erasure)');
      report.erasure = await eraseOnePerson(
        { call: (m, p, b) => admin.call(m, p, b), status: (p) => statusOf(url, apiKey, p) },
        emulators,
        candidate,
        report.activations,
        print,
      );
      const e = report.erasure;
      if (e.status !== 'completed') report.problems.push(`the deletion request ended ${e.status}`);
      if (e.lookups.some((l) => l.found)) report.problems.push('the erased person is still found by an identifier');
      if (e.platformsStillHolding.length > 0)
        report.problems.push(`the erased person is still held by ${e.platformsStillHolding.join(', ')}`);
      if (e.ledgerEntriesLeft > 0) report.problems.push('the ledger still has rows for the erased person');
    } else report.problems.push('no activated person to erase');
    printReport(report, print);
    return { report, url, apiKey, emulators, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function sendWebEvents(
  admin: AdminClient,
  population: Population,
  print: (line: string) => void,
): Promise<number> {
  const source = await admin.call<{ id: string; writeKey: string }>('POST', '/v1/sources', {
    name: 'Website',
    connector: 'http-events',
    config: {},
  });
  print(`  POST /v1/sources http-events → ${source.id} (write key issued)`);
  const auth = `Basic ${Buffer.from(`${source.writeKey}:`).toString('base64')}`;
  const events = population.web.events;
  const emailOf = new Map(population.people.filter((p) => p.userId && p.email).map((p) => [p.userId!, p.email!]));
  const consentOf = new Map(population.people.filter((p) => p.userId).map((p) => [p.userId!, p.consent]));
  for (let i = 0; i < events.length; i += 100) {
    const batch = events.slice(i, i + 100).map((e) => ({
      type: e.userId && e.event === 'Signed In' ? 'identify' : 'track',
      event: e.event,
      messageId: e.messageId,
      anonymousId: e.anonymousId ?? undefined,
      userId: e.userId ?? undefined,
      timestamp: e.timestamp,
      // Signing in tells the site who the visitor is.
      ...(e.userId && e.event === 'Signed In' && emailOf.has(e.userId)
        ? { traits: { email: emailOf.get(e.userId) } }
        : {}),
      context: {
        ...(e.deviceId ? { device: { advertisingId: e.deviceId } } : {}),
        // What the visitor answered the site's consent banner, sent with each sign-in.
        ...(e.userId && e.event === 'Signed In' && consentOf.get(e.userId)
          ? {
              consent: {
                categoryPreferences: {
                  advertising: consentOf.get(e.userId)!.ads,
                  personalization: consentOf.get(e.userId)!.personalization,
                },
              },
            }
          : {}),
      },
    }));
    const res = await fetch(`${admin.url}/v1/batch`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ batch }),
    });
    if (!res.ok) throw new Error(`POST /v1/batch → ${res.status}: ${await res.text()}`);
  }
  print(`  POST /v1/batch ×${Math.ceil(events.length / 100)} → ${events.length} web events stored`);
  return events.length;
}

async function buildReport(
  admin: AdminClient,
  sources: SourceReport[],
  population: Population,
  crmIds: string[],
  shopIds: string[],
  webEvents: number,
): Promise<DemoReport> {
  const exported = (await admin.text('/v1/profiles/export'))
    .split('\n')
    .filter(Boolean)
    .map(
      (line) =>
        JSON.parse(line) as { id: string; identifiers: Array<{ type: string; value: string; sourceId: string }> },
    );

  const hubspot = sources.find((s) => s.connector === 'hubspot')?.sourceId;
  const shopify = sources.find((s) => s.connector === 'shopify')?.sourceId;
  const profileOf = new Map<string, string>();
  let crossSourceProfiles = 0;
  const multiSource: string[] = [];
  for (const profile of exported) {
    for (const i of profile.identifiers) if (i.type === 'external_id') profileOf.set(i.value, profile.id);
    if (new Set(profile.identifiers.map((i) => i.sourceId)).size > 1) {
      crossSourceProfiles++;
      multiSource.push(profile.id);
    }
  }
  const assignments: Array<{ personId: string; profileId: string | null }> = [];
  population.crm.contacts.forEach((contact, i) => {
    const personId = population.truth.get(`crm:contact:${contact.id}`);
    if (hubspot && personId)
      assignments.push({ personId, profileId: profileOf.get(`${hubspot}:contact:${crmIds[i]}`) ?? null });
  });
  population.shop.customers.forEach((customer, i) => {
    const personId = population.truth.get(`shop:customer:${customer.id}`);
    if (shopify && personId)
      assignments.push({ personId, profileId: profileOf.get(`${shopify}:customer:${shopIds[i]}`) ?? null });
  });
  const quality = pairwiseQuality(assignments);

  let merges = 0;
  const mergeReasons: Record<string, number> = {};
  for (const id of multiSource) {
    const history = await admin.call<HistoryDto[] | Page<HistoryDto>>('GET', `/v1/profiles/${id}/history`);
    for (const entry of Array.isArray(history) ? history : history.data) {
      if (entry.kind !== 'merge') continue;
      merges++;
      const type = entry.causedBy?.[0]?.type ?? 'unknown';
      mergeReasons[type] = (mergeReasons[type] ?? 0) + 1;
    }
  }
  const size = async (rule: unknown): Promise<number> =>
    (await admin.call<{ size: number }>('POST', '/v1/audiences/preview', { rule, sample: 0 })).size;
  return {
    sources,
    recordsIn: sources.reduce((n, s) => n + s.read, 0) + webEvents,
    profiles: exported.length,
    crossSourceProfiles,
    merges,
    mergeReasons,
    quality: {
      precision: quality.precision,
      recall: quality.recall,
      records: assignments.length,
      people: new Set(assignments.map((a) => a.personId)).size,
    },
    truth: { people: population.people.length },
    crm: {
      dealProfiles: await size({ event: 'Deal Created' }),
      wonDealProfiles: await size({ event: 'Deal Won' }),
      ticketProfiles: await size({ event: 'Ticket Opened' }),
      openTicketProfiles: await size({ trait: 'open_tickets', op: 'gt', value: 0 }),
    },
    identityRules: { version: 0, added: [] },
    audiences: [],
    activations: [],
    crmEnrichedContacts: 0,
    populationStart: '',
    problems: [],
  };
}

/** "French customers with at least 2 orders in the last 90 days and ads consent". */
export const IDENTIFIED_RULE = {
  all: [
    { trait: 'country', op: 'eq', value: 'FR' },
    { event: 'Order Completed', within: '90d', count: { op: 'gte', value: 2 } },
    { consent: 'ads' },
  ],
};
/** Anonymous profiles the DMP puts in its auto-intender segment; a membership lasts 30 days after it was seen. */
export const DMP_RULE = {
  all: [{ trait: 'segment_auto_intender', op: 'eq', value: true }, { anonymous: true }],
};

/**
 * The identity rules as an admin would tune them for these sources: the defaults, plus the DMP's default cookie
 * (stamped on rows of unrelated people) blocked, and the shop's address trusted first for the country.
 */
async function configureIdentityRules(
  admin: AdminClient,
  sources: SourceReport[],
  print: (line: string) => void,
): Promise<DemoReport['identityRules']> {
  const current = await admin.call<{ rules: Record<string, unknown> & { blocked: unknown[] } }>(
    'GET',
    '/v1/identity/rules',
  );
  const shop = sources.find((s) => s.connector === 'shopify')?.sourceId;
  const rules = {
    ...current.rules,
    blocked: [
      ...current.rules.blocked,
      { type: 'cookie_id', values: [SHARED_DMP_COOKIE], reason: "the DMP's default cookie" },
    ],
    traitSourcePriority: shop ? { country: [shop] } : {},
  };
  const put = await admin.call<{ version: number }>('PUT', '/v1/identity/rules', rules);
  const added = [`cookie_id ${SHARED_DMP_COOKIE} blocked (the DMP's default cookie)`];
  if (shop) added.push('country: the shop first');
  print(`  PUT /v1/identity/rules → version ${put.version}: ${added.join('; ')}`);
  return { version: put.version, added };
}

async function createAudience(
  admin: AdminClient,
  name: string,
  rule: unknown,
  print: (line: string) => void,
): Promise<DemoReport['audiences'][number]> {
  const created = await admin.call<{ id: string; size: number; lastEvaluatedAt: string }>('POST', '/v1/audiences', {
    name,
    rule,
  });
  print(`  POST /v1/audiences "${name}" → ${created.id} (${created.size} members)`);
  return { id: created.id, name, size: created.size, rule, evaluatedAt: created.lastEvaluatedAt };
}

/** HubSpot contacts carrying a property Plexus wrote back. */
function enrichedContacts(emulators: RunningEmulators): number {
  const table = emulators.hubspot.state.contacts.table;
  let n = 0;
  for (let row = 0; row < table.count; row++) {
    if (table.isArchived(row)) continue;
    const properties = table.get(row).properties;
    if (Object.keys(properties).some((k) => k.startsWith('plexus_') && properties[k])) n++;
  }
  return n;
}

/**
 * The person to erase: the first seeded French customer (in seed order) whom every one of these activations' platforms
 * holds, by the ledger; else the first whom the first of them holds.
 */
async function personToErase(
  admin: AdminClient,
  population: Population,
  activationIds: string[],
): Promise<string | undefined> {
  let fallback: string | undefined;
  for (const person of population.people) {
    if (!person.email || person.country !== 'FR' || !person.consent?.ads) continue;
    const held: boolean[] = [];
    for (const id of activationIds) {
      const ledger = await admin.call<{ entries: Array<{ held: boolean }> }>(
        'GET',
        `/v1/activations/${id}/ledger?identifier=${encodeURIComponent(`email:${person.email}`)}`,
      );
      held.push(ledger.entries.some((e) => e.held));
    }
    if (held.every(Boolean)) return person.email;
    if (held[0]) fallback ??= person.email;
  }
  return fallback;
}

const count = (n: number, what: string): string => `${n} ${what}`;

function printReport(report: DemoReport, print: (line: string) => void): void {
  print('');
  print('━━ Report ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━');
  print('  In');
  for (const s of report.sources) {
    print(
      `    ${s.name.padEnd(16)} ${s.status.padEnd(9)} read ${String(s.read).padStart(6)}  written ${String(s.written).padStart(6)}  quarantined ${s.quarantined}`,
    );
    for (const [reason, n] of Object.entries(s.quarantineReasons)) print(`        quarantined ×${n}: ${reason}`);
  }
  print(`    records in:             ${report.recordsIn}`);
  print(
    `    CRM history on profiles: ${count(report.crm.dealProfiles, 'with deals')} (${report.crm.wonDealProfiles} won), ${count(report.crm.ticketProfiles, 'with tickets')} (${report.crm.openTicketProfiles} still open)`,
  );
  print('  Identity');
  print(
    `    rules:                  version ${report.identityRules.version}, ${report.identityRules.added.join('; ')}`,
  );
  print(
    `    profiles out:           ${report.profiles}  (${report.truth.people} real people seeded; anonymous DMP/web visitors stay separate until an identifier links them)`,
  );
  print(`    cross-source profiles:  ${report.crossSourceProfiles}`);
  print(
    `    merges:                 ${report.merges}  ${Object.entries(report.mergeReasons)
      .map(([t, n]) => `${t} ×${n}`)
      .join(', ')}`,
  );
  print(
    `    CRM + shop matching:    precision ${report.quality.precision.toFixed(4)}, recall ${report.quality.recall.toFixed(4)} over ${report.quality.records} records of ${report.quality.people} people`,
  );
  print('  Audiences');
  for (const a of report.audiences) print(`    ${a.name.padEnd(52)} ${a.size} members`);
  print('  Out (what each platform received and accepted; "the platform holds" is read from the platform itself)');
  for (const audience of report.audiences) {
    const reports = report.activations.filter((a) => a.audience === audience.name);
    if (reports.length === 0) continue;
    print(`    "${audience.name}":`);
    printActivations(reports, print);
  }
  print(`    HubSpot contacts enriched with plexus_* properties: ${report.crmEnrichedContacts}`);
  const e = report.erasure;
  if (e) {
    print('  Erasure');
    print(
      `    delete ${e.email} (profile ${e.profileId}): ${e.status} in ${e.seconds} s; held by ${e.heldBy.join(', ')}`,
    );
    for (const step of e.steps) print(`      ${step.name.padEnd(25)} ${step.status.padEnd(8)} ${step.detail ?? ''}`);
    print(
      `    removals sent: ${Object.entries(e.removals)
        .map(([p, n]) => `${p} ${n}`)
        .join(', ')}`,
    );
    print(
      `    gone: ${e.lookups.filter((l) => !l.found).length}/${e.lookups.length} identifiers find no profile; GET /v1/profiles/${e.profileId} → ${e.profileStatus}; ledger rows left ${e.ledgerEntriesLeft}; platforms still holding: ${e.platformsStillHolding.join(', ') || 'none'}`,
    );
  }
  if (report.problems.length > 0) {
    print('  Problems');
    for (const p of report.problems) print(`    ✗ ${p}`);
  }
  print('━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━');
}
