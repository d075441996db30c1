import { sha256Hex } from '@plexus/profile';
import { Database } from '@plexus/storage';
import { startGoogle, type GoogleEmulator } from '../emulators/google/google.emulator.js';
import type { HubSpotObject } from '../emulators/hubspot/hubspot.data.js';
import { startHubSpot, type HubSpotEmulator } from '../emulators/hubspot/hubspot.emulator.js';
import { startMeta, type MetaEmulator } from '../emulators/meta/meta.emulator.js';
import { startS3, type S3Emulator } from '../emulators/s3/s3.emulator.js';
import {
  CUSTOMER_ID_BASE,
  ORDER_ID_BASE,
  shopifyTime,
  syntheticShopifyData,
  type ShopifyCustomer,
  type ShopifyOrder,
} from '../emulators/shopify/shopify.data.js';
import { startShopify, type ShopifyEmulator } from '../emulators/shopify/shopify.emulator.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { basicAuth, call } from '../support/http.js';
import { profileBy, syncAndWait } from '../support/hub.js';
import { until } from '../support/wait.js';
import { rowsNaming, tracesOf, waitForRequest } from './support.js';

/**
 * The proof of issue 12, end to end: one person synced from the CRM (HubSpot), the shop (Shopify), the DMP feed (S3)
 * and tracked on the website, resolved to one profile and activated to Meta and Google by the real activation
 * engine (BullMQ workers, the ledger); then a `delete`. Afterwards no trace of any of her identifiers — as given,
 * normalised, or hashed as the hub or the platforms hash them — is left in a dump of the whole database (only the
 * suppression list's keyed hashes remain), both platforms removed her, every step is done, and syncing every source
 * again and tracking a new event does not re-create her: those records are counted as suppressed.
 */

/** The person to erase, as each system writes her. */
const NORA = {
  email: 'nora.quist@fjordmail.io',
  phone: '+447911123456',
  phoneDigits: '447911123456',
  national: '7911123456',
  userId: 'cus-nora-4711',
  anonymousId: 'anon-nora-5d1c0a',
  cookieId: 'ck-nora-93f2e7',
  /** An IDFA as the DMP sends it (upper case); the hub keeps it lower-cased. */
  deviceId: 'B3E1C2D4-7A10-4C55-9F00-5E7A0C0FFEE1',
  hubspotId: '4711',
  shopifyId: CUSTOMER_ID_BASE + 4711,
  orderId: ORDER_ID_BASE + 4711,
  firstName: 'Nora',
  lastName: 'Quistgaard',
};
/** Someone else in the same audience: stays everywhere. */
const OLAF = { email: 'olaf.berg@fjordmail.io', userId: 'cus-olaf-4712', hubspotId: '4712' };

const HUBSPOT_TOKEN = 'hs-e2e-privacy-token';
const SHOP_TOKEN = 'shpat_e2e_privacy';
const S3_KEY = 'AKIAE2EPRIVACY';
const S3_SECRET = 'e2e-privacy-secret';
const BUCKET = 'dmp-drops';
const META_TOKEN = 'meta-e2e-privacy-token';
const GOOGLE_TOKEN = 'google-e2e-privacy-token';
const GOOGLE_ACCOUNT = '1234567890';
const GOOGLE_LIST = '5550001';

function contact(id: string, properties: Record<string, string>, modifiedMs: number): HubSpotObject {
  const at = new Date(modifiedMs).toISOString();
  return {
    id,
    properties: { hs_object_id: id, createdate: at, lastmodifieddate: at, hs_email_optout: 'false', ...properties },
    createdAt: at,
    updatedAt: at,
    archived: false,
  };
}

