import { startTestApp, type TestApp } from '../support/app.js';
import { call } from '../support/http.js';
import { hubSpotContactEvent, signHubSpotWebhook } from '../emulators/hubspot/webhook.js';
import { startHubSpot, type HubSpotEmulator } from '../emulators/hubspot/hubspot.emulator.js';
import { until } from '../support/wait.js';

const TOKEN = 'pat-webhook-test';
const SECRET = 'hubspot-app-client-secret';
const modified = '2026-04-01T10:00:00.000Z';

/** The HubSpot connector in real time: signed v3 webhooks update the profiles the scheduled sync built. */
describe('hubspot webhooks through the hub (PostgreSQL)', () => {
  let t: TestApp;
  let hubspot: HubSpotEmulator;
  let sourceId: string;

  beforeAll(async () => {
    hubspot = await startHubSpot({
      tokens: [TOKEN],
      contacts: [
        {
          id: '501',
          properties: {
            hs_object_id: '501',
            email: 'nora@crm-mail.net',
            firstname: 'Nora',
            lastname: 'Lind',
            lastmodifieddate: modified,
            createdate: modified,
          },
          createdAt: modified,
          updatedAt: modified,
          archived: false,
        },
      ],
    });
    t = await startTestApp({ label: 'hubspot-webhook' });
    const created = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: {
        name: 'crm',
        connector: 'hubspot',
        config: { baseUrl: hubspot.url, accessToken: TOKEN, clientSecret: SECRET, companyDetails: false },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.config.clientSecret).toBe('********');
    sourceId = created.body.id as string;
    const started = await call(t.url, 'POST', `/v1/sources/${sourceId}/sync`, { headers: t.auth });
    const run = await until(async () => {
      const r = await call(t.url, 'GET', `/v1/runs/${started.body.runId}`, { headers: t.auth });
      return ['succeeded', 'partial', 'failed'].includes(r.body.status) ? r.body : undefined;
    });
    expect(run.status).toBe('succeeded');
  });
  afterAll(async () => {
    await t.close();
    await hubspot.close();
  });

  const profile = async (identifier: string): Promise<any> => {
    const found = await call(t.url, 'GET', `/v1/profiles?identifier=${encodeURIComponent(identifier)}`, {
      headers: t.auth,
    });
    return found.body.data[0]
      ? (await call(t.url, 'GET', `/v1/profiles/${found.body.data[0].id}`, { headers: t.auth })).body
      : undefined;
  };

  it('applies a signed property change to the profile the sync built, with the same trait names and external id', async () => {
    const before = await profile('email:nora@crm-mail.net');
    const uri = `${t.url}/v1/webhooks/${sourceId}`;
    const body = JSON.stringify([
      hubSpotContactEvent({
        objectId: 501,
        subscriptionType: 'contact.propertyChange',
        propertyName: 'firstname',
        propertyValue: 'Eleanor',
        occurredAt: Date.parse('2026-05-01T00:00:00Z'),
      }),
      hubSpotContactEvent({
        objectId: 501,
        subscriptionType: 'contact.propertyChange',
        propertyName: 'email',
        propertyValue: 'Eleanor.Lind@crm-mail.net',
        occurredAt: Date.parse('2026-05-01T00:00:01Z'),
      }),
    ]);
    const res = await fetch(uri, {
      method: 'POST',
      headers: { ...signHubSpotWebhook({ secret: SECRET, method: 'POST', uri, body }) },
      body,
    });
    expect(res.status).toBe(200);
    const after = await profile('email:eleanor.lind@crm-mail.net');
    expect(after.id).toBe(before.id);
    expect(JSON.stringify(after.traits)).toContain('Eleanor');
    expect(after.identifiers.map((i: { type: string; value: string }) => `${i.type}:${i.value}`)).toContain(
      `external_id:${sourceId}:contact:501`,
    );
  });

  it('refuses forged, re-addressed and replayed deliveries', async () => {
    const uri = `${t.url}/v1/webhooks/${sourceId}`;
    const body = JSON.stringify([
      hubSpotContactEvent({
        objectId: 501,
        subscriptionType: 'contact.propertyChange',
        propertyName: 'lastname',
        propertyValue: 'Forged',
      }),
    ]);
    for (const headers of [
      signHubSpotWebhook({ secret: 'not-the-secret', method: 'POST', uri, body }),
      signHubSpotWebhook({ secret: SECRET, method: 'POST', uri: `${t.url}/v1/webhooks/src_other`, body }),
      signHubSpotWebhook({ secret: SECRET, method: 'POST', uri, body, timestamp: Date.now() - 6 * 60_000 }),
    ]) {
      expect((await fetch(uri, { method: 'POST', headers: { ...headers }, body })).status).toBe(401);
    }
    expect(JSON.stringify((await profile('email:nora@crm-mail.net')).traits)).not.toContain('Forged');
  });
});
