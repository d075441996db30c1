import { createConnectorContext, validateConfig } from '@plexus/sdk';
import shopifySource, { ShopifyConfig, type ShopifyCheckpoint } from '../connectors/shopify/index.js';
import { startShopify, syntheticShopifyData } from '../test/emulators/index.js';
import type { Benchmark, Figure } from './harness.js';

const CUSTOMERS = Number(process.env.BENCH_SHOPIFY_CUSTOMERS ?? 4_000);
/** The app's bucket on the shop: Shopify Plus by default (1,000 points/s into 20,000); Standard is 100 into 2,000. */
const RESTORE_RATE = Number(process.env.BENCH_SHOPIFY_RESTORE ?? 1_000);
const BUCKET = Number(process.env.BENCH_SHOPIFY_BUCKET ?? RESTORE_RATE * 20);
const TOKEN = 'shpat_bench';

interface StreamFigures {
  records: number;
  seconds: number;
  spent: number;
  requested: number;
  queries: number;
  drained: number;
  throttled: number;
}

/**
 * Reads one stream incrementally (every record changed since 2020) as the hub's worker would, without storing it,
 * and measures what it spent of the shop's cost bucket.
 */
async function readIncrementally(
  stream: 'customers' | 'orders',
  shop: Awaited<ReturnType<typeof startShopify>>,
): Promise<StreamFigures> {
  // Every change through cost-paced pages: what this measures (a backlog this big would otherwise go in bulk).
  const { config } = await validateConfig(ShopifyConfig, { baseUrl: shop.url, accessToken: TOKEN, bulkAbove: 10_000 });
  const definition = shopifySource;
  const ctx = createConnectorContext({ definition, config: config!, connectionId: 'bench-shopify' });
  const before = { ...shop.state.cost, throttled: shop.state.throttled };
  const availableBefore = shop.state.bucket!.currentlyAvailable();
  const started = performance.now();
  let records = 0;
  const read = definition.streams.find((s) => s.name === stream)!;
  const checkpoint: ShopifyCheckpoint = { since: '2020-01-01T00:00:00Z' };
  for await (const batch of read.read(ctx, checkpoint)) records += batch.records.length;
  const seconds = (performance.now() - started) / 1000;
  return {
    records,
    seconds,
    spent: shop.state.cost.actual - before.actual,
    requested: shop.state.cost.requested - before.requested,
    queries: shop.state.cost.queries - before.queries,
    drained: availableBefore - shop.state.bucket!.currentlyAvailable(),
    throttled: shop.state.throttled - before.throttled,
  };
}

const bench: Benchmark = {
  name: 'shopify-sync',
  description: `incremental Shopify sync of ${CUSTOMERS.toLocaleString('en-US')} customers and their orders, cost bucket ${BUCKET.toLocaleString('en-US')} points restoring ${RESTORE_RATE}/s`,
  async run(): Promise<Figure[]> {
    const shop = await startShopify({
      tokens: [TOKEN],
      ...syntheticShopifyData(CUSTOMERS, { guestOrders: Math.floor(CUSTOMERS / 20) }),
      rateLimit: { maximumAvailable: BUCKET, restoreRate: RESTORE_RATE },
      maxRecordedRequests: 1_000,
    });
    try {
      const figures: Figure[] = [];
      let spent = 0;
      let drained = 0;
      let seconds = 0;
      for (const stream of ['customers', 'orders'] as const) {
        const f = await readIncrementally(stream, shop);
        spent += f.spent;
        drained += f.drained;
        seconds += f.seconds;
        figures.push(
          { name: `${stream}: records`, value: f.records, unit: 'records' },
          { name: `${stream}: duration`, value: f.seconds, unit: 's' },
          { name: `${stream}: throughput`, value: f.records / f.seconds, unit: 'records/s' },
          { name: `${stream}: queries`, value: f.queries, unit: 'queries' },
          { name: `${stream}: points spent (actual) / requested`, value: f.spent / f.requested, unit: '' },
          {
            name: `${stream}: share of the restore rate used`,
            value: (100 * (f.spent - f.drained)) / (RESTORE_RATE * f.seconds),
            unit: '%',
            goal: '≥ 90 %',
          },
          { name: `${stream}: THROTTLED answers`, value: f.throttled, unit: 'answers', goal: '0' },
        );
      }
      figures.push(
        { name: 'both: duration', value: seconds, unit: 's' },
        { name: 'both: points spent', value: spent, unit: 'points' },
        { name: 'both: points drawn from the full bucket', value: drained, unit: 'points' },
        {
          name: 'both: share of the restore rate used',
          value: (100 * (spent - drained)) / (RESTORE_RATE * seconds),
          unit: '%',
          goal: '≥ 90 %',
        },
      );
      return figures;
    } finally {
      await shop.close();
    }
  },
};

export default bench;
