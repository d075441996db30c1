import { startTestApp, type TestApp } from '../support/app.js';
import { call } from '../support/http.js';
import { startSalesforce, syntheticSalesforceRecords, type SalesforceEmulator } from '../emulators/index.js';

const TOKEN = 'sf-destination-hub-token';

describe('Salesforce destination configured through the hub', () => {
  let t: TestApp;
  let salesforce: SalesforceEmulator;
  const config = (extra: Record<string, unknown> = {}) => ({
    accessToken: TOKEN,
    baseUrl: salesforce.url,
    externalIdField: 'Customer_ID__c',
    fields: { lifetimeValue: 'Lifetime_Value__c' },
    ...extra,
  });
  const create = (body: Record<string, unknown>) =>
    call(t.url, 'POST', '/v1/destinations', {
      headers: t.auth,
      body: { name: 'Salesforce org', connector: 'salesforce-destination', ...body },
    });

  beforeAll(async () => {
    salesforce = await startSalesforce({ tokens: [TOKEN], contacts: syntheticSalesforceRecords('Contact', 5) });
    t = await startTestApp({ label: 'salesforce-destination-hub' });
  });
  afterAll(async () => {
    await t?.close();
    await salesforce?.close();
  });

  it('is in the catalog, stores the token sealed and checks the mapping against describe', async () => {
    const catalog = await call(t.url, 'GET', '/v1/connectors', { headers: t.auth });
    expect(catalog.body.data.find((c: { id: string }) => c.id === 'salesforce-destination')).toMatchObject({
      kind: 'destination',
    });
    const created = await create({ config: config() });
    expect(created.status).toBe(201);
    expect(JSON.stringify(created.body)).not.toContain(TOKEN);
    const ok = await call(t.url, 'POST', `/v1/destinations/${created.body.id}/check`, { headers: t.auth });
    expect(ok.body).toMatchObject({ ok: true });
    expect(salesforce.requests.at(-1)!.path).toBe('/services/data/v62.0/sobjects/Contact/describe');

    const wrong = await create({ config: config({ fields: { lifetimeValue: 'LTV__c' } }) });
    const failed = await call(t.url, 'POST', `/v1/destinations/${wrong.body.id}/check`, { headers: t.auth });
    expect(failed.body).toMatchObject({
      ok: false,
      failureType: 'config',
      message: 'fields.lifetimeValue: Contact has no field LTV__c',
    });
  });

  it('refuses a malformed mapping with a 400 naming the field', async () => {
    const bad = await create({ config: config({ fields: { lifetimeValue: 'not a field' } }) });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/fields/);
    const object = await create({ config: config({ object: 'Account' }) });
    expect(object.status).toBe(400);
    expect(JSON.stringify(object.body)).toMatch(/object must be Contact or Lead/);
  });
});
