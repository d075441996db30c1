import { call } from '../../support/http.js';
import { syntheticSalesforceRecords } from './salesforce.data.js';
import { startSalesforce, type SalesforceEmulator } from './salesforce.emulator.js';

const TOKEN = 'sf-token';
const auth = { authorization: `Bearer ${TOKEN}` };
const q = (soql: string) => `/services/data/v59.0/query?q=${encodeURIComponent(soql).replace(/%20/g, '+')}`;

describe('Salesforce emulator', () => {
  let sf: SalesforceEmulator;

  beforeAll(async () => {
    sf = await startSalesforce({
      tokens: [TOKEN],
      contacts: syntheticSalesforceRecords('Contact', 5_000),
      leads: syntheticSalesforceRecords('Lead', 300, { personOffset: 10_000 }),
    });
  });
  afterAll(() => sf.close());
  afterEach(() => sf.faults.clear());

  it('follows nextRecordsUrl until done, in batches of the requested size', async () => {
    let res = await call(
      sf.url,
      'GET',
      q('SELECT Id, Email, FirstName, SystemModstamp FROM Contact ORDER BY SystemModstamp, Id'),
      {
        headers: { ...auth, 'Sforce-Query-Options': 'batchSize=500' },
      },
    );
    expect(res.status).toBe(200);
    expect(res.body.totalSize).toBe(5_000);
    expect(res.body.records[0]).toEqual({
      attributes: { type: 'Contact', url: `/services/data/v59.0/sobjects/Contact/${res.body.records[0].Id}` },
      Id: expect.stringMatching(/^003[A-Za-z0-9]{15}$/),
      Email: expect.stringContaining('@example.org'),
      FirstName: expect.any(String),
      SystemModstamp: '2024-01-01T00:00:00.000+0000',
    });
    const ids = new Set<string>(res.body.records.map((r: any) => r.Id));
    let pages = 1;
    while (!res.body.done) {
      expect(res.body.nextRecordsUrl).toMatch(/^\/services\/data\/v59\.0\/query\/01g\w+-\d+$/);
      res = await call(sf.url, 'GET', res.body.nextRecordsUrl, {
        headers: { ...auth, 'Sforce-Query-Options': 'batchSize=500' },
      });
      for (const r of res.body.records) ids.add(r.Id);
      pages++;
    }
    expect(ids.size).toBe(5_000);
    expect(pages).toBe(10);
    expect(res.headers.get('sforce-limit-info')).toMatch(/^api-usage=\d+\/100000$/);
  });

  it('clamps batchSize to 200–2,000', async () => {
    const small = await call(sf.url, 'GET', q('SELECT Id FROM Contact'), {
      headers: { ...auth, 'Sforce-Query-Options': 'batchSize=10' },
    });
    expect(small.body.records).toHaveLength(200);
    const big = await call(sf.url, 'GET', q('SELECT Id FROM Contact'), { headers: auth });
    expect(big.body.records).toHaveLength(2000);
  });

  it('filters on SystemModstamp with unquoted datetime literals', async () => {
    const res = await call(
      sf.url,
      'GET',
      q(
        'SELECT Id, SystemModstamp FROM Lead WHERE SystemModstamp > 2024-01-01T00:04:00Z ORDER BY SystemModstamp ASC, Id ASC',
      ),
      { headers: auth },
    );
    expect(res.body.totalSize).toBe(300 - 241);
    expect(res.body.records[0].SystemModstamp).toBe('2024-01-01T00:04:01.000+0000');
    const offset = await call(
      sf.url,
      'GET',
      q('SELECT Id FROM Lead WHERE SystemModstamp >= 2024-01-01T01:04:00+01:00'),
      { headers: auth },
    );
    expect(offset.body.totalSize).toBe(300 - 240);
    const quoted = await call(sf.url, 'GET', q("SELECT Id FROM Lead WHERE SystemModstamp > '2024-01-01T00:04:00Z'"), {
      headers: auth,
    });
    expect(quoted.status).toBe(400);
    expect(quoted.body[0].errorCode).toBe('INVALID_FIELD');
  });

  it('sees updates and deletes made through the state API', async () => {
    const first = sf.state.contacts.table.idAt(0);
    sf.state.contacts.update(first, { Email: 'changed@example.org' }, Date.UTC(2025, 0, 1));
    const second = sf.state.contacts.table.idAt(1);
    sf.state.contacts.delete(second, Date.UTC(2025, 0, 2));
    const soql =
      'SELECT Id, Email, IsDeleted FROM Contact WHERE SystemModstamp > 2024-12-31T00:00:00Z ORDER BY SystemModstamp';
    const live = await call(sf.url, 'GET', q(soql), { headers: auth });
    expect(live.body.records.map((r: any) => [r.Id, r.Email])).toEqual([[first, 'changed@example.org']]);
    const all = await call(sf.url, 'GET', q(soql).replace('/query?', '/queryAll?'), { headers: auth });
    expect(all.body.records.map((r: any) => [r.Id, r.IsDeleted])).toEqual([
      [first, false],
      [second, true],
    ]);
  });

  it('rejects what it cannot parse with MALFORMED_QUERY, unknown fields and objects', async () => {
    const cases: Array<[string, string]> = [
      ["SELECT Id FROM Contact WHERE Email LIKE '%a'", 'MALFORMED_QUERY'],
      ['SELECT Id Contact', 'MALFORMED_QUERY'],
      ['SELECT Id, Foo FROM Contact', 'INVALID_FIELD'],
      ['SELECT Id FROM Quote', 'INVALID_TYPE'],
    ];
    for (const [soql, code] of cases) {
      const res = await call(sf.url, 'GET', q(soql), { headers: auth });
      expect(res.status).toBe(400);
      expect(res.body).toEqual([{ message: expect.any(String), errorCode: code }]);
    }
    const locator = await call(sf.url, 'GET', '/services/data/v59.0/query/01gNOPE-2000', { headers: auth });
    expect(locator.body[0].errorCode).toBe('INVALID_QUERY_LOCATOR');
  });

  it('answers 401 INVALID_SESSION_ID and 403 REQUEST_LIMIT_EXCEEDED once the daily budget is spent', async () => {
    const bad = await call(sf.url, 'GET', q('SELECT Id FROM Contact'), { headers: { authorization: 'Bearer nope' } });
    expect(bad.status).toBe(401);
    expect(bad.body).toEqual([{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
    const saved = sf.state.apiUsage.used;
    sf.state.apiUsage.used = sf.state.apiUsage.limit;
    try {
      const spent = await call(sf.url, 'GET', q('SELECT Id FROM Contact'), { headers: auth });
      expect(spent.status).toBe(403);
      expect(spent.body[0]).toMatchObject({
        errorCode: 'REQUEST_LIMIT_EXCEEDED',
        message: 'TotalRequests Limit exceeded.',
      });
      expect(spent.headers.get('sforce-limit-info')).toBe('api-usage=100000/100000');
    } finally {
      sf.state.apiUsage.used = saved;
    }
  });

  it('injects every fault kind', async () => {
    const get = () => call(sf.url, 'GET', q('SELECT Id, Email, SystemModstamp FROM Lead'), { headers: auth });
    sf.faults.inject({ kind: '429' }, { kind: '5xx' }, { kind: 'expired-token' });
    const throttled = await get();
    expect([throttled.status, throttled.body[0].errorCode]).toEqual([403, 'REQUEST_LIMIT_EXCEEDED']);
    const down = await get();
    expect([down.status, down.body[0].errorCode]).toEqual([503, 'SERVER_UNAVAILABLE']);
    const expired = await get();
    expect([expired.status, expired.body[0].errorCode]).toEqual([401, 'INVALID_SESSION_ID']);

    await call(sf.url, 'POST', '/__emulator/faults', { body: [{ kind: 'truncated' }, { kind: 'slow', delayMs: 200 }] });
    const started = performance.now();
    const truncated = await fetch(`${sf.url}${q('SELECT Id FROM Lead')}`, { headers: auth });
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    await expect(truncated.json()).rejects.toThrow(/JSON/);

    sf.faults.inject({ kind: 'malformed-record' });
    const page = await get();
    const bad = page.body.records.filter((r: any) => r.SystemModstamp === 'not-a-date');
    expect(bad).toHaveLength(1);
    expect(sf.faults.fired.at(-1)?.detail).toBe(bad[0].Id);
  });
});
