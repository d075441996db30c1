import { ActivationHoldings } from '@plexus/activation';
import { RetentionService } from '@plexus/privacy';
import { sha256Hex } from '@plexus/profile';
import { person, VIP_RULE, withServices } from '../activation/support.js';
import { startGoogle, type GoogleEmulator } from '../emulators/google/google.emulator.js';
import { startMeta, type MetaEmulator } from '../emulators/meta/meta.emulator.js';
import { startTestApp } from '../support/app.js';
import { basicAuth, call } from '../support/http.js';
import { until } from '../support/wait.js';
import { fileAndWait } from './support.js';

type Harness = ReturnType<typeof withServices>;

const META_TOKEN = 'meta-privacy-token';
const GOOGLE_TOKEN = 'google-privacy-token';
const ACCOUNT = '1234567890';
const LIST = '5550001';
/** Person n's email as the hub normalises it (see `person` in test/activation/support.ts). */
const email = (n: number) => `person${n}@acme-shop.io`;

/**
 * Consent and suppression reach the ad platforms through the activation engine and its workers (no delivery is
 * driven by the test): a revoked `ads` consent — set by the DPO or arriving on a tracking event — removes the person
 * from Meta and Google on the next delivery, recorded in the ledger with its reason, and they are not added again;
 * a `suppress` request takes them off and keeps them off; `unsuppress` brings them back.
 */
