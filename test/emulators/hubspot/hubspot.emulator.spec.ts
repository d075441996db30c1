import { createHmac } from 'node:crypto';
import { call } from '../../support/http.js';
import { syntheticHubSpotCompanies, syntheticHubSpotContacts, type HubSpotObject } from './hubspot.data.js';
import { startHubSpot, type HubSpotEmulator } from './hubspot.emulator.js';
import { signHubSpotWebhook } from './webhook.js';

const TOKEN = 'test-token';
const auth = { authorization: `Bearer ${TOKEN}` };
const at = (i: number) => new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString();

describe('HubSpot emulator', () => {
  let hs: HubSpotEmulator;

  beforeAll(async () => {
    hs = await startHubSpot({
      tokens: [TOKEN],
      contacts: syntheticHubSpotContacts(25_000, { companies: 10, archivedEvery: 1_000 }),
      companies: syntheticHubSpotCompanies(10),
      rateLimit: false,
      searchPerSecond: false,
    });
  });
  afterAll(() => hs.close());
  afterEach(() => hs.faults.clear());

  it('pages contacts to the end with the after cursor, excluding archived ones', async () => {
    let after: string | undefined;
    const ids = new Set<string>();
    let pages = 0;
    do {
      const res = await call(hs.url, 'GET', `/crm/v3/objects/contacts?limit=100${after ? `&after=${after}` : ''}`, {
        headers: auth,
      });
      expect(res.status).toBe(200);
      for (const r of res.body.results) ids.add(r.id);
      after = res.body.paging?.next?.after;
      if (after) expect(res.body.paging.next.link).toContain(`after=${after}`);
      pages++;
    } while (after);
    expect(ids.size).toBe(25_000 - 25);
    expect(pages).toBe(250);
    expect(ids.has('1000')).toBe(false);
  });

  it('returns the requested properties, always with hs_object_id, createdate and lastmodifieddate', async () => {
    const res = await call(hs.url, 'GET', '/crm/v3/objects/contacts?limit=2&properties=email,phone', { headers: auth });
    expect(res.body.results[0]).toEqual({
      id: '1',
      properties: {
        email: expect.stringMatching(/@example\.org$/),
        phone: expect.stringMatching(/^\+1202/),
        createdate: at(0),
        lastmodifieddate: at(0),
        hs_object_id: '1',
      },
      createdAt: at(0),
      updatedAt: at(0),
      archived: false,
    });
    const withCompanies = await call(hs.url, 'GET', '/crm/v3/objects/contacts?limit=1&associations=companies', {
      headers: auth,
    });
    expect(withCompanies.body.results[0].associations).toEqual({
      companies: { results: [{ id: '1', type: 'contact_to_company' }] },
    });
    const companies = await call(hs.url, 'POST', '/crm/v3/objects/companies/batch/read', {
      headers: auth,
      body: { inputs: [{ id: '1' }, { id: '999' }], properties: ['name'] },
    });
    expect(companies.status).toBe(207);
    expect(companies.body.results).toHaveLength(1);
    expect(companies.body.results[0].properties.name).toBe('Acme 1');
    expect(companies.body.errors[0].context.ids).toEqual(['999']);
  });

  it('lists archived contacts only with archived=true', async () => {
    const res = await call(hs.url, 'GET', '/crm/v3/objects/contacts?limit=100&archived=true', { headers: auth });
    expect(res.body.results).toHaveLength(25);
    expect(res.body.results.every((r: any) => r.archived === true && r.archivedAt)).toBe(true);
    expect(res.body.paging).toBeUndefined();
  });

  it('rejects a limit above 100 and a search limit above 200 with a VALIDATION_ERROR', async () => {
    const list = await call(hs.url, 'GET', '/crm/v3/objects/contacts?limit=101', { headers: auth });
    expect(list.status).toBe(400);
    expect(list.body).toMatchObject({
      status: 'error',
      category: 'VALIDATION_ERROR',
      correlationId: expect.any(String),
    });
    const search = await call(hs.url, 'POST', '/crm/v3/objects/contacts/search', {
      headers: auth,
      body: { limit: 201 },
    });
    expect(search.status).toBe(400);
    expect(search.body.category).toBe('VALIDATION_ERROR');
  });

  it('answers 401 INVALID_AUTHENTICATION without a token or with an unknown one', async () => {
    for (const headers of [{}, { authorization: 'Bearer nope' }] as Array<Record<string, string>>) {
      const res = await call(hs.url, 'GET', '/crm/v3/objects/contacts', { headers });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ status: 'error', category: 'INVALID_AUTHENTICATION' });
    }
  });

  it('searches by lastmodifieddate ascending, GT/GTE/LT/LTE, with total and offset paging', async () => {
    const search = (body: object) => call(hs.url, 'POST', '/crm/v3/objects/contacts/search', { headers: auth, body });
    const sorts = [{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' }];
    const gte = await search({
      filterGroups: [{ filters: [{ propertyName: 'lastmodifieddate', operator: 'GTE', value: at(24_900) }] }],
      sorts,
      properties: ['email'],
      limit: 200,
    });
    expect(gte.status).toBe(200);
    expect(gte.body.total).toBe(100 - 1); // contact 25,000 (index 24,999) is archived
    expect(gte.body.results[0].id).toBe('24901');
    expect(gte.body.paging).toBeUndefined();
    const gt = await search({
      filterGroups: [
        {
          filters: [
            { propertyName: 'lastmodifieddate', operator: 'GT', value: String(Date.parse(at(100))) },
            { propertyName: 'lastmodifieddate', operator: 'LTE', value: at(300) },
          ],
        },
      ],
      sorts,
      limit: 150,
    });
    expect(gt.body.total).toBe(200);
    expect(gt.body.results.map((r: any) => r.id).slice(0, 2)).toEqual(['102', '103']);
    expect(gt.body.paging).toEqual({ next: { after: '150' } });
    const page2 = await search({
      filterGroups: [
        {
          filters: [
            { propertyName: 'lastmodifieddate', operator: 'GT', value: at(100) },
            { propertyName: 'lastmodifieddate', operator: 'LT', value: at(301) },
          ],
        },
      ],
      sorts,
      limit: 150,
      after: '150',
    });
    expect(page2.body.results).toHaveLength(50);
    expect(page2.body.results.at(-1).id).toBe('301');
    expect(page2.body.paging).toBeUndefined();
    const byEmail = await search({
      filterGroups: [
        { filters: [{ propertyName: 'email', operator: 'EQ', value: gte.body.results[0].properties.email }] },
      ],
    });
    expect(byEmail.body.results.map((r: any) => r.id)).toEqual(['24901']);
  });

  it('refuses to page a search beyond 10,000 results', async () => {
    const body = (after: string) => ({
      filterGroups: [{ filters: [{ propertyName: 'lastmodifieddate', operator: 'GTE', value: '0' }] }],
      sorts: [{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' }],
      limit: 200,
      after,
    });
    const last = await call(hs.url, 'POST', '/crm/v3/objects/contacts/search', { headers: auth, body: body('9800') });
    expect(last.status).toBe(200);
    expect(last.body.total).toBe(25_000 - 25);
    expect(last.body.paging.next.after).toBe('10000');
    const beyond = await call(hs.url, 'POST', '/crm/v3/objects/contacts/search', {
      headers: auth,
      body: body('10000'),
    });
    expect(beyond.status).toBe(400);
    expect(beyond.body.category).toBe('VALIDATION_ERROR');
  });

  it('moves updated contacts to the end of the modification order and archives on demand', async () => {
    const updated = hs.state.contacts.update('5', { firstname: 'Renamed' }, Date.UTC(2025, 0, 1));
    expect(updated.properties.lastmodifieddate).toBe('2025-01-01T00:00:00.000Z');
    const res = await call(hs.url, 'POST', '/crm/v3/objects/contacts/search', {
      headers: auth,
      body: {
        filterGroups: [
          { filters: [{ propertyName: 'lastmodifieddate', operator: 'GTE', value: '2024-12-31T00:00:00Z' }] },
        ],
        sorts: [{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' }],
        properties: ['firstname'],
      },
    });
    expect(res.body.results.map((r: any) => [r.id, r.properties.firstname])).toEqual([['5', 'Renamed']]);
    hs.state.contacts.archive('5', Date.UTC(2025, 0, 2));
    const archived = await call(hs.url, 'GET', '/crm/v3/objects/contacts/5?archived=true', { headers: auth });
    expect(archived.body).toMatchObject({ id: '5', archived: true, archivedAt: '2025-01-02T00:00:00.000Z' });
    const created = hs.state.contacts.create({ email: 'new@example.org' });
    expect(created.id).toBe('25001');
  });

  describe('faults', () => {
    it('arms faults over HTTP and answers the vendor 429 body', async () => {
      const armed = await call(hs.url, 'POST', '/__emulator/faults', {
        body: { kind: '429', times: 2, path: 'contacts$' },
      });
      expect(armed.status).toBe(201);
      for (let i = 0; i < 2; i++) {
        const res = await call(hs.url, 'GET', '/crm/v3/objects/contacts', { headers: auth });
        expect(res.status).toBe(429);
        expect(res.body).toMatchObject({ errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING' });
      }
      expect((await call(hs.url, 'GET', '/crm/v3/objects/contacts', { headers: auth })).status).toBe(200);
      const bad = await call(hs.url, 'POST', '/__emulator/faults', { body: { kind: 'teapot' } });
      expect(bad.status).toBe(400);
    });

    it('5xx, expired token, slow, truncated and malformed record', async () => {
      hs.faults.inject({ kind: '5xx', status: 502 });
      expect((await call(hs.url, 'GET', '/crm/v3/objects/contacts', { headers: auth })).status).toBe(502);

      hs.faults.inject({ kind: 'expired-token' });
      const expired = await call(hs.url, 'GET', '/crm/v3/objects/contacts', { headers: auth });
      expect(expired.status).toBe(401);
      expect(expired.body.category).toBe('EXPIRED_AUTHENTICATION');

      hs.faults.inject({ kind: 'slow', delayMs: 300 });
      const started = performance.now();
      expect((await call(hs.url, 'GET', '/crm/v3/objects/contacts', { headers: auth })).status).toBe(200);
      expect(performance.now() - started).toBeGreaterThanOrEqual(290);

      hs.faults.inject({ kind: 'truncated' });
      const truncated = await fetch(`${hs.url}/crm/v3/objects/contacts?limit=5`, { headers: auth });
      expect(truncated.status).toBe(200);
      await expect(truncated.json()).rejects.toThrow(/JSON/);

      hs.faults.inject({ kind: 'malformed-record', path: '/search$' });
      const page = await call(hs.url, 'POST', '/crm/v3/objects/contacts/search', {
        headers: auth,
        body: { sorts: [{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' }], limit: 10 },
      });
      const bad = page.body.results.filter((r: any) => r.properties === null);
      expect(bad).toHaveLength(1);
      expect(hs.faults.fired.at(-1)).toMatchObject({ kind: 'malformed-record', detail: bad[0].id });
      expect(hs.requests.at(-1)).toMatchObject({
        method: 'POST',
        path: '/crm/v3/objects/contacts/search',
        status: 200,
      });
    });
  });
});

describe('HubSpot emulator rate limits', () => {
  it('sends X-HubSpot-RateLimit-* headers and answers 429 with the policy once the window is spent', async () => {
    const contacts: HubSpotObject[] = [
      { id: '1', properties: { email: 'a@example.org' }, createdAt: at(0), updatedAt: at(0), archived: false },
    ];
    const hs = await startHubSpot({
      tokens: [TOKEN],
      contacts,
      rateLimit: { max: 5, secondly: 100 },
      searchPerSecond: 2,
    });
    try {
      const first = await call(hs.url, 'GET', '/crm/v3/objects/contacts', { headers: auth });
      expect(first.headers.get('x-hubspot-ratelimit-max')).toBe('5');
      expect(first.headers.get('x-hubspot-ratelimit-remaining')).toBe('4');
      expect(first.headers.get('x-hubspot-ratelimit-interval-milliseconds')).toBe('10000');
      expect(first.headers.get('x-hubspot-ratelimit-daily')).toBe('1000000');
      for (let i = 0; i < 4; i++) await call(hs.url, 'GET', '/crm/v3/objects/contacts', { headers: auth });
      const limited = await call(hs.url, 'GET', '/crm/v3/objects/contacts', { headers: auth });
      expect(limited.status).toBe(429);
      expect(limited.body).toMatchObject({
        status: 'error',
        message: 'You have reached your ten_secondly_rolling limit.',
        errorType: 'RATE_LIMIT',
        policyName: 'TEN_SECONDLY_ROLLING',
      });
      expect(limited.headers.get('x-hubspot-ratelimit-remaining')).toBe('0');

      const search = () => call(hs.url, 'POST', '/crm/v3/objects/contacts/search', { headers: auth, body: {} });
      const answers = [await search(), await search(), await search()];
      expect(answers.map((a) => a.status)).toEqual([200, 200, 429]);
      expect(answers[2].body.policyName).toBe('SECONDLY');
      expect(answers[0].headers.get('x-hubspot-ratelimit-max')).toBeNull();
      expect(hs.state.throttled).toMatchObject({ TEN_SECONDLY_ROLLING: 1, SEARCH: 1 });
    } finally {
      await hs.close();
    }
  });

  it('serves 200,000 synthetic contacts lazily', async () => {
    const before = process.memoryUsage().heapUsed;
    const hs = await startHubSpot({ tokens: [TOKEN], contacts: syntheticHubSpotContacts(200_000), rateLimit: false });
    try {
      const res = await call(hs.url, 'POST', '/crm/v3/objects/contacts/search', {
        headers: auth,
        body: {
          filterGroups: [{ filters: [{ propertyName: 'lastmodifieddate', operator: 'GTE', value: at(199_950) }] }],
          sorts: [{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' }],
          limit: 100,
        },
      });
      expect(res.body.total).toBe(50);
      expect(hs.state.contacts.count).toBe(200_000);
      expect(process.memoryUsage().heapUsed - before).toBeLessThan(150 * 2 ** 20);
    } finally {
      await hs.close();
    }
  });
});

describe('HubSpot webhook signature v3', () => {
  it('is the base64 HMAC-SHA256 of method + uri + body + timestamp', () => {
    const body = '[{"objectId":1}]';
    const headers = signHubSpotWebhook({
      secret: 's3cret',
      method: 'post',
      uri: 'https://hub.example/hooks',
      body,
      timestamp: 1700000000000,
    });
    const expected = createHmac('sha256', 's3cret')
      .update(`POSThttps://hub.example/hooks${body}1700000000000`)
      .digest('base64');
    expect(headers['X-HubSpot-Signature-v3']).toBe(expected);
    expect(headers['X-HubSpot-Request-Timestamp']).toBe('1700000000000');
  });
});
