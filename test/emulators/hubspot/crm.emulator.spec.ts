import { call } from '../../support/http.js';
import { syntheticHubSpotContacts, syntheticHubSpotCrm } from './hubspot.data.js';
import { startHubSpot, type HubSpotEmulator } from './hubspot.emulator.js';

const TOKEN = 'crm-token';
const auth = { authorization: `Bearer ${TOKEN}` };

describe('HubSpot emulator: CRM objects, associations v4 and pipelines', () => {
  let hs: HubSpotEmulator;

  beforeAll(async () => {
    hs = await startHubSpot({
      tokens: [TOKEN],
      contacts: syntheticHubSpotContacts(10),
      ...syntheticHubSpotCrm({ deals: 20, tickets: 5 }, { contacts: 10 }),
      rateLimit: false,
      searchPerSecond: false,
    });
  });
  afterAll(() => hs.close());

  it('lists and searches deals on hs_lastmodifieddate, with stage history from batch read', async () => {
    const listed = await call(hs.url, 'GET', '/crm/v3/objects/deals?limit=5&properties=dealstage,amount', {
      headers: auth,
    });
    expect(listed.status).toBe(200);
    expect(listed.body.results).toHaveLength(5);
    expect(listed.body.results[0].properties).toHaveProperty('hs_lastmodifieddate');
    const stage = hs.state.deals.get('3')!.properties.dealstage === 'closedwon' ? 'closedlost' : 'closedwon';
    hs.state.deals.update('3', { dealstage: stage });
    const found = await call(hs.url, 'POST', '/crm/v3/objects/deals/search', {
      headers: auth,
      body: {
        filterGroups: [
          { filters: [{ propertyName: 'hs_lastmodifieddate', operator: 'GTE', value: String(Date.now() - 60_000) }] },
        ],
        sorts: [{ propertyName: 'hs_lastmodifieddate', direction: 'ASCENDING' }],
        properties: ['dealstage'],
        limit: 10,
      },
    });
    expect(found.body.results.map((d: { id: string }) => d.id)).toEqual(['3']);
    const read = await call(hs.url, 'POST', '/crm/v3/objects/deals/batch/read', {
      headers: auth,
      body: { inputs: [{ id: '3' }, { id: '999' }], properties: ['dealstage'], propertiesWithHistory: ['dealstage'] },
    });
    expect(read.status).toBe(207);
    const history = read.body.results[0].propertiesWithHistory.dealstage;
    expect(history[0]).toMatchObject({ value: stage });
    expect(history).toHaveLength(2);
    expect(read.body.errors[0]).toMatchObject({ category: 'OBJECT_NOT_FOUND', context: { ids: ['999'] } });
  });

  it('reads associations in batches of at most 1,000, paging each input past 500', async () => {
    for (let i = 0; i < 520; i++) hs.state.associations.associate('contacts', '1', 'emails', String(1000 + i));
    const first = await call(hs.url, 'POST', '/crm/v4/associations/contacts/emails/batch/read', {
      headers: auth,
      body: { inputs: [{ id: '1' }, { id: '2' }] },
    });
    expect(first.status).toBe(207);
    expect(first.body.results[0].to).toHaveLength(500);
    expect(first.body.results[0].to[0]).toEqual({
      toObjectId: 1000,
      associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 197, label: null }],
    });
    expect(first.body.errors[0]).toMatchObject({ subCategory: 'crm.associations.NO_ASSOCIATIONS_FOUND' });
    const after = first.body.results[0].paging.next.after;
    const second = await call(hs.url, 'POST', '/crm/v4/associations/contacts/emails/batch/read', {
      headers: auth,
      body: { inputs: [{ id: '1', after }] },
    });
    expect(second.body.results[0].to).toHaveLength(20);
    expect(second.body.results[0].paging).toBeUndefined();
    const deals = await call(hs.url, 'POST', '/crm/v4/associations/deals/contacts/batch/read', {
      headers: auth,
      body: { inputs: [{ id: '11' }] },
    });
    expect(deals.body.results[0].to.map((t: { toObjectId: number }) => t.toObjectId)).toEqual([1]);
    const tooMany = await call(hs.url, 'POST', '/crm/v4/associations/deals/contacts/batch/read', {
      headers: auth,
      body: { inputs: Array.from({ length: 1001 }, (_, i) => ({ id: String(i) })) },
    });
    expect(tooMany.status).toBe(400);
    const unknown = await call(hs.url, 'POST', '/crm/v4/associations/deals/invoices/batch/read', {
      headers: auth,
      body: { inputs: [] },
    });
    expect(unknown.status).toBe(400);
  });

  it('serves pipelines with their stage metadata and the account details', async () => {
    const deals = await call(hs.url, 'GET', '/crm/v3/pipelines/deals', { headers: auth });
    const won = deals.body.results[0].stages.find((s: { id: string }) => s.id === 'closedwon');
    expect(won.metadata).toEqual({ isClosed: 'true', probability: '1.0' });
    const tickets = await call(hs.url, 'GET', '/crm/v3/pipelines/tickets', { headers: auth });
    expect(
      tickets.body.results[0].stages.map((s: { metadata: { ticketState: string } }) => s.metadata.ticketState),
    ).toEqual(['OPEN', 'OPEN', 'OPEN', 'CLOSED']);
    const account = await call(hs.url, 'GET', '/account-info/v3/details', { headers: auth });
    expect(account.body).toMatchObject({ portalId: 62515, companyCurrency: 'USD' });
  });

  it('refuses what Lists v3 and the property API refuse', async () => {
    const dynamic = await call(hs.url, 'POST', '/crm/v3/lists', {
      headers: auth,
      body: { name: 'Dyn', objectTypeId: '0-1', processingType: 'DYNAMIC' },
    });
    expect(dynamic.status).toBe(400);
    const created = await call(hs.url, 'POST', '/crm/v3/lists', {
      headers: auth,
      body: { name: 'Fans', objectTypeId: '0-1', processingType: 'MANUAL' },
    });
    expect(created.body.list).toMatchObject({ name: 'Fans', processingType: 'MANUAL' });
    const again = await call(hs.url, 'POST', '/crm/v3/lists', {
      headers: auth,
      body: { name: 'Fans', objectTypeId: '0-1', processingType: 'MANUAL' },
    });
    expect(again.status).toBe(409);
    const added = await call(hs.url, 'PUT', `/crm/v3/lists/${created.body.list.listId}/memberships/add`, {
      headers: auth,
      body: ['1', '2', '404'],
    });
    expect(added.body).toEqual({ recordIdsAdded: ['1', '2'], recordIdsMissing: ['404'] });
    const notArray = await call(hs.url, 'PUT', `/crm/v3/lists/${created.body.list.listId}/memberships/remove`, {
      headers: auth,
      body: { ids: ['1'] },
    });
    expect(notArray.status).toBe(400);
    const badProperty = await call(hs.url, 'POST', '/crm/v3/properties/contacts', {
      headers: auth,
      body: { name: 'Bad Name', label: 'x', type: 'string', fieldType: 'text', groupName: 'contactinformation' },
    });
    expect(badProperty.status).toBe(400);
    const wrongField = await call(hs.url, 'POST', '/crm/v3/properties/contacts', {
      headers: auth,
      body: { name: 'score', label: 'Score', type: 'number', fieldType: 'text', groupName: 'contactinformation' },
    });
    expect(wrongField.status).toBe(400);
    const upsert = await call(hs.url, 'POST', '/crm/v3/objects/contacts/batch/upsert', {
      headers: auth,
      body: { inputs: [{ idProperty: 'email', id: 'a@b.io', properties: { nope: 'x', lastmodifieddate: '1' } }] },
    });
    expect(upsert.status).toBe(400);
    expect(upsert.body.errors.map((e: { code: string }) => e.code)).toEqual([
      'PROPERTY_DOESNT_EXIST',
      'READ_ONLY_VALUE',
    ]);
  });
});