describe('consent revocation and suppression through activation, on Meta and Google (PostgreSQL)', () => {
  let h: Harness;
  let meta: MetaEmulator;
  let google: GoogleEmulator;
  let writeKey: string;
  const ids: Record<number, string> = {};
  const activations: Record<'meta' | 'google', string> = { meta: '', google: '' };
  const destinations: Record<'meta' | 'google', string> = { meta: '', google: '' };

  const metaAudience = async () => (await h.api('GET', `/v1/activations/${activations.meta}`)).body.externalId;
  const onMeta = async (n: number) => meta.state.has(await metaAudience(), 'EMAIL', sha256Hex(email(n)));
  const onGoogle = (n: number) => google.state.member(ACCOUNT, LIST, `email:${sha256Hex(email(n))}`) !== undefined;
  const onBoth = async (n: number) => (await onMeta(n)) && onGoogle(n);
  const onNeither = async (n: number) => !(await onMeta(n)) && !onGoogle(n);
  /** What the ledger of each activation says of person n. */
  const ledger = async (n: number) => {
    const out: Record<string, { state: string; reason: string | null }> = {};
    for (const [name, id] of Object.entries(activations)) {
      const r = await h.api('GET', `/v1/activations/${id}/ledger?identifier=email:${email(n)}`);
      const [entry] = r.body.entries as Array<{ state: string; reason: string | null }>;
      out[name] = { state: entry?.state, reason: entry?.reason ?? null };
    }
    return out;
  };
  /**
   * Waits until person `n` is on neither platform and both ledgers have recorded it: a platform applies a removal
   * before the hub commits the batch's ledger rows.
   */
  const removedEverywhere = (n: number) =>
    until(async () => (await onNeither(n)) && Object.values(await ledger(n)).every((e) => e.state !== 'held'), 30_000);
  /** Waits until person `n` is on both platforms and both ledgers have recorded it (as above, for an addition). */
  const heldEverywhere = (n: number) =>
    until(async () => (await onBoth(n)) && Object.values(await ledger(n)).every((e) => e.state === 'held'), 30_000);
  /** Waits until both activations have answered every pending re-check (their batches are recorded). */
  const rechecked = () =>
    until(async () => {
      for (const id of Object.values(activations))
        if ((await h.repository.rechecks(id, 1)).length > 0 || (await h.repository.openBatches(id)).length > 0)
          return false;
      return true;
    }, 30_000);
  /** Rows Meta received in additions that carried person n's email hash. */
  const metaAdds = (n: number) =>
    meta.requests.filter(
      (r) =>
        r.method === 'POST' &&
        r.path.endsWith('/users') &&
        (r.body as { payload: { data: string[][] } }).payload.data.some((row) => row.includes(sha256Hex(email(n)))),
    ).length;

  beforeAll(async () => {
    meta = await startMeta({ tokens: [META_TOKEN], adAccounts: ['1000'], rateLimit: false });
    google = await startGoogle({ tokens: [GOOGLE_TOKEN], accounts: { [ACCOUNT]: [LIST] }, rateLimit: false });
    h = withServices(await startTestApp({ label: 'privacy_activation' }));
    for (let n = 1; n <= 4; n++) [ids[n]] = await h.store([person(n)]);
    const web = await h.api('POST', '/v1/sources', { name: 'Website', connector: 'http-events', config: {} });
    writeKey = web.body.writeKey;
    const audienceId = await h.createAudience('VIP', VIP_RULE);
    await h.evaluator.evaluate(audienceId, 'full');
    destinations.meta = await h.createDestination('Meta', 'meta-custom-audiences', {
      accessToken: META_TOKEN,
      adAccountId: '1000',
      baseUrl: meta.url,
    });
    destinations.google = await h.createDestination('Google', 'google-customer-match', {
      accessToken: GOOGLE_TOKEN,
      operatingAccountId: ACCOUNT,
      userListId: LIST,
      customerMatchTermsAccepted: true,
      baseUrl: google.url,
    });
    activations.meta = await h.activate({ audienceId, destinationId: destinations.meta, mode: 'upsert' });
    activations.google = await h.activate({ audienceId, destinationId: destinations.google, mode: 'upsert' });
    await until(async () => (await metaAudience()) && (await onBoth(1)) && (await onBoth(4)), 60_000);
  }, 120_000);
  afterAll(async () => {
    await h?.t.close();
    await meta?.close();
    await google?.close();
  });

  it('a revocation by the DPO removes the person from both ad platforms on the next delivery, with its reason in the ledger', async () => {
    const revoked = await h.api('PUT', `/v1/profiles/${ids[1]}/consent`, {
      purposes: { ads: false },
      source: 'dpo-ticket-9',
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked).toEqual(['ads']);
    expect(revoked.body.removal.requested).toBe(true);
    expect([...revoked.body.removal.destinations].sort()).toEqual(Object.values(destinations).sort());
    await removedEverywhere(1);
    expect(await ledger(1)).toEqual({
      meta: { state: 'removed', reason: 'no consent for ads' },
      google: { state: 'removed', reason: 'no consent for ads' },
    });
    // Only her: the others stay.
    for (const n of [2, 3, 4]) expect([n, await onBoth(n)]).toEqual([n, true]);
  });

  it('a revocation arriving on a tracking event does the same', async () => {
    const tracked = await call(h.t.url, 'POST', '/v1/identify', {
      headers: basicAuth(writeKey),
      body: {
        userId: 'u-person-2',
        traits: { email: email(2) },
        context: { consent: { categoryPreferences: { advertising: false } } },
      },
    });
    expect(tracked.status).toBe(200);
    await removedEverywhere(2);
    expect((await ledger(2)).meta).toEqual({ state: 'removed', reason: 'no consent for ads' });
  });

  it('a person whose consent stays revoked is not added again, whatever re-checks them', async () => {
    const addsBefore = metaAdds(1);
    // A profile change and an explicit re-check everywhere (what an unsuppress does): still not sendable.
    await h.store([
      { ...person(1, { ads: false }), traits: { vip: true, city: 'Oslo' }, observedAt: new Date().toISOString() },
    ]);
    await h.t.app.get(ActivationHoldings).recheck([ids[1]]);
    await rechecked();
    expect(await onNeither(1)).toBe(true);
    expect(metaAdds(1)).toBe(addsBefore);
    expect((await ledger(1)).google.state).toMatch(/removed|not_sendable/);
    // A grant brings her back (the profile change re-checks her): the ledger tells the truth both ways.
    const granted = await h.api('PUT', `/v1/profiles/${ids[1]}/consent`, { purposes: { ads: true } });
    expect(granted.status).toBe(200);
    await heldEverywhere(1);
    expect((await ledger(1)).meta).toEqual({ state: 'held', reason: null });
  });

  it('suppress takes a person off both platforms and keeps them off; unsuppress brings them back', async () => {
    const suppressed = await fileAndWait(
      h.t,
      { type: 'suppress', identifier: { type: 'email', value: email(3) } },
      60_000,
    );
    expect(suppressed.steps.map((s: { name: string; status: string }) => `${s.name}:${s.status}`)).toEqual([
      'resolve:done',
      'suppress:done',
      'freeze:done',
      'remove-from-destinations:done',
    ]);
    expect(await onNeither(3)).toBe(true);
    expect(await ledger(3)).toEqual({
      meta: { state: 'removed', reason: 'suppress' },
      google: { state: 'removed', reason: 'suppress' },
    });
    // Frozen: re-checked (an audience re-evaluation, a recheck), the engine still sends them nowhere.
    const addsBefore = metaAdds(3);
    await h.t.app.get(ActivationHoldings).recheck([ids[3]]);
    await rechecked();
    expect(await onNeither(3)).toBe(true);
    expect(metaAdds(3)).toBe(addsBefore);
    expect((await ledger(3)).meta).toEqual({ state: 'not_sendable', reason: 'suppressed by a privacy request' });
    const runs = (await h.api('GET', `/v1/activations/${activations.meta}/runs`)).body.data;
    expect(
      runs.some(
        (r: { notSendableReasons: Record<string, number> }) =>
          r.notSendableReasons['suppressed by a privacy request'] === 1,
      ),
    ).toBe(true);

    const lifted = await fileAndWait(h.t, { type: 'unsuppress', identifier: { type: 'email', value: email(3) } });
    expect(lifted.steps.find((s: { name: string }) => s.name === 'unsuppress').detail).toMatch(
      /profile unfrozen \(re-checked in 2 activations\)/,
    );
    await heldEverywhere(3);
    expect(await ledger(3)).toEqual({
      meta: { state: 'held', reason: null },
      google: { state: 'held', reason: null },
    });
  });

  it('ledger retention erases the rows of people no platform holds once they are older than ledgerDays, and keeps the held', async () => {
    // Person 2 was removed (consent revoked); the others are held. Nothing is old enough today.
    const sweeps = h.t.app.get(RetentionService);
    expect((await sweeps.sweep()).removed).toMatchObject({ ledgerMembersPruned: 0 });
    expect((await ledger(2)).meta.state).toBe('removed');
    // 396 days later (a simulated clock), past the default 395: her rows go, held members' rows stay.
    const later = await sweeps.sweep(undefined, new Date(Date.now() + 396 * 86_400_000));
    expect(later.removed).toMatchObject({ ledgerMembersPruned: 2 });
    expect(await ledger(2)).toEqual({
      meta: { state: undefined, reason: null },
      google: { state: undefined, reason: null },
    });
    for (const n of [1, 3, 4]) expect([n, (await ledger(n)).meta.state]).toEqual([n, 'held']);
    expect(await onBoth(4)).toBe(true);
  });
});