/** Nora as a Shopify customer with one order (the synthetic generator's shapes, with her details). */
function shopifySeed(): { customers: ShopifyCustomer[]; orders: ShopifyOrder[] } {
  const synthetic = syntheticShopifyData(3);
  const template = synthetic.customers.at(1);
  const created = shopifyTime(Date.UTC(2025, 5, 1));
  const address = {
    ...template.default_address!,
    customer_id: NORA.shopifyId,
    first_name: NORA.firstName,
    last_name: NORA.lastName,
    phone: '+44 7911 123456',
    country: 'United Kingdom',
    country_code: 'GB',
    country_name: 'United Kingdom',
  };
  const customer: ShopifyCustomer = {
    ...template,
    id: NORA.shopifyId,
    // Shop data is noisy: case and a national phone number.
    email: 'NORA.Quist@FjordMail.io',
    phone: '+44 7911 123456',
    first_name: NORA.firstName,
    last_name: NORA.lastName,
    created_at: created,
    updated_at: created,
    orders_count: 1,
    last_order_id: NORA.orderId,
    default_address: address,
    addresses: [address],
    admin_graphql_api_id: `gid://shopify/Customer/${NORA.shopifyId}`,
  };
  const order: ShopifyOrder = {
    ...synthetic.orders.at(0),
    id: NORA.orderId,
    email: customer.email,
    phone: null,
    created_at: created,
    updated_at: created,
    processed_at: created,
    customer: {
      id: customer.id,
      email: customer.email,
      phone: customer.phone,
      first_name: customer.first_name,
      last_name: customer.last_name,
      created_at: created,
      updated_at: created,
      default_address: address,
    },
    refunds: [],
    admin_graphql_api_id: `gid://shopify/Order/${NORA.orderId}`,
  };
  return { customers: [customer], orders: [order] };
}

/**
 * Her identifiers as the sources gave them, as the hub normalises and stores them (E.164 phone, lower-cased device
 * id, namespaced external ids, the SHA-256 of her email), and as the platforms' items hash them (the ledger keeps
 * those): what must not be left after her erasure. Each is checked to be in the database before it.
 */
const NEEDLES = [
  NORA.email,
  sha256Hex(NORA.email),
  NORA.phone,
  NORA.phoneDigits,
  NORA.national,
  sha256Hex(NORA.phone),
  sha256Hex(NORA.phoneDigits),
  NORA.userId,
  NORA.anonymousId,
  NORA.cookieId,
  NORA.deviceId.toLowerCase(),
  `:contact:${NORA.hubspotId}`,
  `:customer:${NORA.shopifyId}`,
  NORA.lastName,
  sha256Hex(NORA.lastName.toLowerCase()),
];

const dmpFile = (rows: string[]) => ['cookie_id,device_id,email_sha256,segments,seen_at', ...rows].join('\n') + '\n';

