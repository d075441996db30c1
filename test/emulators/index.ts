import {
  syntheticHubSpotCompanies,
  syntheticHubSpotContacts,
  syntheticHubSpotCrm,
  type HubSpotObject,
} from './hubspot/hubspot.data.js';
import { startHubSpot, type HubSpotEmulator } from './hubspot/hubspot.emulator.js';
import { startGoogle, type GoogleEmulator } from './google/google.emulator.js';
import { startMeta, type MetaEmulator } from './meta/meta.emulator.js';
import { startTikTok, type TikTokEmulator } from './tiktok/tiktok.emulator.js';
import { startTtd, type TtdEmulator } from './ttd/ttd.emulator.js';
import { syntheticDmpFiles } from './s3/dmp.data.js';
import { startS3, type S3Emulator } from './s3/s3.emulator.js';
import {
  syntheticSalesforceActivity,
  syntheticSalesforceRecords,
  type SalesforceRecord,
} from './salesforce/salesforce.data.js';
import { startSalesforce, type SalesforceEmulator } from './salesforce/salesforce.emulator.js';
import { syntheticShopifyData, type ShopifyCustomer, type ShopifyOrder } from './shopify/shopify.data.js';
import { startShopify, type ShopifyEmulator } from './shopify/shopify.emulator.js';
import type { RecordSource, Seed } from './common/table.js';

export * from './common/faults.js';
export * from './common/identifiers.js';
export * from './common/server.js';
export * from './common/table.js';
export * from './hubspot/hubspot.data.js';
export * from './hubspot/hubspot.emulator.js';
export * from './hubspot/webhook.js';
export * from './meta/meta.emulator.js';
export * from './google/google.emulator.js';
export * from './tiktok/tiktok.emulator.js';
export * from './ttd/ttd.emulator.js';
export * from './salesforce/salesforce.data.js';
export * from './salesforce/salesforce.emulator.js';
export * from './salesforce/salesforce.store.js';
export * from './shopify/shopify.data.js';
export * from './shopify/shopify.emulator.js';
export * from './shopify/webhook.js';
export * from './s3/s3.emulator.js';
export * from './s3/dmp.data.js';
export * from './seed/population.seed.js';

/** Credentials the demo emulators accept. */
export const DEMO_CREDENTIALS = {
  hubspot: { token: 'hubspot-demo-token' },
  salesforce: { token: 'salesforce-demo-token' },
  shopify: { token: 'shpat_demo_token', apiVersion: '2026-10' },
  meta: { token: 'meta-demo-token', adAccountId: '1000' },
  google: { token: 'google-demo-token', operatingAccountId: '1234567890', userListId: '5550001' },
  tiktok: { token: 'tiktok-demo-token', advertiserId: '7000000000000000001', audienceId: '9001' },
  ttd: { advertiserId: 'adv1', secretKey: 'ttd-demo-secret' },
  s3: {
    accessKeyId: 'PLEXUSDEMOACCESSKEY',
    secretAccessKey: 'plexus-demo-secret',
    bucket: 'dmp-feeds',
    region: 'us-east-1',
  },
} as const;

/** Seeds for every emulator; each defaults to synthetic data for `people` people. */
export interface EmulatorSeeds {
  hubspot?: { contacts?: Seed<HubSpotObject>; companies?: Seed<HubSpotObject> };
  salesforce?: { contacts?: Seed<SalesforceRecord>; leads?: Seed<SalesforceRecord> };
  shopify?: { customers?: Seed<ShopifyCustomer>; orders?: Seed<ShopifyOrder> };
  /** Objects of the DMP bucket, key → content. */
  s3?: Record<string, string | Buffer>;
}

export interface RunningEmulators {
  hubspot: HubSpotEmulator;
  salesforce: SalesforceEmulator;
  shopify: ShopifyEmulator;
  s3: S3Emulator;
  meta: MetaEmulator;
  google: GoogleEmulator;
  tiktok: TikTokEmulator;
  ttd: TtdEmulator;
  close(): Promise<void>;
}

/**
 * Starts the emulators with the demo credentials. Ports default to random ones; seeds default to
 * synthetic data in which person i is the same person in HubSpot, Shopify and the DMP feed.
 *
 * @example const emulators = await startEmulators({ people: 500 }); emulators.hubspot.url
 */
