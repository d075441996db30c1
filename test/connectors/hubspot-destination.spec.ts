import { ledgerItem } from '@plexus/activation';
import { sha256Hex, type ActivationMember, type ConnectorContext } from '@plexus/sdk';
import { createTestContext, describeDestinationConformance } from '@plexus/sdk/testing';
import destination, {
  type HubSpotContactItem,
  type HubSpotDestinationConfig,
} from '../../connectors/hubspot-destination/index.js';
import { startHubSpot, type HubSpotEmulator } from '../emulators/index.js';

const TOKEN = 'hs-destination-token';
let hubspot: HubSpotEmulator;
const config = (extra: Partial<HubSpotDestinationConfig> = {}) => ({
  accessToken: TOKEN,
  baseUrl: hubspot.url,
  requestsPerSecond: 1000,
  properties: { firstName: 'firstname', lifetime_value: 'plexus_lifetime_value', segments: 'plexus_segments' },
  ...extra,
});

const person = (i: number, traits: ActivationMember['traits'] = {}): ActivationMember => ({
  profileId: `p${i}`,
  identifiers: [
    { type: 'phone', value: `+1415555${String(i).padStart(4, '0')}` },
    { type: 'email', value: ` Person${i}@Plexus-Test.io ` },
  ],
  traits: { firstName: `Person ${i}`, lifetime_value: i * 100, segments: ['vip', 'eu'], ...traits },
});
const members: ActivationMember[] = [
  person(1),
  person(2),
  { profileId: 'p3', identifiers: [{ type: 'device_id', value: '6d92078a-8246-4ba4-ae5b-76104861e7dc' }], traits: {} },
];

describeDestinationConformance({
  definition: destination,
  setup: async () => {
    hubspot = await startHubSpot({ tokens: [TOKEN], rateLimit: false });
  },
  teardown: () => hubspot.close(),
  config,
  invalidCredentials: () => ({ ...config(), accessToken: 'revoked' }),
  audience: { id: 'aud_buyers', activationId: 'act_buyers', name: 'Buyers' },
  members,
  injectFault: (f) =>
    hubspot.faults.inject({ kind: f.status === 429 ? '429' : '5xx', times: f.times, status: f.status }),
  clearFaults: () => hubspot.faults.clear(),
});

