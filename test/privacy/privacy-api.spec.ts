import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PRIVACY_HOLDINGS } from '@plexus/privacy';
import { sha256Hex } from '@plexus/profile';
import { RetentionService } from '@plexus/privacy';
import type { Database } from '@plexus/storage';
import { startTestApp, type TestApp } from '../support/app.js';
import { basicAuth, call } from '../support/http.js';
import { profileBy, syncAndWait } from '../support/hub.js';
import { until } from '../support/wait.js';
import { RecordingHoldings } from './recording-holdings.js';
import { fileAndWait, rowsNaming, tracesOf, waitForRequest } from './support.js';

const DAY = 86_400_000;
const CSV = [
  'Id,Email,Phone,First Name',
  'C-1, ANN@Acme.io ,(415) 555-2671,Ann',
  'C-2,bob@bobmail.io,(415) 555-9876,Bob',
].join('\n');

// ActivationHoldings is activation's port; here a recording double stands in for it (see recording-holdings.ts).
describe('privacy requests, consent and retention through the API (PostgreSQL)', () => {
  let t: TestApp;
  let db: Database;
  let holdings: RecordingHoldings;
  let csvSource: string;
  let webSource: string;
  let writeKey: string;

  const track = (body: Record<string, unknown>) =>
    call(t.url, 'POST', '/v1/batch', { headers: basicAuth(writeKey), body: { batch: [body] } });

  beforeAll(async () => {
    holdings = new RecordingHoldings(2, ['hubspot']);
    t = await startTestApp({ label: 'privacy', providers: [{ provide: PRIVACY_HOLDINGS, useValue: holdings }] });
    db = await t.database!.open();
    writeFileSync(join(t.importDir, 'crm.csv'), CSV);
    const csv = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: {
        name: 'CRM export',
        connector: 'file-import',
        config: {
          path: join(t.importDir, 'crm.csv'),
          format: 'csv',
          defaultCountry: 'US',
          mapping: {
            identifiers: { email: 'Email', phone: 'Phone', external_id: 'Id' },
            traits: { firstName: 'First Name' },
          },
        },
      },
    });
    expect(csv.status).toBe(201);
    csvSource = csv.body.id;
    const web = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: { name: 'Website', connector: 'http-events', config: {} },
    });
    expect(web.status).toBe(201);
    webSource = web.body.id;
    writeKey = web.body.writeKey;
  });
  afterAll(async () => {
    await db?.close();
    await t?.close();
  });

  it('erases every trace of a person, removes them everywhere, and never collects them again', async () => {
    const run = await syncAndWait(t, csvSource);
    expect(run.status).toBe('succeeded');
    expect(
      (
        await track({
          type: 'identify',
          userId: 'u-ann-1',
          anonymousId: 'anon-ann-1',
          traits: { email: 'ann@acme.io', city: 'Lyon' },
        })
      ).status,
    ).toBe(200);
    expect(
      (await track({ type: 'track', userId: 'u-ann-1', event: 'Order Completed', properties: { total: 80 } })).status,
    ).toBe(200);
    // A refused message quoting her email lands in the quarantine.
    const refused = await track({
      type: 'track',
      userId: 'u-ann-1',
      event: 'Bad',
      timestamp: '0042-01-01T00:00:00Z',
      properties: { note: 'ann@acme.io' },
    });
    expect(refused.status).toBe(400);
    const ann = await profileBy(t, 'email:ann@acme.io');
    expect(ann.identifiers.map((i: { type: string }) => i.type)).toEqual(
      expect.arrayContaining(['email', 'phone', 'external_id', 'user_id', 'anonymous_id']),
    );
    const bob = await profileBy(t, 'email:bob@bobmail.io');
    const audience = await call(t.url, 'POST', '/v1/audiences', {
      headers: t.auth,
      body: { name: 'Named Ann', rule: { all: [{ trait: 'firstName', op: 'eq', value: 'Ann' }] } },
    });
    expect(audience.status).toBe(201);
    await until(async () => {
      await call(t.url, 'POST', `/v1/audiences/${audience.body.id}/evaluate`, { headers: t.auth });
      const m = await call(t.url, 'GET', `/v1/audiences/${audience.body.id}/members`, { headers: t.auth });
      return m.body.data?.some((x: { profileId: string }) => x.profileId === ann.id);
    });
    holdings.hold(ann.id, [
      { activationId: 'act-1', audienceId: 'aud-1', destinationId: 'meta-1', connector: 'meta-custom-audiences' },
      { activationId: 'act-2', audienceId: 'aud-1', destinationId: 'crm-1', connector: 'hubspot' },
    ]);

    const first = await call(t.url, 'POST', '/v1/privacy/requests', {
      headers: t.auth,
      body: { type: 'delete', identifier: { type: 'email', value: ' Ann@ACME.io ' } },
    });
    expect(first.status).toBe(202);
    const again = await call(t.url, 'POST', '/v1/privacy/requests', {
      headers: t.auth,
      body: { type: 'delete', identifier: { type: 'phone', value: '+1 415 555 2671' } },
    });
    expect(again.status).toBe(202);
    const duplicate = await call(t.url, 'POST', '/v1/privacy/requests', {
      headers: t.auth,
      body: { type: 'delete', identifier: { type: 'email', value: 'ann@acme.io' } },
    });
    // The same person by the same identifier while the first runs: the same request.
    if (duplicate.body.duplicate) expect(duplicate.body.id).toBe(first.body.id);

    // It waits on the platforms until they confirm the removal, and says so.
    const waiting = await until(async () => {
      const r = await call(t.url, 'GET', `/v1/privacy/requests/${first.body.id}`, { headers: t.auth });
      return r.body.status === 'waiting' || r.body.status === 'completed' ? r.body : undefined;
    });
    if (waiting.status === 'waiting') {
      expect(waiting.waitingOn.step).toBe('remove-from-destinations');
      expect(waiting.waitingOn.on.join('\n')).toMatch(
        /meta-custom-audiences destination meta-1 .*removing — platform busy/,
      );
    }
    const done = await waitForRequest(t, first.body.id);
    expect(done.steps.map((s: { name: string; status: string }) => `${s.name}:${s.status}`)).toEqual([
      'resolve:done',
      'suppress:done',
      'erase:done',
      'remove-from-destinations:done',
      'delete-at-destinations:done',
      'erase-ledger:done',
      'verify:done',
    ]);
    expect(done.identifier).toEqual({ type: 'email' });
    expect(done.result['delete-at-destinations']).toMatch(/deleted at 1 destinations; 1 without a delete capability/);
    expect(holdings.callsOf('removeEverywhere')).toContainEqual([[ann.id], 'delete']);
    expect(holdings.callsOf('deleteAtDestinations')).toContainEqual([ann.id]);
    expect(holdings.callsOf('eraseMember')).toContainEqual([ann.id]);
    await waitForRequest(t, again.body.id);

    // No trace of any of her identifiers anywhere in the database — only keyed hashes on the suppression list.
    const needles = [
      'ann@acme.io',
      sha256Hex('ann@acme.io'),
      '+14155552671',
      '4155552671',
      'u-ann-1',
      'anon-ann-1',
      ':C-1',
    ];
    expect(await tracesOf(db, needles)).toEqual([]);
    expect(await rowsNaming(db, [ann.id])).toEqual([]);
    expect(await tracesOf(db, ['bob@bobmail.io'])).not.toEqual([]);
    const suppressions = await db.db.selectFrom('privacy_suppressions').selectAll().execute();
    expect(suppressions.length).toBeGreaterThanOrEqual(6);
    expect((await call(t.url, 'GET', `/v1/profiles/${ann.id}`, { headers: t.auth })).status).toBe(404);
    expect((await profileBy(t, 'email:bob@bobmail.io')).id).toBe(bob.id);

    // Every source again: nothing of hers is stored, and the run counts her as suppressed.
    const resync = await syncAndWait(t, csvSource);
    expect(resync.stats).toMatchObject({ suppressed: 1 });
    expect((await track({ type: 'track', userId: 'u-ann-1', event: 'Page Viewed' })).status).toBe(200);
    expect((await track({ type: 'identify', anonymousId: 'anon-new', traits: { email: 'ANN@acme.io' } })).status).toBe(
      200,
    );
    expect(await profileBy(t, 'email:ann@acme.io')).toBeUndefined();
    expect(await profileBy(t, 'user_id:u-ann-1')).toBeUndefined();
    expect(await tracesOf(db, needles)).toEqual([]);
    // The audit log has the request and its completion, without her identifiers (checked by the dump above).
    const audit = await call(t.url, 'GET', `/v1/audit?targetType=privacy&targetId=${first.body.id}`, {
      headers: t.auth,
    });
    expect(audit.body.data.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['POST /v1/privacy/requests', 'privacy.delete.completed']),
    );
  });

  it('completes a delete for someone it does not hold with "nothing held", and still suppresses them', async () => {
    const done = await fileAndWait(t, { type: 'delete', identifier: { type: 'email', value: 'never@seen.io' } });
    expect(done.note).toBe('nothing held');
    expect(done.steps.find((s: { name: string }) => s.name === 'erase')).toMatchObject({ status: 'skipped' });
    expect((await track({ type: 'identify', userId: 'u-never', traits: { email: 'never@seen.io' } })).status).toBe(200);
    expect(await profileBy(t, 'user_id:u-never')).toBeUndefined();
  });

  it('answers bad requests with a 400 naming the field, and stores nothing', async () => {
    const cases: Array<[unknown, string]> = [
      [{ type: 'forget', identifier: { type: 'email', value: 'a@b.io' } }, 'type'],
      [{ type: 'delete', identifier: { type: 'shoe_size', value: '42' } }, 'identifier.type'],
      [{ type: 'delete', identifier: { type: 'email', value: 'n/a' } }, 'identifier.value'],
      [{ type: 'delete', identifier: { type: 'phone', value: '   ' } }, 'identifier.value'],
      [{ type: 'delete', identifier: { type: 'email', value: 'a@b.io', extra: 1 } }, 'identifier.extra'],
      [{ type: 'delete' }, 'identifier'],
      [{ type: 'export', identifier: { type: 'email', value: 42 } }, 'identifier.value'],
    ];
    const before = await db.db
      .selectFrom('privacy_requests')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirst();
    for (const [body, field] of cases) {
      const r = await call(t.url, 'POST', '/v1/privacy/requests', { headers: t.auth, body });
      expect([r.status, r.body.details?.map((d: { field: string }) => d.field)]).toEqual([400, [field]]);
    }
    const after = await db.db
      .selectFrom('privacy_requests')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirst();
    expect(after).toEqual(before);
    expect((await call(t.url, 'GET', '/v1/privacy/requests/not-a-uuid', { headers: t.auth })).status).toBe(400);
  });

  it('suppress freezes a person without erasing them; unsuppress lets their data in again', async () => {
    expect(
      (await track({ type: 'identify', userId: 'u-cleo', anonymousId: 'anon-cleo', traits: { plan: 'pro' } })).status,
    ).toBe(200);
    const cleo = await profileBy(t, 'user_id:u-cleo');
    holdings.hold(cleo.id, [
      { activationId: 'act-3', audienceId: 'aud-2', destinationId: 'meta-1', connector: 'meta-custom-audiences' },
    ]);
    const suppressed = await fileAndWait(t, { type: 'suppress', identifier: { type: 'user_id', value: 'u-cleo' } });
    expect(suppressed.steps.map((s: { status: string }) => s.status)).toEqual(['done', 'done', 'done', 'done']);
    expect(holdings.callsOf('removeEverywhere')).toContainEqual([[cleo.id], 'suppress']);
    expect((await track({ type: 'identify', userId: 'u-cleo', traits: { plan: 'enterprise' } })).status).toBe(200);
    const frozen = await profileBy(t, 'user_id:u-cleo');
    expect(frozen.id).toBe(cleo.id);
    expect(frozen.traits.plan.value).toBe('pro');
    // Lifted by another identifier the suppress request covered.
    const lifted = await fileAndWait(t, {
      type: 'unsuppress',
      identifier: { type: 'anonymous_id', value: 'anon-cleo' },
    });
    expect(lifted.steps.map((s: { status: string }) => s.status)).toEqual(['done', 'done']);
    // Eligible again: activation re-checks her wherever her audiences are activated.
    expect(holdings.callsOf('recheck')).toContainEqual([[cleo.id]]);
    expect((await track({ type: 'identify', userId: 'u-cleo', traits: { plan: 'enterprise' } })).status).toBe(200);
    expect((await profileBy(t, 'user_id:u-cleo')).traits.plan.value).toBe('enterprise');
  });

  it('exports everything GET /v1/profiles/:id shows, plus every event and the history', async () => {
    await track({ type: 'identify', userId: 'u-dan', anonymousId: 'anon-dan', traits: { email: 'dan@danmail.io' } });
    await track({ type: 'track', userId: 'u-dan', event: 'Signed Up' });
    await track({ type: 'track', anonymousId: 'anon-dan', event: 'Page Viewed' });
    const dan = await profileBy(t, 'user_id:u-dan');
    const done = await fileAndWait(t, { type: 'export', identifier: { type: 'anonymous_id', value: 'anon-dan' } });
    expect(done.result).toEqual({ download: `/v1/privacy/requests/${done.id}/export`, bytes: expect.any(Number) });
    const doc = await call(t.url, 'GET', `/v1/privacy/requests/${done.id}/export`, { headers: t.auth });
    expect(doc.status).toBe(200);
    expect(doc.headers.get('content-disposition')).toMatch(/attachment/);
    const shown = await call(t.url, 'GET', `/v1/profiles/${dan.id}`, { headers: t.auth });
    const { recentEvents, ...profile } = shown.body;
    expect(doc.body.profile).toEqual(profile);
    expect(doc.body.events.map((e: { name: string }) => e.name).sort()).toEqual(['Page Viewed', 'Signed Up']);
    expect(recentEvents).toHaveLength(2);
    const history = await call(t.url, 'GET', `/v1/profiles/${dan.id}/history`, { headers: t.auth });
    expect(doc.body.history).toEqual(history.body.data);
    expect(doc.body.sourceRecords.length).toBeGreaterThanOrEqual(3);
    // A key without pii:read may not download it.
    const key = await call(t.url, 'POST', '/v1/api-keys', {
      headers: t.auth,
      body: { name: 'dpo', scopes: ['privacy'] },
    });
    const denied = await call(t.url, 'GET', `/v1/privacy/requests/${done.id}/export`, {
      headers: { authorization: `Bearer ${key.body.key}` },
    });
    expect(denied.status).toBe(403);
  });

  it('consent per purpose: a revocation is stored with its source and removes the person from ads destinations', async () => {
    await track({
      type: 'identify',
      userId: 'u-eve',
      traits: { email: 'eve@evemail.io' },
      context: { consent: { categoryPreferences: { advertising: true } } },
    });
    const eve = await profileBy(t, 'user_id:u-eve');
    expect(eve.consent.ads.granted).toBe(true);
    holdings.hold(eve.id, [
      { activationId: 'act-4', audienceId: 'aud-3', destinationId: 'meta-1', connector: 'meta-custom-audiences' },
    ]);
    const revoked = await call(t.url, 'PUT', `/v1/profiles/${eve.id}/consent`, {
      headers: t.auth,
      body: { purposes: { ads: false, personalisation: true }, source: 'dpo-ticket-17' },
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({
      revoked: ['ads'],
      removal: { requested: true, destinations: ['meta-1'] },
      consent: { ads: { granted: false, sourceId: 'dpo-ticket-17' }, personalization: { granted: true } },
    });
    // Activation's own eligibility check removes her (a re-check), not a forced removal from every destination.
    expect(holdings.callsOf('recheck')).toContainEqual([[eve.id]]);
    expect(holdings.callsOf('removeEverywhere')).not.toContainEqual([[eve.id], 'consent']);
    expect((await profileBy(t, 'user_id:u-eve')).consent.ads).toMatchObject({
      granted: false,
      sourceId: 'dpo-ticket-17',
    });
    const bad = await call(t.url, 'PUT', `/v1/profiles/${eve.id}/consent`, {
      headers: t.auth,
      body: { purposes: { ads: 'no', horoscope: true } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d: { field: string }) => d.field).sort()).toEqual([
      'purposes.ads',
      'purposes.horoscope',
    ]);
    const missing = await call(t.url, 'PUT', '/v1/profiles/00000000-0000-4000-8000-000000000000/consent', {
      headers: t.auth,
      body: { purposes: { ads: false } },
    });
    expect(missing.status).toBe(404);
  });

  it('retention detaches a 91-day-old anonymous id, deletes its empty profile and keeps an 89-day-old one', async () => {
    const at = (days: number) => new Date(Date.now() - days * DAY).toISOString();
    await track({ type: 'track', anonymousId: 'anon-old', event: 'Page Viewed', timestamp: at(91) });
    await track({ type: 'track', anonymousId: 'anon-recent', event: 'Page Viewed', timestamp: at(89) });
    const old = await profileBy(t, 'anonymous_id:anon-old');
    const recent = await profileBy(t, 'anonymous_id:anon-recent');
    holdings.hold(old.id, [
      { activationId: 'act-5', audienceId: 'aud-4', destinationId: 'ttd-1', connector: 'the-trade-desk' },
    ]);

    const policy = await call(t.url, 'GET', '/v1/retention', { headers: t.auth });
    expect(policy.body.identifierTtlDays).toMatchObject({ anonymous_id: 90, cookie_id: 90, device_id: 90 });
    const bad = await call(t.url, 'PUT', '/v1/retention', {
      headers: t.auth,
      body: { eventsDays: 0, batchSize: 'x', schedule: { cron: 'whenever' }, color: 'red' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d: { field: string }) => d.field).sort()).toEqual([
      'batchSize',
      'color',
      'eventsDays',
    ]);
    const set = await call(t.url, 'PUT', '/v1/retention', {
      headers: t.auth,
      body: { batchSize: 10, eventsDays: 3650 },
    });
    expect(set.status).toBe(200);
    expect(set.body.policy).toMatchObject({ batchSize: 10, eventsDays: 3650, quarantineDays: 90 });

    const started = await call(t.url, 'POST', '/v1/retention/runs', { headers: t.auth });
    expect(started.status).toBe(202);
    const run = await until(async () => {
      const r = await call(t.url, 'GET', `/v1/retention/runs/${started.body.id}`, { headers: t.auth });
      return r.body.status === 'succeeded' || r.body.status === 'failed' ? r.body : undefined;
    });
    expect(run).toMatchObject({ status: 'succeeded', removed: { identifiersDetached: 1, profilesDeleted: 1 } });
    expect(await profileBy(t, 'anonymous_id:anon-old')).toBeUndefined();
    expect((await call(t.url, 'GET', `/v1/profiles/${old.id}`, { headers: t.auth })).status).toBe(404);
    expect((await profileBy(t, 'anonymous_id:anon-recent')).id).toBe(recent.id);
    expect(holdings.callsOf('removeEverywhere')).toContainEqual([[old.id], 'retention']);
    const list = await call(t.url, 'GET', '/v1/retention/runs', { headers: t.auth });
    expect(list.body.data[0].id).toBe(started.body.id);

    // Two days later (a simulated clock) the other one has expired too; the ledger rows of the first are erased
    // now that the platform confirmed its removal.
    const later = await t.app.get(RetentionService).sweep(undefined, new Date(Date.now() + 2 * DAY));
    expect(later.removed).toMatchObject({ identifiersDetached: 1, profilesDeleted: 1 });
    expect(await profileBy(t, 'anonymous_id:anon-recent')).toBeUndefined();
    const last = await t.app.get(RetentionService).sweep(undefined, new Date(Date.now() + 2 * DAY));
    expect(holdings.callsOf('eraseMember')).toContainEqual([old.id]);
    expect(last.removed.identifiersDetached).toBe(0);
    expect(webSource).toBeDefined();
  });
});
