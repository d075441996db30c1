import { WrittenValuesService } from '@plexus/identity';
import { createTestContext } from '@plexus/sdk/testing';
import destination, { type HubSpotDestinationConfig } from '../../connectors/hubspot-destination/index.js';
import { startHubSpot, type HubSpotEmulator } from '../emulators/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { basicAuth, call } from '../support/http.js';
import { profileBy, syncAndWait } from '../support/hub.js';
import { until } from '../support/wait.js';

const TOKEN = 'hs-loop-token';
const contact = (id: string, email: string, firstname: string) => {
  const at = new Date(Date.now() - 3_600_000).toISOString();
  return {
    id,
    properties: { email, firstname, lastmodifieddate: at, createdate: at, hs_object_id: id },
    createdAt: at,
    updatedAt: at,
    archived: false,
  };
};

describe('HubSpot both ways: what Plexus writes into HubSpot does not come back as a new observation', () => {
  let t: TestApp;
  let hubspot: HubSpotEmulator;
  let sourceId: string;
  let websiteId: string;

  const firstNameOf = async (email: string) => {
    const found = await profileBy(t, `email:${email}`);
    const profile = (await call(t.url, 'GET', `/v1/profiles/${found.id}`, { headers: t.auth })).body;
    return profile.traits.firstName as { value: string; sourceId: string };
  };

  beforeAll(async () => {
    hubspot = await startHubSpot({
      tokens: [TOKEN],
      contacts: [contact('1', 'ada@loop-test.io', 'Ada'), contact('2', 'bo@loop-test.io', 'Bo')],
      rateLimit: false,
    });
    t = await startTestApp({ label: 'hubspot-loop' });
    const source = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: { name: 'HubSpot', connector: 'hubspot', config: { accessToken: TOKEN, baseUrl: hubspot.url } },
    });
    sourceId = source.body.id;
    const website = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: { name: 'Website', connector: 'http-events', config: {} },
    });
    websiteId = website.body.id;
    expect((await syncAndWait(t, sourceId)).status).toBe('succeeded');
    // The website then learns a newer first name: the profile's value now comes from it.
    const identified = await call(t.url, 'POST', '/v1/identify', {
      headers: basicAuth(website.body.writeKey as string),
      body: { userId: 'ada-1', traits: { email: 'ada@loop-test.io', firstName: 'Adeline' } },
    });
    expect(identified.status).toBe(200);
    await until(async () => ((await firstNameOf('ada@loop-test.io')).sourceId === websiteId ? true : undefined));
  });
  afterAll(async () => {
    await t?.close();
    await hubspot?.close();
  });

  it('keeps the provenance of values Plexus wrote back, and still takes changes made in HubSpot', async () => {
    // Activation writes the profile's first name to HubSpot and records what the destination reported.
    const { ctx } = await createTestContext<HubSpotDestinationConfig>(destination, {
      accessToken: TOKEN,
      baseUrl: hubspot.url,
      properties: { firstName: 'firstname' },
    });
    const audience = await destination.ensureAudience!(ctx, { id: 'aud_1', activationId: 'act_1', name: 'Customers' });
    const ada = await profileBy(t, 'email:ada@loop-test.io');
    const item = destination.toItem({
      profileId: ada.id,
      identifiers: [{ type: 'email', value: 'ada@loop-test.io' }],
      traits: { firstName: 'Adeline' },
    })!;
    const written = await destination.write(
      ctx,
      { id: 'aud_1', activationId: 'act_1', name: 'Customers', ...audience },
      { adds: [item], removes: [] },
    );
    expect(written.adds).toEqual([{ ok: true }]);
    expect(await t.app.get(WrittenValuesService).recordWrites('dst_hubspot', written.written)).toBe(1);
    expect(hubspot.state.contacts.get('1')!.properties.firstname).toBe('Adeline');

    // The next sync reads the contact again (it was modified by the write) without taking the value as HubSpot's.
    const echo = await syncAndWait(t, sourceId);
    expect(echo).toMatchObject({ status: 'succeeded', stats: { read: 1, written: 1 } });
    expect(await firstNameOf('ada@loop-test.io')).toMatchObject({ value: 'Adeline', sourceId: websiteId });

    // A change made in HubSpot afterwards is an observation like any other.
    hubspot.state.contacts.update('1', { firstname: 'Ada L.' });
    expect((await syncAndWait(t, sourceId)).status).toBe('succeeded');
    expect(await firstNameOf('ada@loop-test.io')).toMatchObject({ value: 'Ada L.', sourceId });
  });
});
