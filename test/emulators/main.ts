/**
 * `npm run emulators`: starts the HubSpot, Salesforce, Shopify, S3 and ad-platform emulators on fixed ports, seeded with
 * the shared synthetic population when `test/fixtures` provides one, and prints where they are and which
 * credentials they accept. Ctrl-C stops them.
 *
 * Environment: HUBSPOT_EMULATOR_PORT (4010), SALESFORCE_EMULATOR_PORT (4011), SHOPIFY_EMULATOR_PORT (4012),
 * S3_EMULATOR_PORT (4013), META_EMULATOR_PORT (4014), GOOGLE_EMULATOR_PORT (4015),
 * TIKTOK_EMULATOR_PORT (4016), TTD_EMULATOR_PORT (4017), EMULATOR_PEOPLE (1000), EMULATOR_SEED (42).
 */
import {
  DEMO_CREDENTIALS,
  dmpFilesFromPopulation,
  hubspotContactsFromPopulation,
  isPopulationLike,
  shopifyFromPopulation,
  startEmulators,
  type EmulatorSeeds,
} from './index.js';

const port = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`${name} must be a port number`);
  return value;
};

async function populationSeeds(people: number, seed: number): Promise<{ seeds?: EmulatorSeeds; source: string }> {
  // Loaded by a computed specifier so the emulators build without the fixtures module.
  const specifier = '../fixtures/population.js';
  try {
    const module = (await import(specifier)) as {
      generatePopulation?: (o: { people: number; seed: number }) => unknown;
    };
    if (typeof module.generatePopulation !== 'function') return { source: 'synthetic (no generatePopulation export)' };
    const population = module.generatePopulation({ people, seed });
    if (!isPopulationLike(population)) return { source: 'synthetic (population shape not recognised)' };
    const shop = shopifyFromPopulation(population);
    return {
      seeds: {
        hubspot: { contacts: hubspotContactsFromPopulation(population) },
        shopify: shop,
        s3: dmpFilesFromPopulation(population),
      },
      source: `shared population (${people} people, seed ${seed})`,
    };
  } catch (error) {
    return { source: `synthetic (${error instanceof Error ? error.message.split('\n')[0] : String(error)})` };
  }
}

async function main(): Promise<void> {
  const people = Number(process.env.EMULATOR_PEOPLE ?? 1_000);
  const { seeds, source } = await populationSeeds(people, Number(process.env.EMULATOR_SEED ?? 42));
  const emulators = await startEmulators({
    people,
    seeds,
    ports: {
      hubspot: port('HUBSPOT_EMULATOR_PORT', 4010),
      salesforce: port('SALESFORCE_EMULATOR_PORT', 4011),
      shopify: port('SHOPIFY_EMULATOR_PORT', 4012),
      s3: port('S3_EMULATOR_PORT', 4013),
      meta: port('META_EMULATOR_PORT', 4014),
      google: port('GOOGLE_EMULATOR_PORT', 4015),
      tiktok: port('TIKTOK_EMULATOR_PORT', 4016),
      ttd: port('TTD_EMULATOR_PORT', 4017),
    },
  });
  const c = DEMO_CREDENTIALS;
  const lines = [
    `Emulators running, seeded from ${source}:`,
    `  HubSpot     ${emulators.hubspot.url}  Authorization: Bearer ${c.hubspot.token}  (${emulators.hubspot.state.contacts.count} contacts)`,
    `  Salesforce  ${emulators.salesforce.url}  Authorization: Bearer ${c.salesforce.token}  (${emulators.salesforce.state.contacts.count} contacts, ${emulators.salesforce.state.leads.count} leads)`,
    `  Shopify     ${emulators.shopify.url}/admin/api/${c.shopify.apiVersion}/graphql.json  X-Shopify-Access-Token: ${c.shopify.token}  (${emulators.shopify.state.customers.count} customers, ${emulators.shopify.state.orders.count} orders)`,
    `  S3          ${emulators.s3.url}  bucket ${c.s3.bucket}, access key ${c.s3.accessKeyId} / ${c.s3.secretAccessKey}, path-style (${emulators.s3.state.buckets.get(c.s3.bucket)?.size ?? 0} objects)`,
    `  Meta        ${emulators.meta.url}/v23.0  Authorization: Bearer ${c.meta.token}  (ad account act_${c.meta.adAccountId})`,
    `  Google      ${emulators.google.url}/v1/audienceMembers:ingest  Authorization: Bearer ${c.google.token}  (account ${c.google.operatingAccountId}, user list ${c.google.userListId})`,
    `  TikTok      ${emulators.tiktok.url}/open_api/v1.3  Access-Token: ${c.tiktok.token}  (advertiser ${c.tiktok.advertiserId}, audience ${c.tiktok.audienceId})`,
    `  Trade Desk  ${emulators.ttd.url}/data/advertiser  TtdSignature with secret ${c.ttd.secretKey}  (advertiser ${c.ttd.advertiserId})`,
    `Faults: POST <url>/__emulator/faults {"kind":"429"|"5xx"|"slow"|"truncated"|"expired-token"|"malformed-record","times":1,"path":"regex"}`,
    'Ctrl-C stops them.',
  ];
  console.log(lines.join('\n'));
  const stop = () => {
    void emulators.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
