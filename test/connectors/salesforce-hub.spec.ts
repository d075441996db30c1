import { startTestApp, type TestApp } from '../support/app.js';
import { call } from '../support/http.js';
import {
  lazyRecords,
  salesforceId,
  startSalesforce,
  syntheticSalesforceActivity,
  syntheticSalesforceRecords,
  type SalesforceEmulator,
} from '../emulators/index.js';
import { until } from '../support/wait.js';

const TOKEN = 'sf-hub-token';
const CONTACTS = 120;
const LEADS = 80;
const FINISHED = ['succeeded', 'partial', 'failed', 'cancelled'];

/** Synthetic rows with a real-looking domain: the default identity rules block example.org as a placeholder. */
function rows(object: 'Contact' | 'Lead', count: number, personOffset = 0) {
  const base = syntheticSalesforceRecords(object, count, { personOffset });
  return lazyRecords(count, (i) => {
    const row = base.at(i);
    return { ...row, Email: String(row.Email).replace('@example.org', '@plexus-test.io') };
  });
}

/** Sales and support history of the Contacts, dated over the last weeks, with the same real-looking addresses. */
const activity = syntheticSalesforceActivity(CONTACTS, { startMs: Date.now() - 30 * 86_400_000 });
const emailMessages = activity.emailMessages.map((m) => ({
  ...m,
  FromAddress: String(m.FromAddress).replace('@example.org', '@plexus-test.io'),
  ToAddress: String(m.ToAddress).replace('@example.org', '@plexus-test.io'),
}));
const ACTIVITY_ROWS =
  activity.opportunities.length + activity.cases.length + activity.tasks.length + activity.emailMessages.length;

