import { startTestApp, type TestApp } from '../support/app.js';
import { call } from '../support/http.js';
import {
  contactsAtDomain,
  startHubSpot,
  syntheticHubSpotCompanies,
  syntheticHubSpotContacts,
  type HubSpotEmulator,
} from '../emulators/index.js';
import { until } from '../support/wait.js';

const TOKEN = 'hs-hub-token';
const CONTACTS = 150;
const FINISHED = ['succeeded', 'partial', 'failed', 'cancelled'];

/** The synthetic people with a real-looking domain: the default identity rules block example.org as a placeholder. */
function contacts(count: number) {
  return contactsAtDomain(syntheticHubSpotContacts(count, { companies: 5 }), 'plexus-test.io');
}

describe('HubSpot through the hub: scheduled full sync, incremental changes, archives, faults', () => {
  let t: TestApp;
  let hubspot: HubSpotEmulator;
  let sourceId: string;

  const runSync = async (): Promise<any> => {
    const started = await call(t.url, 'POST', `/v1/sources/${sourceId}/sync`, { headers: t.auth });
    expect(started.status).toBe(202);
    return until(async () => {
      const r = await call(t.url, 'GET', `/v1/runs/${started.body.runId}`, { headers: t.auth });
      return FINISHED.includes(r.body.status) ? r.body : undefined;
    });
  };
  const profileOf = async (identifier: string): Promise<any> => {
    const found = await call(t.url, 'GET', `/v1/profiles?identifier=${encodeURIComponent(identifier)}`, {
      headers: t.auth,
    });
    expect(found.status).toBe(200);
    return found.body.data[0];
  };

  beforeAll(async () => {
    hubspot = await startHubSpot({
      tokens: [TOKEN],
      contacts: contacts(CONTACTS),
      companies: syntheticHubSpotCompanies(5),
      rateLimit: { max: 1000 },
    });
    t = await startTestApp({ label: 'hubspot-hub' });
  });
  afterAll(async () => {
    await t?.close();
    await hubspot?.close();
  });

  it('creates the source over REST and its schedule runs the first, full sync', async () => {
    const created = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: {
        name: 'HubSpot CRM',
        connector: 'hubspot',
        config: {
          accessToken: TOKEN,
          baseUrl: hubspot.url,
          pageSize: 50,
          userIdProperty: 'customer_id',
          requestsPerSecond: 50,
        },
        schedule: { everySeconds: 1 },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.config.accessToken).toBe('********');
    sourceId = created.body.id;
    expect((await call(t.url, 'POST', `/v1/sources/${sourceId}/check`, { headers: t.auth })).body).toEqual({
      ok: true,
    });

    const first = await until(async () => {
      const r = await call(t.url, 'GET', `/v1/sources/${sourceId}/runs`, { headers: t.auth });
      return r.body.data.find((run: any) => run.trigger === 'schedule' && FINISHED.includes(run.status));
    });
    // Stop the schedule so the next runs are the test's own; wait for a tick that may have started.
    await call(t.url, 'PATCH', `/v1/sources/${sourceId}`, { headers: t.auth, body: { schedule: null } });
    await until(async () => {
      const r = await call(t.url, 'GET', `/v1/sources/${sourceId}/runs`, { headers: t.auth });
      return r.body.data.every((run: any) => FINISHED.includes(run.status));
    });
    expect(first).toMatchObject({
      status: 'succeeded',
      stats: { read: CONTACTS, written: CONTACTS, quarantined: 0, deleted: 0 },
    });

    const contact = hubspot.state.contacts.get('1')!;
    const profile = await profileOf(`email:${contact.properties.email!}`);
    expect(profile).toBeDefined();
    expect(await profileOf(`external_id:${sourceId}:contact:1`)).toMatchObject({ id: profile.id });
    expect(await profileOf('user_id:cus_1')).toMatchObject({ id: profile.id });
    expect(JSON.stringify(profile)).toContain('acme1.example.com');
  });

  it('reads only what changed, and detaches archived contacts', async () => {
    // Whatever the schedule read before it stopped, the next run starts from the committed checkpoint.
    expect((await runSync()).stats).toMatchObject({ read: 0, deleted: 0 });
    hubspot.state.contacts.update('3', { email: 'renamed.three@plexus-test.io', lifecyclestage: 'customer' });
    hubspot.state.contacts.archive('4');
    const run = await runSync();
    expect(run).toMatchObject({ status: 'succeeded', stats: { read: 1, written: 1, quarantined: 0, deleted: 1 } });
    const three = await profileOf('email:renamed.three@plexus-test.io');
    expect(await profileOf(`external_id:${sourceId}:contact:3`)).toMatchObject({ id: three.id });
    expect(await profileOf(`external_id:${sourceId}:contact:4`)).toBeUndefined();
    const listSearches = hubspot.requests.filter((r) => r.path.endsWith('/search'));
    expect(listSearches.length).toBeGreaterThan(0);
  });

  it('quarantines a malformed contact with its reason and finishes the run as partial', async () => {
    hubspot.state.contacts.update('10', { firstname: 'Ten' });
    hubspot.state.contacts.update('11', { firstname: 'Eleven' });
    hubspot.state.contacts.update('12', { firstname: 'Twelve' });
    hubspot.faults.inject({ kind: 'malformed-record', times: 1, path: '/search$' });
    const run = await runSync();
    const broken = hubspot.faults.fired.find((f) => f.kind === 'malformed-record')!.detail!;
    expect(run).toMatchObject({ status: 'partial', stats: { read: 3, written: 2, quarantined: 1 } });
    const quarantine = await call(t.url, 'GET', `/v1/sources/${sourceId}/quarantine`, { headers: t.auth });
    expect(quarantine.body.data).toEqual([
      expect.objectContaining({ reason: `mapping failed: contact ${broken}: properties are missing (null)` }),
    ]);
  });

  it('fails the run as a config failure when the token expires', async () => {
    hubspot.faults.inject({ kind: 'expired-token', times: 1 });
    const run = await runSync();
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ type: 'config', message: expect.stringMatching(/accessToken.*private app/) });
    expect(JSON.stringify(run)).not.toContain(TOKEN);
  });
});
