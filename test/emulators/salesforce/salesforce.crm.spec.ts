import { call } from '../../support/http.js';
import { salesforceId, syntheticSalesforceActivity, syntheticSalesforceRecords } from './salesforce.data.js';
import { startSalesforce, type SalesforceEmulator } from './salesforce.emulator.js';

const TOKEN = 'sf-token';
const auth = { authorization: `Bearer ${TOKEN}` };
const V = '/services/data/v62.0';
const q = (soql: string, kind = 'query') => `${V}/${kind}?q=${encodeURIComponent(soql).replace(/%20/g, '+')}`;

describe('Salesforce emulator: CRM objects, Bulk API 2.0 and sObject Collections', () => {
  let sf: SalesforceEmulator;
  const activity = syntheticSalesforceActivity(300);

  beforeAll(async () => {
    sf = await startSalesforce({
      tokens: [TOKEN],
      contacts: syntheticSalesforceRecords('Contact', 300),
      opportunities: activity.opportunities,
      contactRoles: activity.contactRoles,
      cases: activity.cases,
      bulkPollsBeforeComplete: 1,
    });
  });
  afterAll(() => sf.close());
  afterEach(() => sf.faults.clear());

  it('answers parent-to-child subqueries with nested results, null when there are none', async () => {
    const res = await call(
      sf.url,
      'GET',
      q(
        'SELECT Id, Amount, (SELECT ContactId, Role FROM OpportunityContactRoles) FROM Opportunity ORDER BY SystemModstamp',
      ),
      { headers: auth },
    );
    expect(res.status).toBe(200);
    const first = res.body.records[0];
    const roles = activity.contactRoles.filter((r) => r.OpportunityId === first.Id);
    expect(first.OpportunityContactRoles).toEqual({
      totalSize: roles.length,
      done: true,
      records: roles.map((r) => ({
        attributes: { type: 'OpportunityContactRole', url: `${V}/sobjects/OpportunityContactRole/${r.Id}` },
        ContactId: r.ContactId,
        Role: r.Role,
      })),
    });
    const contact = await call(
      sf.url,
      'GET',
      q(`SELECT Id, (SELECT Id FROM Cases) FROM Contact WHERE Id = '${salesforceId('Contact', 1)}'`),
      {
        headers: auth,
      },
    );
    expect(contact.body.records[0].Cases).toBeNull();
    const bad = await call(sf.url, 'GET', q('SELECT Id, (SELECT Id FROM Contacts) FROM Opportunity'), {
      headers: auth,
    });
    expect([bad.status, bad.body[0].errorCode]).toEqual([400, 'INVALID_TYPE']);
  });

  it('filters with typed literals and IN lists, refusing literals of the wrong type', async () => {
    const open = activity.cases.filter((c) => c.IsClosed === false);
    const ids = [...new Set(open.map((c) => String(c.ContactId)))].slice(0, 5);
    const res = await call(
      sf.url,
      'GET',
      q(
        `SELECT ContactId FROM Case WHERE IsClosed = false AND ContactId IN (${ids.map((id) => `'${id}'`).join(', ')})`,
      ),
      { headers: auth },
    );
    expect(res.body.records.map((r: any) => r.ContactId).sort()).toEqual(
      open
        .filter((c) => ids.includes(String(c.ContactId)))
        .map((c) => c.ContactId)
        .sort(),
    );
    const quotedBoolean = await call(sf.url, 'GET', q("SELECT Id FROM Case WHERE IsClosed = 'false'"), {
      headers: auth,
    });
    expect(quotedBoolean.body[0]).toMatchObject({
      errorCode: 'INVALID_FIELD',
      message: expect.stringMatching(/type boolean/),
    });
    const unquoted = await call(sf.url, 'GET', q('SELECT Id FROM Case WHERE Priority = 5'), { headers: auth });
    expect(unquoted.body[0]).toMatchObject({
      errorCode: 'INVALID_FIELD',
      message: expect.stringMatching(/enclosed in quotes/),
    });
  });

  it('runs a Bulk API 2.0 query job through its states and pages the CSV by locator', async () => {
    const created = await call(sf.url, 'POST', `${V}/jobs/query`, {
      headers: auth,
      body: { operation: 'query', query: 'SELECT Id, Name, Amount, IsWon, SystemModstamp FROM Opportunity' },
    });
    expect(created.body).toMatchObject({
      state: 'UploadComplete',
      operation: 'query',
      object: 'Opportunity',
      contentType: 'CSV',
      lineEnding: 'LF',
      columnDelimiter: 'COMMA',
      apiVersion: 62,
    });
    const job = `${V}/jobs/query/${created.body.id}`;
    const early = await call(sf.url, 'GET', `${job}/results`, { headers: auth });
    expect([early.status, early.body[0].errorCode]).toEqual([400, 'API_ERROR']);
    expect((await call(sf.url, 'GET', job, { headers: auth })).body.state).toBe('InProgress');
    expect((await call(sf.url, 'GET', job, { headers: auth })).body).toMatchObject({
      state: 'JobComplete',
      numberRecordsProcessed: 100,
    });

    const first = await fetch(`${sf.url}${job}/results?maxRecords=60`, { headers: auth });
    expect(first.headers.get('content-type')).toBe('text/csv');
    expect(first.headers.get('sforce-numberofrecords')).toBe('60');
    const locator = first.headers.get('sforce-locator')!;
    const text = await first.text();
    const lines = text.split('\n');
    expect(lines[0]).toBe('"Id","Name","Amount","IsWon","SystemModstamp"');
    expect(lines).toHaveLength(62); // header, 60 rows, the empty string after the last LF
    const o = activity.opportunities[0];
    expect(lines[1]).toBe(
      `"${o.Id}","${String(o.Name)}","${String(o.Amount)}","${String(o.IsWon)}","${new Date(Date.parse(String(o.SystemModstamp).replace('+0000', 'Z'))).toISOString()}"`,
    );
    const last = await fetch(`${sf.url}${job}/results?maxRecords=60&locator=${locator}`, { headers: auth });
    expect([last.headers.get('sforce-numberofrecords'), last.headers.get('sforce-locator')]).toEqual(['40', 'null']);

    const otherVersion = await call(sf.url, 'GET', `${job.replace('v62.0', 'v61.0')}/results`, { headers: auth });
    expect(otherVersion.status).toBe(409);
    const badLocator = await call(sf.url, 'GET', `${job}/results?locator=bm9wZQ`, { headers: auth });
    expect([badLocator.status, badLocator.body[0].errorCode]).toEqual([400, 'INVALIDREQUEST']);
    const badMax = await call(sf.url, 'GET', `${job}/results?maxRecords=0`, { headers: auth });
    expect(badMax.status).toBe(400);
    expect((await call(sf.url, 'DELETE', job, { headers: auth })).status).toBe(204);
    expect((await call(sf.url, 'GET', job, { headers: auth })).status).toBe(404);
  });

  it('refuses what Bulk API 2.0 query does not take, and honours CRLF line endings', async () => {
    const refuse = async (body: unknown) =>
      (await call(sf.url, 'POST', `${V}/jobs/query`, { headers: auth, body })).body[0].errorCode;
    expect(await refuse({ operation: 'query', query: 'SELECT Id FROM Contact ORDER BY Id' })).toBe('API_ERROR');
    expect(await refuse({ operation: 'query', query: 'SELECT Id, (SELECT Id FROM Cases) FROM Contact' })).toBe(
      'API_ERROR',
    );
    expect(await refuse({ operation: 'insert', query: 'SELECT Id FROM Contact' })).toBe('INVALIDJOB');
    expect(await refuse({ operation: 'query', query: 'SELECT Nope FROM Contact' })).toBe('INVALID_FIELD');
    const created = await call(sf.url, 'POST', `${V}/jobs/query`, {
      headers: auth,
      body: { operation: 'queryAll', query: 'SELECT Id, CaseNumber FROM Case', lineEnding: 'CRLF' },
    });
    const job = `${V}/jobs/query/${created.body.id}`;
    await call(sf.url, 'GET', job, { headers: auth });
    await call(sf.url, 'GET', job, { headers: auth });
    const csv = await (await fetch(`${sf.url}${job}/results`, { headers: auth })).text();
    expect(csv.split('\r\n')).toHaveLength(activity.cases.length + 2);
  });

  it('enforces the sObject Collections contract: 200 records, types, per-record SaveResults', async () => {
    const tooMany = await call(sf.url, 'PATCH', `${V}/composite/sobjects`, {
      headers: auth,
      body: {
        records: Array.from({ length: 201 }, () => ({
          attributes: { type: 'Contact' },
          id: salesforceId('Contact', 1),
        })),
      },
    });
    expect([tooMany.status, tooMany.body[0].errorCode]).toEqual([400, 'EXCEEDED_ID_LIMIT']);
    const untyped = await call(sf.url, 'PATCH', `${V}/composite/sobjects`, {
      headers: auth,
      body: { records: [{ id: 'x' }] },
    });
    expect(untyped.body[0]).toEqual({ errorCode: 'INVALID_TYPE', message: 'Must send a concrete entity type.' });
    const unknown = await call(sf.url, 'PATCH', `${V}/composite/sobjects`, {
      headers: auth,
      body: { records: [{ attributes: { type: 'Contact' }, id: salesforceId('Contact', 1), Nope__c: 1 }] },
    });
    expect(unknown.body[0].errorCode).toBe('INVALID_FIELD');
    const mixed = await call(sf.url, 'PATCH', `${V}/composite/sobjects`, {
      headers: auth,
      body: {
        allOrNone: false,
        records: [
          { attributes: { type: 'Contact' }, id: salesforceId('Contact', 1), Title: 'Chief' },
          { attributes: { type: 'Contact' }, id: '003nope', Title: 'x' },
          { attributes: { type: 'Contact' }, id: salesforceId('Contact', 2), Name: 'read only' },
          { attributes: { type: 'Contact' }, id: salesforceId('Contact', 3), Email: 'not-an-email' },
        ],
      },
    });
    expect(mixed.status).toBe(200);
    expect(mixed.body.map((r: any) => r.success || r.errors[0].statusCode)).toEqual([
      true,
      'MALFORMED_ID',
      'INVALID_FIELD_FOR_INSERT_UPDATE',
      'INVALID_EMAIL_ADDRESS',
    ]);
    expect(sf.state.contacts.get(salesforceId('Contact', 1))).toMatchObject({ Title: 'Chief' });
    const rolledBack = await call(sf.url, 'PATCH', `${V}/composite/sobjects`, {
      headers: auth,
      body: {
        allOrNone: true,
        records: [
          { attributes: { type: 'Contact' }, id: salesforceId('Contact', 4), Title: 'Kept?' },
          { attributes: { type: 'Contact' }, id: '003nope' },
        ],
      },
    });
    expect(rolledBack.body[0].errors[0].statusCode).toBe('ALL_OR_NONE_OPERATION_ROLLED_BACK');
    expect(sf.state.contacts.get(salesforceId('Contact', 4))!.Title).not.toBe('Kept?');
    const notExternal = await call(sf.url, 'PATCH', `${V}/composite/sobjects/Contact/Email`, {
      headers: auth,
      body: { records: [{ attributes: { type: 'Contact' }, Email: 'a@b.io' }] },
    });
    expect([notExternal.status, notExternal.body[0].errorCode]).toEqual([400, 'INVALID_FIELD']);
  });
});
