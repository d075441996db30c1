import { WrittenValuesService } from '@plexus/identity';
import { salesforceId, startHubSpot, startSalesforce, syntheticSalesforceRecords } from '../emulators/index.js';
import type { HubSpotEmulator, SalesforceEmulator } from '../emulators/index.js';
import { startActivationApp, VIP_RULE } from './support.js';

type Harness = Awaited<ReturnType<typeof startActivationApp>>;

const SF_SOURCE = 'sf_src';
const at = (seconds: number) => new Date(Date.UTC(2026, 0, 2, 0, 0, seconds)).toISOString();
const email = (n: number) => `customer${n}@plexus-crm.io`;
/** Customer n as the CRM source synced them: their Salesforce Contact id, email, and traits Plexus computed. */
const customer = (n: number, vip = true, seconds = n) => ({
  identifiers: [
    { type: 'external_id' as const, value: `${SF_SOURCE}:contact:${salesforceId('Contact', n)}` },
    { type: 'email' as const, value: email(n) },
  ],
  traits: { firstName: `Cust${n}`, vip, lifetimeValue: 1000 + n },
  // Customer 4 never agreed to personalisation: CRM write-back (a personalisation purpose) must leave them out.
  consent: { personalization: n !== 4 },
  observedAt: at(seconds),
});

/**
 * The CRM write-back destinations driven by the activation engine itself (not called directly): chosen traits
 * land in the emulated CRM's fields, membership becomes a campaign or a list, leavers are removed, and the
 * ledger answers for each person what was written and removed.
 */