describe('hubspot-destination against the HubSpot emulator', () => {
  let ctx: ConnectorContext<HubSpotDestinationConfig>;
  let listId: string;
  const audience = () => ({ id: 'aud_vip', activationId: 'act_vip', name: 'VIP', externalId: listId });
  const item = (m: ActivationMember) => destination.toItem(m)!;

  beforeAll(async () => {
    hubspot = await startHubSpot({ tokens: [TOKEN], rateLimit: false });
    ({ ctx } = await createTestContext<HubSpotDestinationConfig>(destination, config()));
    listId = (await destination.ensureAudience!(ctx, { id: 'aud_vip', activationId: 'act_vip', name: 'VIP' }))
      .externalId;
  });
  afterAll(() => hubspot.close());
  afterEach(() => hubspot.faults.clear());

  it('creates one MANUAL contact list per audience, found again by its name', async () => {
    expect(
      (await destination.ensureAudience!(ctx, { id: 'aud_vip', activationId: 'act_vip', name: 'VIP' })).externalId,
    ).toBe(listId);
    expect(hubspot.state.writeBack.lists.get(listId)).toMatchObject({
      name: 'Plexus: VIP [act_vip]',
      processingType: 'MANUAL',
      objectTypeId: '0-1',
    });
    hubspot.state.writeBack.lists.delete(listId);
    await expect(destination.ensureAudience!(ctx, audience())).rejects.toMatchObject({ failureType: 'config' });
    listId = (await destination.ensureAudience!(ctx, { id: 'aud_vip', activationId: 'act_vip', name: 'VIP' }))
      .externalId;
  });

  it('upserts contacts by email with their mapped traits, creating missing properties, and adds them to the list', async () => {
    const result = await destination.write(ctx, audience(), { adds: [item(person(1)), item(person(2))], removes: [] });
    expect(result.adds).toEqual([{ ok: true }, { ok: true }]);
    const created = hubspot.state.writeBack.properties.get('plexus_lifetime_value');
    expect(created).toMatchObject({ type: 'string', fieldType: 'text', groupName: 'contactinformation' });
    const upserts = hubspot.requests.filter((r) => r.path === '/crm/v3/objects/contacts/batch/upsert');
    expect(upserts.at(-1)!.body).toEqual({
      inputs: [1, 2].map((i) => ({
        idProperty: 'email',
        id: `person${i}@plexus-test.io`,
        properties: {
          firstname: `Person ${i}`,
          plexus_lifetime_value: String(i * 100),
          plexus_segments: 'vip;eu',
          plexus_email_sha256: sha256Hex(`person${i}@plexus-test.io`),
        },
      })),
    });
    const ids = result.written!.map((w) => w.id);
    expect([...hubspot.state.writeBack.lists.get(listId)!.members]).toEqual(ids);
    // What was written, as HubSpot stored it, for the loop prevention of the HubSpot source.
    expect(result.written).toEqual([
      {
        system: 'hubspot:62515',
        object: 'contacts',
        id: ids[0],
        profileId: 'p1',
        values: { firstname: 'Person 1', plexus_lifetime_value: '100', plexus_segments: 'vip;eu' },
      },
      expect.objectContaining({ profileId: 'p2', id: ids[1] }),
    ]);
    expect(hubspot.state.contacts.get(ids[0])!.properties).toMatchObject({
      email: 'person1@plexus-test.io',
      firstname: 'Person 1',
    });
  });

  it('sends at most 100 contacts a request, one input per email', async () => {
    const many = Array.from({ length: 230 }, (_, i) => item(person(100 + i)));
    const before = hubspot.requests.length;
    const result = await destination.write(ctx, audience(), { adds: [...many, many[229]], removes: [] });
    expect(result.adds.every((v) => 'ok' in v)).toBe(true);
    const sizes = hubspot.requests
      .slice(before)
      .filter((r) => r.path.endsWith('/batch/upsert'))
      .map((r) => (r.body as { inputs: unknown[] }).inputs.length);
    // 231 items, the last one twice in the third request: sent once.
    expect(sizes).toEqual([100, 100, 30]);
    // The emulator refuses what HubSpot refuses: 101 inputs, or an email twice.
    const post = (inputs: unknown[]) =>
      fetch(`${hubspot.url}/crm/v3/objects/contacts/batch/upsert`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ inputs }),
      });
    const input = (email: string) => ({ idProperty: 'email', id: email, properties: {} });
    const tooMany = await post(Array.from({ length: 101 }, (_, i) => input(`x${i}@plexus-test.io`)));
    expect(tooMany.status).toBe(400);
    expect(await tooMany.json()).toMatchObject({
      category: 'VALIDATION_ERROR',
      message: 'Batch size must be 100 or fewer inputs.',
    });
    const twice = await post([input('a@plexus-test.io'), input('A@plexus-test.io ')]);
    expect(twice.status).toBe(400);
  });

  it('fails only the contact whose value HubSpot refuses', async () => {
    hubspot.state.writeBack.properties.set('plexus_score', {
      name: 'plexus_score',
      label: 'Score',
      type: 'number',
      fieldType: 'number',
      groupName: 'contactinformation',
      modificationMetadata: { archivable: true, readOnlyDefinition: false, readOnlyValue: false },
    });
    const scored = (
      await createTestContext<HubSpotDestinationConfig>(destination, config({ properties: { score: 'plexus_score' } }))
    ).ctx;
    const result = await destination.write(scored, audience(), {
      adds: [item(person(5, { score: 12 })), item(person(6, { score: 'high' })), item(person(7, { score: 3.5 }))],
      removes: [],
    });
    expect(result.adds[0]).toEqual({ ok: true });
    expect(result.adds[1]).toEqual({
      abort: expect.stringContaining('person6@plexus-test.io'),
      failureType: 'invalid',
    });
    expect(result.adds[2]).toEqual({ ok: true });
    expect(result.requests![0]).toMatchObject({ operation: 'add', items: 3, received: 2, invalid: 1 });
  });

  it('refuses a mapping onto a read-only or missing property at check time, naming it', async () => {
    const check = async (extra: Partial<HubSpotDestinationConfig>) => {
      const { ctx: c } = await createTestContext<HubSpotDestinationConfig>(destination, config(extra));
      return destination.check(c).then(
        () => undefined,
        (error: { failureType: string; message: string }) => error,
      );
    };
    expect(await check({ properties: { modified: 'lastmodifieddate' } })).toMatchObject({
      failureType: 'config',
      message: expect.stringContaining('lastmodifieddate'),
    });
    expect(await check({ properties: { tier: 'plexus_tier' }, createMissingProperties: false })).toMatchObject({
      failureType: 'config',
      message: expect.stringContaining('plexus_tier do not exist'),
    });
    expect(await check({ properties: { tier: 'plexus_tier' } })).toBeUndefined();
  });

  it('removes members from the list, an unknown contact being already out', async () => {
    const one = item(person(1));
    const stranger = destination.toItem({
      profileId: 'x',
      identifiers: [{ type: 'email', value: 'nobody@plexus-test.io' }],
      traits: {},
    })!;
    const result = await destination.write(ctx, audience(), { adds: [], removes: [one, stranger] });
    expect(result.removes).toEqual([{ ok: true }, { ok: true }]);
    const id = hubspot.requests.filter((r) => r.path === '/crm/v3/objects/contacts/batch/read').length;
    expect(id).toBeGreaterThan(0);
    const members = hubspot.state.writeBack.lists.get(listId)!.members;
    expect([...members].map((m) => hubspot.state.contacts.get(m)!.properties.email)).not.toContain(one.email);
  });

  it('erases contacts with the GDPR delete', async () => {
    const two: HubSpotContactItem = item(person(2));
    const stranger = destination.toItem({
      profileId: 'x',
      identifiers: [{ type: 'email', value: 'ghost@plexus-test.io' }],
      traits: {},
    })!;
    const { verdicts } = await destination.delete!(ctx, [two, stranger]);
    expect(verdicts).toEqual([{ ok: true }, { ok: true }]);
    expect(hubspot.state.writeBack.gdprDeleted).toHaveLength(1);
    const deleted = hubspot.state.contacts.get(hubspot.state.writeBack.gdprDeleted[0])!;
    expect(deleted).toMatchObject({ archived: true, properties: {} });
  });

  it('removes and erases a contact from the item the ledger kept (its email hashed), after the profile is gone', async () => {
    const added = item(person(4));
    const { written } = await destination.write(ctx, audience(), { adds: [added], removes: [] });
    const id = written![0].id;
    expect(hubspot.state.contacts.get(id)!.properties.plexus_email_sha256).toBe(sha256Hex('person4@plexus-test.io'));
    expect(hubspot.state.writeBack.lists.get(listId)!.members.has(id)).toBe(true);
    // What the activation ledger keeps, and all a removal or an erasure has once the profile is erased.
    const kept = ledgerItem(added) as HubSpotContactItem;
    expect(kept.email).toBe(`sha256:${sha256Hex('person4@plexus-test.io')}`);
    const removed = await destination.write(ctx, audience(), { adds: [], removes: [kept] });
    expect(removed.removes).toEqual([{ ok: true }]);
    expect(hubspot.state.writeBack.lists.get(listId)!.members.has(id)).toBe(false);
    const { verdicts } = await destination.delete!(ctx, [kept, { ...kept, email: `sha256:${'0'.repeat(64)}` }]);
    expect(verdicts).toEqual([{ ok: true }, { ok: true }]);
    expect(hubspot.state.writeBack.gdprDeleted).toContain(id);
    expect(hubspot.state.contacts.get(id)).toMatchObject({ archived: true, properties: {} });
  });
});
