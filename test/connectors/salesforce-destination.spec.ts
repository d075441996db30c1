import type { ActivationMember, ConnectorContext } from '@plexus/sdk';
import { createTestContext, describeDestinationConformance } from '@plexus/sdk/testing';
import destination, {
  campaignName,
  type SalesforceDestinationConfig,
  type SalesforceItem,
} from '../../connectors/salesforce-destination/index.js';
import {
  salesforceId,
  startSalesforce,
  syntheticSalesforceRecords,
  type SalesforceEmulator,
} from '../emulators/index.js';

const TOKEN = 'sf-destination-token';
let salesforce: SalesforceEmulator;
const config = (extra: Record<string, unknown> = {}) => ({
  accessToken: TOKEN,
  baseUrl: salesforce.url,
  externalIdField: 'Customer_ID__c',
  fields: { lifetimeValue: 'Lifetime_Value__c', segment: 'Plexus_Segment__c', lastName: 'LastName' },
  requestsPerSecond: 1000,
  ...extra,
});
const start = () => startSalesforce({ tokens: [TOKEN], contacts: syntheticSalesforceRecords('Contact', 50) });

/** A person synced from the Salesforce source `sf_src` (their Contact id), with traits to write back. */
const synced = (n: number, traits: ActivationMember['traits'] = {}): ActivationMember => ({
  profileId: `p${n}`,
  identifiers: [
    { type: 'external_id', value: `sf_src:contact:${salesforceId('Contact', n)}` },
    { type: 'email', value: `person${n}@example.com` },
  ],
  traits: { lifetimeValue: 100 * n, segment: 'vip', ...traits },
});
const members: ActivationMember[] = [
  synced(1),
  synced(2),
  // Known only by the brand's customer id: upserted on Customer_ID__c, created when missing.
  { profileId: 'p3', identifiers: [{ type: 'user_id', value: 'cus_new_3' }], traits: { lastName: 'Nakamura' } },
  { profileId: 'p4', identifiers: [{ type: 'email', value: 'nobody@example.com' }], traits: {} },
];

describeDestinationConformance({
  definition: destination,
  setup: async () => {
    salesforce = await start();
  },
  teardown: () => salesforce.close(),
  config,
  invalidCredentials: () => ({ ...config(), accessToken: 'expired' }),
  audience: { id: 'aud_buyers', activationId: 'act_buyers', name: 'Buyers' },
  members,
  injectFault: (f) =>
    salesforce.faults.inject({ kind: f.status === 429 ? '429' : '5xx', times: f.times, status: f.status }),
  clearFaults: () => salesforce.faults.clear(),
});

