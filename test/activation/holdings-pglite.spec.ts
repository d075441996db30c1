import { ActivationHoldings } from '@plexus/activation';
import { sha256Hex } from '@plexus/sdk';
import { startMeta, type MetaEmulator } from '../emulators/meta/meta.emulator.js';
import { startTestApp } from '../support/app.js';
import { until } from '../support/wait.js';
import { person, VIP_RULE, withServices } from './support.js';

type Harness = ReturnType<typeof withServices>;
const TOKEN = 'meta-holdings-token';
const emailHash = (n: number) => sha256Hex(`person${n}@acme-shop.io`);

/**
 * The embedded database with the job workers running: deliveries go through each destination's own queue, as in
 * `npm start`, and privacy's port (ActivationHoldings) is exercised on what they recorded.
 */
describe('activation on PGlite with workers: REST, real-time delivery, holdings, metrics, audit', () => {
  let h: Harness;
  let meta: MetaEmulator;
  let holdings: ActivationHoldings;
  let audienceId: string;
  let destinationId: string;
  let activationId: string;
  let platformId: string;
  const ids: string[] = [];

  beforeAll(async () => {
    meta = await startMeta({ tokens: [TOKEN], adAccounts: ['1000'], rateLimit: false });
    h = withServices(await startTestApp({ label: 'activation_pglite', storage: 'pglite' }));
    holdings = h.t.app.get(ActivationHoldings);
    for (let n = 1; n <= 3; n++) ids.push(...(await h.store([person(n)])));
    audienceId = await h.createAudience('VIP', VIP_RULE);
    destinationId = await h.createDestination('Meta', 'meta-custom-audiences', {
      accessToken: TOKEN,
      adAccountId: '1000',
      baseUrl: meta.url,
    });
  }, 240_000);
  afterAll(async () => {
    await h.t.close();
    await meta.close();
  }, 120_000);

  it('refuses bad input with a 400 naming the field', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ audienceId: 'nope', destinationId, mode: 'upsert' }, 'audienceId'],
      [{ audienceId, destinationId: 'dst_missing', mode: 'upsert' }, 'destinationId'],
      [{ audienceId, destinationId, mode: 'sometimes' }, 'mode'],
      [{ audienceId, destinationId, mode: 'upsert', identifiers: ['cookie_id'] }, 'identifiers'],
      [{ audienceId, destinationId, mode: 'upsert', schedule: { cron: 'never' } }, 'schedule.cron'],
    ];
    for (const [body, field] of cases) {
      const answer = await h.api('POST', '/v1/activations', body);
      expect({ field, status: answer.status }).toEqual({ field, status: 400 });
      expect(answer.body.message).toContain(field);
    }
    expect((await h.api('GET', '/v1/activations/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('delivers on its own, seconds after the activation is created and after a member joins', async () => {
    activationId = await h.activate({ audienceId, destinationId, mode: 'upsert', identifiers: ['email'] });
    platformId = await until(async () => {
      const view = (await h.api('GET', `/v1/activations/${activationId}`)).body;
      return view.members.held === 3 ? (view.externalId as string) : undefined;
    });
    // Only the email was handed over, as the activation asked.
    expect(meta.state.members(platformId).every((row) => row.PHONE === undefined)).toBe(true);
    ids.push(...(await h.store([person(4)])));
    await until(async () => meta.state.has(platformId, 'EMAIL', emailHash(4)));
  });

  it('tells privacy where a person is held, and removes them everywhere on request', async () => {
    expect(await holdings.heldBy(ids[0])).toEqual([
      expect.objectContaining({
        activationId,
        audienceId,
        destinationId,
        connector: 'meta-custom-audiences',
        state: 'held',
      }),
    ]);
    await holdings.removeEverywhere([ids[0]], 'suppress');
    await until(async () => !meta.state.has(platformId, 'EMAIL', emailHash(1)));
    await until(async () => (await holdings.heldBy(ids[0])).length === 0);
    const ledger = await h.api('GET', `/v1/activations/${activationId}/ledger?identifier=email:person1@acme-shop.io`);
    expect(ledger.body.entries[0]).toMatchObject({ removed: true, reason: 'suppress' });
    // Meta offers no erasure beyond the audience: said, not pretended.
    expect(await holdings.deleteAtDestinations(ids[0])).toEqual([
      { destinationId, connector: 'meta-custom-audiences', status: 'unsupported' },
    ]);
    expect(await holdings.eraseMember(ids[0])).toBeGreaterThan(0);
    const erased = await h.api('GET', `/v1/activations/${activationId}/ledger?identifier=email:person1@acme-shop.io`);
    expect(erased.body.entries).toEqual([]);
  });

  it('counts runs and items per destination in /metrics, and audits every change', async () => {
    const metrics = await fetch(`${h.t.url}/metrics`, { headers: h.t.auth }).then((r) => r.text());
    expect(metrics).toMatch(
      new RegExp(
        `plexus_activation_items_total\\{destination="${destinationId}",connector="meta-custom-audiences",operation="any",outcome="accepted"\\} [1-9]`,
      ),
    );
    expect(metrics).toMatch(/plexus_activation_runs_total\{[^}]*status="succeeded"\} [1-9]/);
    const paused = await h.api('PATCH', `/v1/activations/${activationId}`, { paused: true });
    expect(paused.body.status).toBe('paused');
    const audit = await h.api('GET', `/v1/audit?targetType=activations&targetId=${activationId}`);
    expect(audit.body.data.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['POST /v1/activations', 'PATCH /v1/activations/:id']),
    );
    const patch = audit.body.data.find((e: { action: string }) => e.action.startsWith('PATCH'));
    expect(patch).toMatchObject({ before: { status: 'active' }, after: { status: 'paused' } });
    await h.api('PATCH', `/v1/activations/${activationId}`, { paused: false });
  });

  it('deleting the audience removes its members from the platform', async () => {
    expect((await h.api('DELETE', `/v1/audiences/${audienceId}`)).status).toBe(204);
    await until(async () => (await h.api('GET', `/v1/activations/${activationId}`)).body.status === 'deleted');
    expect(meta.state.members(platformId)).toEqual([]);
  });
});