export function endToEndScenario(storage: 'postgres' | 'pglite'): void {
  let t: TestApp;
  let db: Database;
  let hubspot: HubSpotEmulator;
  let shop: ShopifyEmulator;
  let s3: S3Emulator;
  let meta: MetaEmulator;
  let google: GoogleEmulator;
  const sources: Record<'hubspot' | 'shopify' | 'dmp' | 'web', string> = { hubspot: '', shopify: '', dmp: '', web: '' };
  let writeKey: string;
  const activations: Record<'meta' | 'google', string> = { meta: '', google: '' };

  const api = (method: string, path: string, body?: unknown) => call(t.url, method, path, { headers: t.auth, body });
  const track = (messages: Array<Record<string, unknown>>) =>
    call(t.url, 'POST', '/v1/batch', { headers: basicAuth(writeKey), body: { batch: messages } });
  const created = async (path: string, body: unknown): Promise<any> => {
    const r = await api('POST', path, body);
    if (r.status !== 201) throw new Error(`POST ${path} → ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const emailHash = (email: string) => sha256Hex(email);
  const metaAudience = async (): Promise<string> =>
    (await api('GET', `/v1/activations/${activations.meta}`)).body.externalId as string;
  const onMeta = async (email: string) => meta.state.has(await metaAudience(), 'EMAIL', emailHash(email));
  const onGoogle = (email: string) =>
    google.state.member(GOOGLE_ACCOUNT, GOOGLE_LIST, `email:${emailHash(email)}`) !== undefined;

  beforeAll(async () => {
    const day = Date.UTC(2025, 5, 1);
    hubspot = await startHubSpot({
      tokens: [HUBSPOT_TOKEN],
      rateLimit: false,
      searchPerSecond: false,
      contacts: [
        contact(
          NORA.hubspotId,
          {
            email: ' Nora.Quist@FJORDMAIL.io ',
            phone: '+44 (0)7911 123456',
            firstname: NORA.firstName,
            lastname: NORA.lastName,
            lifecyclestage: 'customer',
            customer_id: NORA.userId,
            country: 'GB',
          },
          day,
        ),
        contact(
          OLAF.hubspotId,
          {
            email: OLAF.email,
            firstname: 'Olaf',
            lastname: 'Berg',
            lifecyclestage: 'customer',
            customer_id: OLAF.userId,
          },
          day + 1000,
        ),
      ],
    });
    shop = await startShopify({ tokens: [SHOP_TOKEN], rateLimit: false, ...shopifySeed() });
    s3 = await startS3({ credentials: { [S3_KEY]: S3_SECRET } });
    const seen = new Date(Date.now() - 86_400_000).toISOString();
    s3.state.putObject(
      BUCKET,
      'feed/day-1.csv',
      dmpFile([
        `${NORA.cookieId},${NORA.deviceId},${emailHash(NORA.email)},auto_intender|travel,${seen}`,
        `ck-someone-else,,,gamers,${seen}`,
      ]),
    );
    meta = await startMeta({ tokens: [META_TOKEN], adAccounts: ['1000'], rateLimit: false });
    google = await startGoogle({
      tokens: [GOOGLE_TOKEN],
      accounts: { [GOOGLE_ACCOUNT]: [GOOGLE_LIST] },
      rateLimit: false,
    });
    t = await startTestApp({ label: `privacy_e2e_${storage}`, storage });
    db = t.app.get(Database);

    sources.hubspot = (
      await created('/v1/sources', {
        name: 'CRM',
        connector: 'hubspot',
        config: { accessToken: HUBSPOT_TOKEN, baseUrl: hubspot.url, userIdProperty: 'customer_id' },
      })
    ).id;
    sources.shopify = (
      await created('/v1/sources', {
        name: 'Shop',
        connector: 'shopify',
        config: { accessToken: SHOP_TOKEN, baseUrl: shop.url, apiVersion: '2026-10' },
      })
    ).id;
    sources.dmp = (
      await created('/v1/sources', {
        name: 'DMP feed',
        connector: 'dmp-feed',
        config: { bucket: BUCKET, prefix: 'feed/', endpoint: s3.url, accessKeyId: S3_KEY, secretAccessKey: S3_SECRET },
      })
    ).id;
    const web = await created('/v1/sources', { name: 'Website', connector: 'http-events', config: {} });
    sources.web = web.id;
    writeKey = web.writeKey;
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    await Promise.all([hubspot, shop, s3, meta, google].map((e) => e?.close()));
  });

  it('resolves her records from the CRM, the shop, the DMP feed and the website into one profile', async () => {
    for (const source of ['hubspot', 'shopify', 'dmp'] as const) {
      const run = await syncAndWait(t, sources[source], 60_000);
      expect([source, run.status]).toEqual([source, 'succeeded']);
    }
    const consent = { consent: { categoryPreferences: { advertising: true } } };
    const tracked = await track([
      {
        type: 'identify',
        userId: NORA.userId,
        anonymousId: NORA.anonymousId,
        traits: { email: 'nora.quist@fjordmail.io', firstName: NORA.firstName },
        context: consent,
      },
      { type: 'track', userId: NORA.userId, event: 'Order Completed', properties: { total: 120 } },
      { type: 'identify', userId: OLAF.userId, traits: { email: OLAF.email }, context: consent },
    ]);
    expect(tracked.status).toBe(200);

    const nora = await until(async () => {
      const p = await profileBy(t, `email:${NORA.email}`);
      return p?.events?.length !== 0 && p?.consent?.ads?.granted ? p : undefined;
    });
    for (const identifier of [
      `phone:${NORA.phone}`,
      `user_id:${NORA.userId}`,
      `anonymous_id:${NORA.anonymousId}`,
      `cookie_id:${NORA.cookieId}`,
      `device_id:${NORA.deviceId}`,
      `email_sha256:${emailHash(NORA.email)}`,
      `external_id:${sources.hubspot}:contact:${NORA.hubspotId}`,
      `external_id:${sources.shopify}:customer:${NORA.shopifyId}`,
    ])
      expect([identifier, (await profileBy(t, identifier))?.id]).toEqual([identifier, nora.id]);
    const events = await api('GET', `/v1/profiles/${nora.id}/events?limit=50`);
    expect(events.status).toBe(200);
    // The shop's order and the website's purchase.
    const names: string[] = events.body.data.map((e: { name: string }) => e.name);
    expect(names.filter((n) => n === 'Order Completed')).toHaveLength(2);
  });

  it('activates her and Olaf to Meta and Google through the activation engine and its workers', async () => {
    const audience = await created('/v1/audiences', {
      name: 'Customers',
      rule: { all: [{ trait: 'lifecycleStage', op: 'eq', value: 'customer' }] },
    });
    await until(async () => {
      await api('POST', `/v1/audiences/${audience.id}/evaluate`);
      const m = await api('GET', `/v1/audiences/${audience.id}/members?limit=10`);
      return m.body.data?.length === 2;
    });
    const metaDestination = await created('/v1/destinations', {
      name: 'Meta',
      connector: 'meta-custom-audiences',
      config: { accessToken: META_TOKEN, adAccountId: '1000', baseUrl: meta.url },
    });
    const googleDestination = await created('/v1/destinations', {
      name: 'Google',
      connector: 'google-customer-match',
      config: {
        accessToken: GOOGLE_TOKEN,
        operatingAccountId: GOOGLE_ACCOUNT,
        userListId: GOOGLE_LIST,
        customerMatchTermsAccepted: true,
        baseUrl: google.url,
      },
    });
    activations.meta = (
      await created('/v1/activations', { audienceId: audience.id, destinationId: metaDestination.id, mode: 'upsert' })
    ).id;
    activations.google = (
      await created('/v1/activations', { audienceId: audience.id, destinationId: googleDestination.id, mode: 'upsert' })
    ).id;
    // No delivery is driven by the test: the tick and the destination queues' workers do it.
    await until(async () => (await metaAudience()) && (await onMeta(NORA.email)) && onGoogle(NORA.email), 60_000);
    expect(await onMeta(OLAF.email)).toBe(true);
    expect(onGoogle(OLAF.email)).toBe(true);
    expect(meta.state.has(await metaAudience(), 'PHONE', sha256Hex(NORA.phoneDigits))).toBe(true);
    // Every form searched for after the erasure is in the database now (so its absence later proves something).
    const held = await tracesOf(db, NEEDLES);
    expect(NEEDLES.filter((n) => !held.some((found) => found.endsWith(`: ${n}`)))).toEqual([]);
    expect(held).toEqual(expect.arrayContaining([`activation_members: ${sha256Hex(NORA.email)}`]));
    const ledger = await api('GET', `/v1/activations/${activations.meta}/ledger?identifier=email:${NORA.email}`);
    expect(ledger.body.entries).toEqual([expect.objectContaining({ state: 'held', sent: true })]);
  });

  it('erases her on a delete: no trace in the database but the suppression hashes, removed from both platforms', async () => {
    const nora = await profileBy(t, `email:${NORA.email}`);
    const filed = await api('POST', '/v1/privacy/requests', {
      type: 'delete',
      identifier: { type: 'email', value: ' NORA.Quist@fjordmail.io ' },
    });
    expect(filed.status).toBe(202);
    const done = await waitForRequest(t, filed.body.id as string, 90_000);
    expect(done.steps.map((s: { name: string; status: string }) => `${s.name}:${s.status}`)).toEqual([
      'resolve:done',
      'suppress:done',
      'erase:done',
      'remove-from-destinations:done',
      'delete-at-destinations:done',
      'erase-ledger:done',
      'verify:done',
    ]);
    expect(done.steps.find((s: { name: string }) => s.name === 'remove-from-destinations').detail).toMatch(
      /removed from every destination|no destination holds the person/,
    );

    // Both platforms removed her (through the ledger's items), and only her.
    expect(await onMeta(NORA.email)).toBe(false);
    expect(meta.state.has(await metaAudience(), 'PHONE', sha256Hex(NORA.phoneDigits))).toBe(false);
    expect(onGoogle(NORA.email)).toBe(false);
    expect(await onMeta(OLAF.email)).toBe(true);
    expect(onGoogle(OLAF.email)).toBe(true);
    const metaRemovals = meta.requests.filter((r) => r.method === 'DELETE' && r.path.endsWith('/users'));
    expect(JSON.stringify(metaRemovals.map((r) => r.body))).toContain(emailHash(NORA.email));
    expect(google.state.accepted.some((a) => a.operation === 'remove' && a.members >= 1)).toBe(true);

    // The whole database as text: none of her identifiers, in any form the hub or a platform keeps them.
    expect(await tracesOf(db, NEEDLES)).toEqual([]);
    expect(await rowsNaming(db, [nora.id])).toEqual([]);
    // Her profile id (random, now pointing at nothing) stays only as the request's proof and in its audit entry.
    expect((await tracesOf(db, [nora.id])).sort()).toEqual([`audit_log: ${nora.id}`, `privacy_requests: ${nora.id}`]);
    // Olaf is untouched, and the suppression list holds keyed hashes of her identifiers.
    expect(await tracesOf(db, [OLAF.email])).not.toEqual([]);
    const suppressed = await db.db.selectFrom('privacy_suppressions').selectAll().execute();
    expect(suppressed.length).toBeGreaterThanOrEqual(9);
    expect((await api('GET', `/v1/profiles/${nora.id}`)).status).toBe(404);
  });

  it('does not re-create her when every source is synced again and she is tracked again: her records are counted as suppressed', async () => {
    // Each source sends her again: the CRM and the shop changed her record, the DMP dropped a new file.
    hubspot.state.contacts.update(NORA.hubspotId, { lifecyclestage: 'evangelist' });
    shop.state.customers.update(NORA.shopifyId, { tags: 'returning' });
    s3.state.putObject(
      BUCKET,
      'feed/day-2.csv',
      dmpFile([`${NORA.cookieId},${NORA.deviceId},,sports,${new Date().toISOString()}`]),
    );
    const counts: Record<string, unknown> = {};
    for (const source of ['hubspot', 'shopify', 'dmp'] as const) {
      const run = await syncAndWait(t, sources[source], 60_000);
      counts[source] = [run.status, run.stats.suppressed];
    }
    expect(counts).toEqual({
      hubspot: ['succeeded', 1],
      shopify: ['succeeded', expect.any(Number)],
      dmp: ['succeeded', 1],
    });
    expect((counts.shopify as [string, number])[1]).toBeGreaterThanOrEqual(1);
    const before = await suppressedTotal();
    const tracked = await track([
      { type: 'track', userId: NORA.userId, event: 'Page Viewed' },
      { type: 'identify', anonymousId: 'anon-fresh-device', traits: { email: 'Nora.Quist@fjordmail.io' } },
      { type: 'track', anonymousId: NORA.anonymousId, event: 'Page Viewed' },
    ]);
    expect(tracked.status).toBe(200);
    expect(await suppressedTotal()).toBe(before + 3);
    for (const identifier of [
      `email:${NORA.email}`,
      `user_id:${NORA.userId}`,
      `cookie_id:${NORA.cookieId}`,
      `device_id:${NORA.deviceId}`,
      `anonymous_id:anon-fresh-device`,
    ])
      expect([identifier, await profileBy(t, identifier)]).toEqual([identifier, undefined]);
    expect(await tracesOf(db, [NORA.email, emailHash(NORA.email), NORA.userId, NORA.cookieId])).toEqual([]);
    // Nothing new reaches the platforms either.
    expect(await onMeta(NORA.email)).toBe(false);
    expect(onGoogle(NORA.email)).toBe(false);
  });

  /** `plexus_privacy_suppressed_records_total` summed over its labels. */
  async function suppressedTotal(): Promise<number> {
    const text = await (await fetch(`${t.url}/metrics`, { headers: t.auth })).text();
    return text
      .split('\n')
      .filter((l) => l.startsWith('plexus_privacy_suppressed_records_total'))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  }
}