export async function startEmulators(
  options: {
    people?: number;
    seeds?: EmulatorSeeds;
    ports?: Partial<Record<'hubspot' | 'salesforce' | 'shopify' | 's3' | 'meta' | 'google' | 'tiktok' | 'ttd', number>>;
  } = {},
): Promise<RunningEmulators> {
  const people = options.people ?? 1_000;
  const seeds = options.seeds ?? {};
  const shopify =
    seeds.shopify ?? syntheticShopifyData(Math.floor(people * 0.6), { guestOrders: Math.floor(people * 0.05) });
  const started: Array<{ close(): Promise<void> }> = [];
  try {
    const contacts = seeds.hubspot?.contacts ?? syntheticHubSpotContacts(Math.floor(people * 0.8), { companies: 20 });
    const contactAt = (i: number) =>
      Array.isArray(contacts) ? contacts[i] : (contacts as RecordSource<HubSpotObject>).at(i);
    const contactCount = Array.isArray(contacts) ? contacts.length : (contacts as RecordSource<HubSpotObject>).count;
    // Deals, tickets and engagements of those contacts, for sources that read them (`objects`).
    const crm = syntheticHubSpotCrm(
      {
        deals: Math.floor(contactCount * 0.5),
        tickets: Math.floor(contactCount * 0.2),
        emails: Math.floor(contactCount * 0.5),
        calls: Math.floor(contactCount * 0.2),
        meetings: Math.floor(contactCount * 0.1),
      },
      { contacts: Math.max(1, contactCount), contactIdAt: (i) => contactAt(i).id },
    );
    const hubspot = await startHubSpot({
      port: options.ports?.hubspot,
      tokens: [DEMO_CREDENTIALS.hubspot.token],
      contacts,
      companies: seeds.hubspot?.companies ?? syntheticHubSpotCompanies(20),
      ...(contactCount > 0 ? crm : {}),
    });
    started.push(hubspot);
    // The sales and support history of the Salesforce Contacts (same people, same ids).
    const salesforceActivity = seeds.salesforce?.contacts
      ? undefined
      : syntheticSalesforceActivity(Math.floor(people * 0.3), { personOffset: Math.floor(people * 0.5) });
    const salesforce = await startSalesforce({
      ...salesforceActivity,
      port: options.ports?.salesforce,
      tokens: [DEMO_CREDENTIALS.salesforce.token],
      contacts:
        seeds.salesforce?.contacts ??
        syntheticSalesforceRecords('Contact', Math.floor(people * 0.3), { personOffset: Math.floor(people * 0.5) }),
      leads:
        seeds.salesforce?.leads ??
        syntheticSalesforceRecords('Lead', Math.floor(people * 0.1), { personOffset: people }),
    });
    started.push(salesforce);
    const shop = await startShopify({
      port: options.ports?.shopify,
      tokens: [DEMO_CREDENTIALS.shopify.token],
      customers: shopify.customers,
      orders: shopify.orders,
    });
    started.push(shop);
    const s3 = await startS3({
      port: options.ports?.s3,
      credentials: { [DEMO_CREDENTIALS.s3.accessKeyId]: DEMO_CREDENTIALS.s3.secretAccessKey },
      buckets: { [DEMO_CREDENTIALS.s3.bucket]: seeds.s3 ?? syntheticDmpFiles({ people }) },
    });
    started.push(s3);
    const meta = await startMeta({
      port: options.ports?.meta,
      tokens: [DEMO_CREDENTIALS.meta.token],
      adAccounts: [DEMO_CREDENTIALS.meta.adAccountId],
    });
    started.push(meta);
    const google = await startGoogle({
      port: options.ports?.google,
      tokens: [DEMO_CREDENTIALS.google.token],
      accounts: { [DEMO_CREDENTIALS.google.operatingAccountId]: [DEMO_CREDENTIALS.google.userListId] },
    });
    started.push(google);
    const tiktok = await startTikTok({
      port: options.ports?.tiktok,
      tokens: [DEMO_CREDENTIALS.tiktok.token],
      advertisers: { [DEMO_CREDENTIALS.tiktok.advertiserId]: [DEMO_CREDENTIALS.tiktok.audienceId] },
    });
    started.push(tiktok);
    const ttd = await startTtd({
      port: options.ports?.ttd,
      advertisers: { [DEMO_CREDENTIALS.ttd.advertiserId]: DEMO_CREDENTIALS.ttd.secretKey },
    });
    started.push(ttd);
    return {
      hubspot,
      salesforce,
      shopify: shop,
      s3,
      meta,
      google,
      tiktok,
      ttd,
      close: async () => {
        await Promise.all(started.map((e) => e.close()));
      },
    };
  } catch (error) {
    await Promise.all(started.map((e) => e.close()));
    throw error;
  }
}
