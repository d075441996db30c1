import { call } from '../support/http.js';
import {
  DEMO_CREDENTIALS,
  dmpFilesFromPopulation,
  hubspotContactsFromPopulation,
  isPopulationLike,
  shopifyFromPopulation,
  startEmulators,
  type PopulationLike,
} from './index.js';

const population: PopulationLike = {
  crm: {
    contacts: [
      {
        id: '7',
        email: 'Ada@Example.org ',
        phone: '+12025550101',
        firstname: 'Ada',
        lastname: 'L',
        country: 'GB',
        updatedAt: '2026-01-02T00:00:00Z',
      },
    ],
  },
  shop: {
    customers: [
      {
        id: 1,
        email: 'ada@example.org',
        phone: null,
        first_name: 'Ada',
        last_name: 'L',
        country_code: 'GB',
        accepts_marketing: true,
        updated_at: '2026-01-03T00:00:00Z',
      },
    ],
    orders: [
      { id: 5001, customer_id: 1, total_price: '10.00', currency: 'EUR', created_at: '2026-01-04T00:00:00Z' },
      { id: 5002, customer_id: 1, total_price: '5.50', currency: 'EUR', created_at: '2026-01-05T00:00:00Z' },
      {
        id: 5003,
        customer_id: null,
        total_price: '1.00',
        currency: 'EUR',
        created_at: '2026-01-05T00:00:00Z',
        email: 'guest@example.org',
      },
    ],
  },
  dmp: {
    rows: [
      { cookie_id: 'c1', email_sha256: null, idfa: null, segments: ['a'], seen_at: '2026-01-06T10:00:00Z' },
      { cookie_id: 'c2', email_sha256: null, idfa: null, segments: ['b'], seen_at: '2026-01-06T11:00:00Z' },
    ],
  },
};

describe('emulators together', () => {
  it('adapts the shared population to vendor shapes', () => {
    expect(isPopulationLike(population)).toBe(true);
    expect(isPopulationLike({ crm: {} })).toBe(false);
    expect(hubspotContactsFromPopulation(population)[0]).toMatchObject({
      id: '7',
      properties: { email: 'Ada@Example.org ', lastmodifieddate: '2026-01-02T00:00:00.000Z' },
    });
    const shop = shopifyFromPopulation(population);
    expect(shop.customers[0]).toMatchObject({ orders_count: 2, total_spent: '15.50', last_order_id: 5002 });
    expect(shop.orders[2]).toMatchObject({ customer: null, email: 'guest@example.org' });
    expect(Object.keys(dmpFilesFromPopulation(population))).toEqual(['dmp/2026-01-06.ndjson']);
  });

  it('starts all four with the demo credentials and seeds', async () => {
    const shop = shopifyFromPopulation(population);
    const emulators = await startEmulators({ people: 50, seeds: { shopify: shop } });
    try {
      const hs = await call(emulators.hubspot.url, 'GET', '/crm/v3/objects/contacts?limit=100', {
        headers: { authorization: `Bearer ${DEMO_CREDENTIALS.hubspot.token}` },
      });
      expect(hs.body.results).toHaveLength(40);
      const sf = await call(emulators.salesforce.url, 'GET', '/services/data/v59.0/query?q=SELECT+Id+FROM+Lead', {
        headers: { authorization: `Bearer ${DEMO_CREDENTIALS.salesforce.token}` },
      });
      expect(sf.body.totalSize).toBe(5);
      const customers = await call(
        emulators.shopify.url,
        'POST',
        `/admin/api/${DEMO_CREDENTIALS.shopify.apiVersion}/graphql.json`,
        {
          headers: { 'X-Shopify-Access-Token': DEMO_CREDENTIALS.shopify.token },
          body: { query: '{ customers(first: 10) { nodes { defaultEmailAddress { emailAddress } } } }' },
        },
      );
      expect(customers.body.data.customers.nodes.map((c: any) => c.defaultEmailAddress.emailAddress)).toEqual([
        'ada@example.org',
      ]);
      expect(emulators.s3.state.buckets.get(DEMO_CREDENTIALS.s3.bucket)?.size).toBe(3);
    } finally {
      await emulators.close();
    }
  });
});