describe('salesforce-destination against the Salesforce emulator', () => {
  let ctx: ConnectorContext<SalesforceDestinationConfig>;
  let campaignId: string;
  const items = members.map((m) => destination.toItem(m)).filter((i): i is SalesforceItem => i !== null);
  const audience = () => ({ id: 'aud_vip', activationId: 'act_vip', name: 'VIP', externalId: campaignId });
  const memberIds = () =>
    salesforce.state.campaignMembers
      .all()
      .filter((m) => m.CampaignId === campaignId)
      .map((m) => m.ContactId)
      .sort();

  beforeAll(async () => {
    salesforce = await start();
    ({ ctx } = await createTestContext<SalesforceDestinationConfig>(destination, config()));
    campaignId = (await destination.ensureAudience!(ctx, { id: 'aud_vip', activationId: 'act_vip', name: 'VIP' }))
      .externalId;
  });
  afterAll(() => salesforce.close());
  afterEach(() => salesforce.faults.clear());

  it('creates one campaign per audience and finds it again; a deleted campaign is a config failure', async () => {
    expect(salesforce.state.campaigns.get(campaignId)).toMatchObject({
      Name: 'VIP (Plexus act_vip)',
    });
    // Salesforce keeps 80 characters of a name: a long audience name is shortened, the activation's id kept whole.
    const long = campaignName({ name: 'x'.repeat(100), activationId: '0193b4de-7c1a-7000-8000-0123456789ab' });
    expect(long).toHaveLength(80);
    expect(long.endsWith(' (Plexus 0193b4de-7c1a-7000-8000-0123456789ab)')).toBe(true);
    expect(
      (await destination.ensureAudience!(ctx, { id: 'aud_vip', activationId: 'act_vip', name: 'VIP' })).externalId,
    ).toBe(campaignId);
    const other = await destination.ensureAudience!(ctx, { id: 'aud_gone', activationId: 'act_gone', name: 'Gone' });
    salesforce.state.campaigns.delete(other.externalId);
    await expect(
      destination.ensureAudience!(ctx, {
        id: 'aud_gone',
        activationId: 'act_gone',
        name: 'Gone',
        externalId: other.externalId,
      }),
    ).rejects.toMatchObject({
      failureType: 'config',
      message: expect.stringMatching(/no longer exists/),
    });
  });

  it('writes traits to fields, upserts by the external id field, and adds campaign members (≤ 200 a request)', async () => {
    const result = await destination.write(ctx, audience(), { adds: items, removes: [] });
    expect(result.adds).toEqual(items.map(() => ({ ok: true })));
    expect(salesforce.state.contacts.get(salesforceId('Contact', 2))).toMatchObject({
      Lifetime_Value__c: 200,
      Plexus_Segment__c: 'vip',
    });
    const created = salesforce.state.contacts.all().find((c) => c.Customer_ID__c === 'cus_new_3')!;
    expect(created).toMatchObject({ LastName: 'Nakamura' });
    expect(memberIds()).toEqual([salesforceId('Contact', 1), salesforceId('Contact', 2), created.Id].sort());
    const patch = salesforce.requests.find((r) => r.method === 'PATCH' && r.path.endsWith('/composite/sobjects'))!;
    expect(patch.body).toMatchObject({ allOrNone: false, records: [{ attributes: { type: 'Contact' } }, {}] });
    expect(result.requests).toEqual([expect.objectContaining({ operation: 'add', items: 3, invalid: 0 })]);

    // Adding again is no change: "Already a campaign member" counts as success.
    const again = await destination.write(ctx, audience(), { adds: items, removes: [] });
    expect(again.adds).toEqual(items.map(() => ({ ok: true })));
    expect(memberIds()).toHaveLength(3);

    const many = Array.from({ length: 450 }, (_, i) => destination.toItem(synced((i % 50) + 1))!);
    const big = await destination.write(ctx, audience(), { adds: many, removes: [] });
    expect(big.adds.every((v) => 'ok' in v)).toBe(true);
    const sizes = salesforce.requests
      .filter((r) => r.method === 'POST' && r.path.endsWith('/composite/sobjects'))
      .map((r) => (r.body as { records: unknown[] }).records.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(200);
  });

  it('removes members, leaving people not in the campaign alone', async () => {
    const result = await destination.write(ctx, audience(), { adds: [], removes: [items[0], items[2]] });
    expect(result.removes).toEqual([{ ok: true }, { ok: true }]);
    expect(memberIds()).toHaveLength(49);
    const twice = await destination.write(ctx, audience(), { adds: [], removes: [items[0]] });
    expect(twice.removes).toEqual([{ ok: true }]);
  });

  it('maps per-record errors to per-item verdicts: bad data refused, locked rows retried, the rest written', async () => {
    const bad = destination.toItem(synced(7, { segment: 'x'.repeat(300) }))!;
    const deleted = destination.toItem(synced(8))!;
    salesforce.state.contacts.delete(salesforceId('Contact', 8));
    const fine = destination.toItem(synced(9))!;
    const result = await destination.write(ctx, audience(), { adds: [bad, deleted, fine], removes: [] });
    expect(result.adds[0]).toEqual({ abort: expect.stringMatching(/STRING_TOO_LONG/), failureType: 'invalid' });
    expect(result.adds[1]).toEqual({ abort: expect.stringMatching(/ENTITY_IS_DELETED/), failureType: 'invalid' });
    expect(result.adds[2]).toEqual({ ok: true });
    expect(result.requests?.[0]).toMatchObject({ items: 3, invalid: 2 });

    salesforce.faults.inject({ kind: 'partial-failure', times: 1 });
    const locked = await destination.write(ctx, audience(), {
      adds: [fine, destination.toItem(synced(10))!],
      removes: [],
    });
    expect(locked.adds).toEqual([
      { retryInMs: 5_000, reason: expect.stringMatching(/UNABLE_TO_LOCK_ROW/) },
      { ok: true },
    ]);
  });

  it('refuses people it cannot key, and items of another source when sourceId is set', async () => {
    const { ctx: strict } = await createTestContext<SalesforceDestinationConfig>(
      destination,
      config({ externalIdField: undefined, sourceId: 'other_src' }),
    );
    const result = await destination.write(strict, audience(), { adds: [items[0], items[2]], removes: [] });
    expect(result.adds).toEqual([
      { abort: expect.stringMatching(/no Contact id/), failureType: 'invalid' },
      { abort: expect.stringMatching(/set externalIdField/), failureType: 'invalid' },
    ]);
  });

  it('checks the field mapping against describe, naming the bad setting', async () => {
    const { ctx: wrong } = await createTestContext<SalesforceDestinationConfig>(
      destination,
      config({ fields: { ltv: 'Lifetime_Value2__c', name: 'Name' }, externalIdField: 'Email' }),
    );
    await expect(destination.check(wrong)).rejects.toMatchObject({
      failureType: 'config',
      message:
        'fields.ltv: Contact has no field Lifetime_Value2__c; fields.name: Contact.Name is not writable by the integration user; externalIdField: Contact.Email is not an External ID field',
    });
  });

  it('fails the whole batch on an expired session with a config verdict', async () => {
    salesforce.faults.inject({ kind: 'expired-token', times: 1 });
    const result = await destination.write(ctx, audience(), { adds: [items[1]], removes: [items[0]] });
    expect(result.adds).toEqual([{ abort: expect.stringMatching(/INVALID_SESSION_ID/), failureType: 'config' }]);
    expect(result.removes).toEqual([{ abort: expect.stringMatching(/INVALID_SESSION_ID/), failureType: 'config' }]);
  });
});