describe('write-back to the CRMs through the activation engine', () => {
  let h: Harness;
  let audienceId: string;
  const profileIds: string[] = [];

  beforeAll(async () => {
    h = await startActivationApp('activation_crm_writeback');
    for (let n = 1; n <= 4; n++) profileIds.push(...(await h.store([customer(n)])));
    audienceId = await h.createAudience('VIP customers', VIP_RULE);
  }, 120_000);
  afterAll(() => h.t.close());

  /** Customer 2 stops being a VIP and leaves the audience. */
  async function customerTwoLeaves(seconds: number): Promise<void> {
    await h.store([customer(2, false, seconds)]);
    await h.evaluator.evaluate(audienceId, 'full');
  }

  describe('Salesforce: fields on Contacts and Campaign members', () => {
    const TOKEN = 'sf-writeback-engine-token';
    let salesforce: SalesforceEmulator;
    let activationId: string;
    let campaignId: string;
    const members = () =>
      salesforce.state.campaignMembers
        .all()
        .filter((m) => m.CampaignId === campaignId)
        .map((m) => m.ContactId)
        .sort();

    beforeAll(async () => {
      salesforce = await startSalesforce({ tokens: [TOKEN], contacts: syntheticSalesforceRecords('Contact', 5) });
    });
    afterAll(() => salesforce.close());

    it('writes the mapped traits and adds each member to the audience campaign, with a ledger entry each', async () => {
      const destinationId = await h.createDestination('Salesforce org', 'salesforce-destination', {
        accessToken: TOKEN,
        baseUrl: salesforce.url,
        sourceId: SF_SOURCE,
        fields: { lifetimeValue: 'Lifetime_Value__c' },
        requestsPerSecond: 1000,
      });
      activationId = await h.activate({ audienceId, destinationId, mode: 'upsert' });
      expect((await h.deliverAll(activationId)).state).toBe('idle');

      const view = (await h.api('GET', `/v1/activations/${activationId}`)).body;
      campaignId = view.externalId;
      expect(salesforce.state.campaigns.get(campaignId)).toBeDefined();
      expect(members()).toEqual([1, 2, 3].map((n) => salesforceId('Contact', n)).sort());
      for (const n of [1, 2, 3]) {
        expect(salesforce.state.contacts.get(salesforceId('Contact', n))).toMatchObject({
          Lifetime_Value__c: 1000 + n,
        });
      }
      // Customer 4 (no personalisation consent) and contacts the hub does not hold are left alone.
      for (const n of [4, 5]) {
        expect(salesforce.state.contacts.get(salesforceId('Contact', n))?.Lifetime_Value__c).toBeUndefined();
      }
      expect(view.members).toEqual({ held: 3, not_sendable: 1 });
      const run = (await h.api('GET', `/v1/activations/${activationId}/runs`)).body.data[0];
      expect(run).toMatchObject({
        status: 'succeeded',
        adds: 3,
        accepted: 3,
        notSendableReasons: { 'no consent for personalization': 1 },
      });

      const ledger = await h.api('GET', `/v1/activations/${activationId}/ledger?identifier=email:${email(1)}`);
      expect(ledger.body.entries).toEqual([
        expect.objectContaining({ profileId: profileIds[0], held: true, sent: true, removed: false }),
      ]);
      // Nothing left to do: a second delivery sends nothing.
      const requests = salesforce.requests.length;
      expect((await h.deliverAll(activationId)).state).toBe('idle');
      expect(salesforce.requests.length).toBe(requests);
    });

    it('removes a leaver from the campaign once, and the ledger says so', async () => {
      await customerTwoLeaves(30);
      expect((await h.deliverAll(activationId)).state).toBe('idle');
      expect(members()).toEqual([1, 3].map((n) => salesforceId('Contact', n)).sort());
      const ledger = await h.api('GET', `/v1/activations/${activationId}/ledger?identifier=email:${email(2)}`);
      expect(ledger.body.entries[0]).toMatchObject({ profileId: profileIds[1], removed: true });
      const deletes = salesforce.requests.filter((r) => r.method === 'DELETE').length;
      expect((await h.deliverAll(activationId)).state).toBe('idle');
      expect(salesforce.requests.filter((r) => r.method === 'DELETE').length).toBe(deletes);
    });
  });

  describe('HubSpot: contact properties and a list', () => {
    const TOKEN = 'hs-writeback-engine-token';
    const PORTAL = 70707;
    let hubspot: HubSpotEmulator;
    let activationId: string;

    beforeAll(async () => {
      hubspot = await startHubSpot({ tokens: [TOKEN], rateLimit: false, portalId: PORTAL });
    });
    afterAll(() => hubspot.close());

    it('upserts the members as contacts with the mapped properties, lists them, and records what it wrote', async () => {
      // A computed trait is written like a profile trait: customer 1 won two deals, customer 3 one.
      const deal = (n: number, k: number) => ({ name: 'Deal Won', occurredAt: at(40 + k), id: `deal-${n}-${k}` });
      await h.store([
        { identifiers: [{ type: 'email', value: email(1) }], events: [deal(1, 1), deal(1, 2)] },
        { identifiers: [{ type: 'email', value: email(3) }], events: [deal(3, 1)] },
      ]);
      const trait = await h.api('POST', '/v1/computed-traits', {
        name: 'deals_won',
        event: 'Deal Won',
        aggregation: 'count',
      });
      expect(trait.status).toBe(201);
      const destinationId = await h.createDestination('HubSpot portal', 'hubspot-destination', {
        accessToken: TOKEN,
        baseUrl: hubspot.url,
        properties: { lifetimeValue: 'plexus_lifetime_value', deals_won: 'plexus_deals_won' },
        requestsPerSecond: 1000,
      });
      activationId = await h.activate({ audienceId, destinationId, mode: 'upsert' });
      expect((await h.deliverAll(activationId)).state).toBe('idle');

      const listId = (await h.api('GET', `/v1/activations/${activationId}`)).body.externalId as string;
      const listed = [...hubspot.state.writeBack.lists.get(listId)!.members].map(
        (id) => hubspot.state.contacts.get(id)!.properties,
      );
      // Customer 2 left the audience in the Salesforce part: only 1 and 3 are members now.
      expect(listed.map((p) => p.email).sort()).toEqual([email(1), email(3)]);
      expect(listed.map((p) => p.plexus_lifetime_value).sort()).toEqual(['1001', '1003']);
      expect(Object.fromEntries(listed.map((p) => [p.email, p.plexus_deals_won]))).toEqual({
        [email(1)]: '2',
        [email(3)]: '1',
      });

      const ledger = await h.api('GET', `/v1/activations/${activationId}/ledger?identifier=email:${email(3)}`);
      expect(ledger.body.entries[0]).toMatchObject({ profileId: profileIds[2], held: true, sent: true });
      // What was written is remembered, so the next HubSpot sync reading it back is not a change of the profile.
      const written = h.t.app.get(WrittenValuesService);
      const contactId = [...hubspot.state.writeBack.lists.get(listId)!.members].find(
        (id) => hubspot.state.contacts.get(id)!.properties.email === email(1),
      )!;
      expect(
        await written.matches(`hubspot:${PORTAL}`, 'contacts', [
          { id: contactId, property: 'plexus_lifetime_value', value: '1001' },
          { id: contactId, property: 'plexus_lifetime_value', value: '999' },
        ]),
      ).toEqual([true, false]);
    });
  });
});
