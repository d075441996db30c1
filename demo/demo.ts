import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadEnvironment } from '@plexus/config';
import { createApiApp } from '../apps/api/src/bootstrap.js';
import { DEMO_CREDENTIALS, startEmulators, type RunningEmulators } from '../test/emulators/index.js';
import {
  dmpFilesFromPopulation,
  hubspotContactsFromPopulation,
  shopifyFromPopulation,
} from '../test/emulators/seed/population.seed.js';
import { generatePopulation, pairwiseQuality, type Population } from '../test/fixtures/population.js';
import { activateToAdPlatforms, printActivations, type ActivationReport } from './activation.js';

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
  /** What the Meta and Google emulators received and accepted for one activated audience. */
  activations?: ActivationReport[];
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

/** A stable small number from a string, to spread the demo's consent decisions. */
function hashOf(text: string): number {
  let h = 0;
  for (const c of text) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h;
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
  const population: Population = generatePopulation({ people, seed: options.seed ?? 42 });
  const shop = shopifyFromPopulation(population);
  const crm = hubspotContactsFromPopulation(population);

  print(`▸ starting vendor emulators seeded with ${people} people (HubSpot, Shopify, DMP bucket, Salesforce)`);
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
    REDIS_URL: options.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
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
    report.activations = await activateToAdPlatforms(admin, emulators, print);
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
        // The site's consent banner: three signed-in visitors in four accept advertising.
        ...(e.userId && e.event === 'Signed In'
          ? { consent: { categoryPreferences: { advertising: hashOf(e.userId) % 4 !== 0 } } }
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
  };
}

function printReport(report: DemoReport, print: (line: string) => void): void {
  print('');
  print('━━ Report ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━');
  for (const s of report.sources) {
    print(
      `  ${s.name.padEnd(16)} ${s.status.padEnd(9)} read ${String(s.read).padStart(6)}  written ${String(s.written).padStart(6)}  quarantined ${s.quarantined}`,
    );
    for (const [reason, n] of Object.entries(s.quarantineReasons)) print(`      quarantined ×${n}: ${reason}`);
  }
  print(`  records in:             ${report.recordsIn}`);
  print(
    `  profiles out:           ${report.profiles}  (${report.truth.people} real people seeded; anonymous DMP/web visitors stay separate until an identifier links them)`,
  );
  print(`  cross-source profiles:  ${report.crossSourceProfiles}`);
  print(
    `  merges:                 ${report.merges}  ${Object.entries(report.mergeReasons)
      .map(([t, n]) => `${t} ×${n}`)
      .join(', ')}`,
  );
  print(
    `  CRM + shop matching:    precision ${report.quality.precision.toFixed(4)}, recall ${report.quality.recall.toFixed(4)} over ${report.quality.records} records of ${report.quality.people} people`,
  );
  if (report.activations) {
    print('  activation of "Known by email":');
    printActivations(report.activations, print);
  }
  print('━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━');
}