describe('Salesforce through the hub: scheduled full sync, incremental changes, deletes, faults', () => {
  let t: TestApp;
  let salesforce: SalesforceEmulator;
  let sourceId: string;

  const runSync = async (): Promise<any> => {
    const started = await call(t.url, 'POST', `/v1/sources/${sourceId}/sync`, { headers: t.auth });
    expect(started.status).toBe(202);
    return until(async () => {
      const r = await call(t.url, 'GET', `/v1/runs/${started.body.runId}`, { headers: t.auth });
      return FINISHED.includes(r.body.status) ? r.body : undefined;
    });
  };
  const profileOf = async (identifier: string): Promise<any> =>
    (await call(t.url, 'GET', `/v1/profiles?identifier=${encodeURIComponent(identifier)}`, { headers: t.auth })).body
      .data[0];

  beforeAll(async () => {
    salesforce = await startSalesforce({
      tokens: [TOKEN],
      contacts: rows('Contact', CONTACTS),
      // The first 20 leads are the same people as contacts 101–120: they resolve to one profile each.
      leads: rows('Lead', LEADS, 100),
      opportunities: activity.opportunities,
      contactRoles: activity.contactRoles,
      cases: activity.cases,
      tasks: activity.tasks,
      emailMessages,
    });
    t = await startTestApp({ label: 'salesforce-hub' });
  });
  afterAll(async () => {
    await t?.close();
    await salesforce?.close();
  });

  it('runs the first sync on the schedule of a source created over REST', async () => {
    const created = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: {
        name: 'Salesforce org',
        connector: 'salesforce',
        config: { accessToken: TOKEN, baseUrl: salesforce.url, batchSize: 200, contactUserIdField: 'Customer_ID__c' },
        schedule: { everySeconds: 1 },
      },
    });
    expect(created.status).toBe(201);
    sourceId = created.body.id;
    const first = await until(async () => {
      const r = await call(t.url, 'GET', `/v1/sources/${sourceId}/runs`, { headers: t.auth });
      return r.body.data.find((run: any) => run.trigger === 'schedule' && FINISHED.includes(run.status));
    });
    await call(t.url, 'PATCH', `/v1/sources/${sourceId}`, { headers: t.auth, body: { schedule: null } });
    await until(async () => {
      const r = await call(t.url, 'GET', `/v1/sources/${sourceId}/runs`, { headers: t.auth });
      return r.body.data.every((run: any) => FINISHED.includes(run.status));
    });
    expect(first).toMatchObject({
      status: 'succeeded',
      stats: { read: CONTACTS + LEADS + ACTIVITY_ROWS, quarantined: 0, deleted: 0 },
    });
    const detail = await call(t.url, 'GET', `/v1/runs/${first.id}`, { headers: t.auth });
    expect(detail.body.streams.map((s: any) => s.stream).sort()).toEqual([
      'cases',
      'contacts',
      'email_messages',
      'leads',
      'opportunities',
      'tasks',
    ]);
    // Contacts and Leads came through Bulk API 2.0 query jobs, the rest of the first load too but Opportunities.
    const jobs = salesforce.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/jobs/query'));
    expect(
      jobs
        .map(
          (r) =>
            String((r.body as { query: string }).query)
              .split(' FROM ')[1]
              .split(' ')[0],
        )
        .sort(),
    ).toEqual(['Case', 'Contact', 'EmailMessage', 'Lead', 'Task']);

    const contact = salesforce.state.contacts.get(salesforceId('Contact', 101))!;
    const lead = salesforce.state.leads.get(salesforceId('Lead', 1))!;
    expect(lead.Email).toBe(contact.Email);
    const profile = await profileOf(`email:${String(contact.Email)}`);
    expect(await profileOf(`external_id:${sourceId}:contact:${contact.Id}`)).toMatchObject({ id: profile.id });
    expect(await profileOf(`external_id:${sourceId}:lead:${lead.Id}`)).toMatchObject({ id: profile.id });
    expect(await profileOf('user_id:cus_101')).toMatchObject({ id: profile.id });
  });

  it("puts deals, cases, tasks and emails on the contact's profile, usable in audience rules", async () => {
    const won = activity.opportunities.filter((o) => o.IsWon === true);
    const role = activity.contactRoles.find((r) => r.OpportunityId === won[0].Id)!;
    const contact = salesforce.state.contacts.get(String(role.ContactId))!;
    const profile = await profileOf(`external_id:${sourceId}:contact:${contact.Id}`);
    expect(profile).toMatchObject({ id: (await profileOf(`email:${String(contact.Email)}`)).id });
    const events = (await call(t.url, 'GET', `/v1/profiles/${profile.id}/events?limit=100`, { headers: t.auth })).body
      .data;
    expect(events).toContainEqual(
      expect.objectContaining({
        name: 'Opportunity Won',
        properties: expect.objectContaining({
          amount: won[0].Amount,
          currency: won[0].CurrencyIsoCode,
          stage: 'Closed Won',
        }),
      }),
    );

    // "won a deal over 1,000 in the last year": every contact with such a role, each once.
    const bigWins = new Set(
      activity.contactRoles
        .filter((r) => won.some((o) => o.Id === r.OpportunityId && Number(o.Amount) > 1_000))
        .map((r) => r.ContactId),
    );
    const preview = async (rule: unknown) =>
      (await call(t.url, 'POST', '/v1/audiences/preview', { headers: t.auth, body: { rule } })).body;
    expect(
      (
        await preview({
          event: 'Opportunity Won',
          within: '365d',
          where: [{ property: 'amount', op: 'gt', value: 1_000 }],
        })
      ).size,
    ).toBe(bigWins.size);
    // "open ticket": the openCases trait the Case stream keeps.
    const withOpenCase = new Set(activity.cases.filter((c) => c.IsClosed === false).map((c) => c.ContactId));
    expect((await preview({ trait: 'openCases', op: 'gt', value: 0 })).size).toBe(withOpenCase.size);
  });

  it('reads only what changed, and detaches deleted rows', async () => {
    expect((await runSync()).stats).toMatchObject({ read: 0, deleted: 0 });
    salesforce.state.contacts.update(salesforceId('Contact', 5), { Email: 'moved.five@plexus-test.io' });
    salesforce.state.leads.delete(salesforceId('Lead', 70));
    const run = await runSync();
    expect(run).toMatchObject({ status: 'succeeded', stats: { read: 1, written: 1, deleted: 1 } });
    expect(await profileOf('email:moved.five@plexus-test.io')).toBeDefined();
    expect(await profileOf(`external_id:${sourceId}:lead:${salesforceId('Lead', 70)}`)).toBeUndefined();
  });

  it('quarantines a malformed row and fails fast with a config failure on an expired session', async () => {
    salesforce.state.contacts.update(salesforceId('Contact', 8), { Title: 'Chief' });
    salesforce.state.contacts.update(salesforceId('Contact', 9), { Title: 'Chief' });
    salesforce.faults.inject({ kind: 'malformed-record', times: 1 });
    const partial = await runSync();
    expect(partial).toMatchObject({ status: 'partial', stats: { read: 2, written: 1, quarantined: 1 } });
    const quarantine = await call(t.url, 'GET', `/v1/sources/${sourceId}/quarantine`, { headers: t.auth });
    expect(quarantine.body.data[0].reason).toMatch(/SystemModstamp is not a datetime/);

    salesforce.faults.inject({ kind: 'expired-token', times: 1 });
    const failed = await runSync();
    expect(failed).toMatchObject({ status: 'failed', error: { type: 'config' } });
    expect(failed.error.message).toMatch(/INVALID_SESSION_ID/);
  });
});
