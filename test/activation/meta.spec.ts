import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { ActivationJobs, ActivationScheduler, INTERRUPTED_RUN } from '@plexus/activation';
import { QueueService } from '@plexus/queue';
import { sha256Hex } from '@plexus/sdk';
import { startMeta, type MetaEmulator } from '../emulators/meta/meta.emulator.js';
import { until } from '../support/wait.js';
import { person, startActivationApp, VIP_RULE } from './support.js';

type Harness = Awaited<ReturnType<typeof startActivationApp>>;

const TOKEN = 'meta-activation-token';
/** What Meta receives for ` Person<n>@Acme-Shop.io `: trimmed, lower-cased, SHA-256 hex. */
const emailHash = (n: number) => sha256Hex(`person${n}@acme-shop.io`);
/** `+1 415 555 1000+n` as Meta wants it: digits with the country code, no `+`. */
const phoneHash = (n: number) => sha256Hex(`1415555${1000 + n}`);
const later = (seconds: number) => new Date(Date.UTC(2026, 1, 1, 0, 0, seconds)).toISOString();

/** Rows of the /users requests (adds or removes) that carried this email hash. */
function sends(meta: MetaEmulator, method: 'POST' | 'DELETE', hash: string): number {
  return meta.requests.filter(
    (r) =>
      r.method === method &&
      r.path.endsWith('/users') &&
      (r.body as { payload: { data: string[][] } }).payload.data.some((row) => row[0] === hash),
  ).length;
}

describe('activation to Meta Custom Audiences through the engine', () => {
  let h: Harness;
  let meta: MetaEmulator;
  let audienceId: string;
  let destinationId: string;
  let activationId: string;
  let platformId: string;
  const ids: string[] = [];

  beforeAll(async () => {
    meta = await startMeta({ tokens: [TOKEN], adAccounts: ['1000'], rateLimit: false });
    h = await startActivationApp('activation_meta');
    for (let n = 1; n <= 4; n++) ids.push(...(await h.store([person(n)])));
    // Not sendable: no ads consent; only a cookie id (Meta matches none).
    await h.store([person(5, { ads: false })]);
    await h.store([{ ...person(6), identifiers: [{ type: 'cookie_id', value: 'ck-6' }] }]);
    audienceId = await h.createAudience('VIP', VIP_RULE);
    destinationId = await h.createDestination('Meta', 'meta-custom-audiences', {
      accessToken: TOKEN,
      adAccountId: '1000',
      baseUrl: meta.url,
      requestsPerSecond: 100,
    });
  }, 120_000);
  afterAll(async () => {
    await h.t.close();
    await meta.close();
  });
  afterEach(() => meta.faults.clear());

  it('creates the platform audience and adds the sendable members, hashed as Meta documents', async () => {
    activationId = await h.activate({ audienceId, destinationId, mode: 'upsert' });
    expect((await h.deliverAll(activationId)).state).toBe('idle');
    const view = (await h.api('GET', `/v1/activations/${activationId}`)).body;
    platformId = view.externalId;
    expect(meta.state.audiences.get(platformId)?.description).toBe(`plexus-activation:${activationId}`);
    expect(meta.state.members(platformId)).toHaveLength(4);
    for (let n = 1; n <= 4; n++) {
      expect(meta.state.has(platformId, 'EMAIL', emailHash(n))).toBe(true);
      expect(meta.state.has(platformId, 'PHONE', phoneHash(n))).toBe(true);
    }
    expect(view.members).toEqual({ held: 4, not_sendable: 2 });
    const runs = (await h.api('GET', `/v1/activations/${activationId}/runs`)).body.data;
    expect(runs[0]).toMatchObject({
      status: 'succeeded',
      changes: 6,
      adds: 4,
      accepted: 4,
      notSendable: 2,
      notSendableReasons: { 'no consent for ads': 1, 'no identifier the destination accepts': 1 },
    });
    // Nothing is sent twice: a second delivery has nothing to do.
    expect((await h.deliverAll(activationId)).state).toBe('idle');
    expect(sends(meta, 'POST', emailHash(1))).toBe(1);
  });

  it('answers from the ledger whether a person was sent, with hashed values only', async () => {
    const ledger = await h.api('GET', `/v1/activations/${activationId}/ledger?identifier=email:PERSON1@Acme-Shop.io`);
    expect(ledger.status).toBe(200);
    expect(ledger.body.entries).toEqual([
      expect.objectContaining({
        profileId: ids[0],
        state: 'held',
        held: true,
        sent: true,
        removed: false,
        item: expect.objectContaining({ EMAIL: emailHash(1), PHONE: phoneHash(1) }),
        addBatch: expect.objectContaining({ state: 'confirmed', answer: [expect.objectContaining({ received: 4 })] }),
      }),
    ]);
    expect(ledger.body.pending).toEqual([]);
    expect(JSON.stringify(ledger.body)).not.toContain('person1@acme-shop.io');
    const missing = await h.api('GET', `/v1/activations/${activationId}/ledger?identifier=email:nobody@acme-shop.io`);
    expect(missing.body).toMatchObject({ entries: [], pending: [] });
    const bad = await h.api('GET', `/v1/activations/${activationId}/ledger?identifier=nonsense`);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('identifier');
  });

  it('removes a member who leaves the audience, with the item Meta received, and the ledger proves it', async () => {
    await h.store([{ ...person(2, { vip: false }), observedAt: later(2) }]);
    await h.evaluator.evaluate(audienceId, 'full');
    expect((await h.deliverAll(activationId)).state).toBe('idle');
    expect(meta.state.has(platformId, 'EMAIL', emailHash(2))).toBe(false);
    expect(sends(meta, 'DELETE', emailHash(2))).toBe(1);
    const ledger = await h.api('GET', `/v1/activations/${activationId}/ledger?identifier=email:person2@acme-shop.io`);
    expect(ledger.body.entries[0]).toMatchObject({
      state: 'removed',
      held: false,
      sent: true,
      removed: true,
      reason: 'left the audience',
      removeBatch: expect.objectContaining({ removes: 1, accepted: 1 }),
    });
  });

  it('a consent revocation re-checks the member and removes them, though the audience rule ignores consent', async () => {
    await h.store([{ ...person(3, { ads: false }), observedAt: later(3) }]);
    expect((await h.deliverAll(activationId)).state).toBe('idle');
    expect(meta.state.has(platformId, 'EMAIL', emailHash(3))).toBe(false);
    const ledger = await h.api(
      'GET',
      `/v1/activations/${activationId}/ledger?identifier=${encodeURIComponent('phone:+1 415 555 1003')}`,
    );
    expect(ledger.body.entries[0]).toMatchObject({ state: 'removed', removed: true, reason: 'no consent for ads' });
  });

  it('a crash between the send and the record resends only that batch; confirmed batches are never sent again', async () => {
    const added = [];
    for (let n = 7; n <= 8; n++) added.push(...(await h.store([person(n)])));
    await h.evaluator.evaluate(audienceId, 'full');
    const record = jest.spyOn(h.repository, 'recordBatch').mockRejectedValueOnce(new Error('the worker died'));
    await expect(h.engine.deliver(activationId)).rejects.toThrow('the worker died');
    record.mockRestore();
    expect(sends(meta, 'POST', emailHash(7))).toBe(1);
    // Sent, not recorded: the ledger has no row for the new member yet, and says the addition is pending.
    const ledger7 = () => h.api('GET', `/v1/activations/${activationId}/ledger?identifier=email:person7@acme-shop.io`);
    const pending = (await ledger7()).body;
    expect(pending.entries).toEqual([]);
    expect(pending.pending).toEqual([
      {
        profileId: added[0],
        operation: 'add',
        reason: null,
        batch: expect.objectContaining({ kind: 'write', state: 'planned', attempts: 0, nextAttemptAt: null }),
      },
    ]);
    expect((await h.deliverAll(activationId)).state).toBe('idle');
    const recorded = (await ledger7()).body;
    expect(recorded.pending).toEqual([]);
    expect(recorded.entries).toEqual([expect.objectContaining({ profileId: added[0], state: 'held' })]);
    // The unconfirmed batch went once more, the same items; nothing confirmed before was resent, nothing missed.
    expect(sends(meta, 'POST', emailHash(7))).toBe(2);
    expect(sends(meta, 'POST', emailHash(8))).toBe(2);
    expect(sends(meta, 'POST', emailHash(1))).toBe(1);
    expect(meta.state.has(platformId, 'EMAIL', emailHash(7))).toBe(true);
    expect((await h.api('GET', `/v1/activations/${activationId}`)).body.members.held).toBe(4);
  });

  it('a worker killed mid-run leaves its run marked running; the next lease holder closes it as interrupted', async () => {
    // What a SIGKILL leaves: a run still running and a lease that runs out, with no code of the dead worker to
    // close either.
    const dead = await h.repository.startRun(activationId, 'changes');
    expect(await h.repository.claimLease(activationId, 'killed-worker', 1)).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await h.deliverAll(activationId)).state).toBe('idle');
    const runs = (await h.api('GET', `/v1/activations/${activationId}/runs`)).body.data as Array<{
      id: number;
      status: string;
      error: string | null;
      finishedAt: string | null;
    }>;
    expect(runs.find((r) => r.id === dead)).toMatchObject({ status: 'failed', error: INTERRUPTED_RUN });
    expect(runs.find((r) => r.id === dead)?.finishedAt).toBeTruthy();
    expect(runs.filter((r) => r.status === 'running')).toEqual([]);
  });

  it('follows Meta throttling: code 80003 answers are retried and the batch goes through', async () => {
    await h.store([person(9)]);
    await h.evaluator.evaluate(audienceId, 'full');
    meta.faults.inject({ kind: '429', times: 2, path: '/users$' });
    expect((await h.deliverAll(activationId)).state).toBe('idle');
    expect(meta.faults.fired.filter((f) => f.kind === '429')).toHaveLength(2);
    expect(meta.state.has(platformId, 'EMAIL', emailHash(9))).toBe(true);
  });

  it("a throttle whose usage header asks for minutes becomes a retry at Meta's time, not a busy loop", async () => {
    const slow = await startMeta({ tokens: [TOKEN], adAccounts: ['1000'], rateLimit: false, regainAccessMinutes: 3 });
    try {
      const slowDestination = await h.createDestination('Meta (throttled)', 'meta-custom-audiences', {
        accessToken: TOKEN,
        adAccountId: '1000',
        baseUrl: slow.url,
      });
      const slowActivation = await h.activate({ audienceId, destinationId: slowDestination, mode: 'upsert' });
      slow.faults.inject({ kind: '429', times: 1, path: '/users$' });
      const before = Date.now();
      const waiting = await h.deliverAll(slowActivation);
      expect(waiting.state).toBe('waiting');
      // x-business-use-case-usage said 3 minutes: one request, then nothing until then.
      expect(waiting.until!.getTime()).toBeGreaterThanOrEqual(before + 3 * 60_000);
      // The ledger says why person 1 is not on this platform yet, and when the addition is tried again.
      const ledger = await h.api(
        'GET',
        `/v1/activations/${slowActivation}/ledger?identifier=email:person1@acme-shop.io`,
      );
      expect(ledger.body.entries).toEqual([]);
      expect(ledger.body.pending).toEqual([
        expect.objectContaining({
          operation: 'add',
          batch: expect.objectContaining({
            state: 'retrying',
            attempts: 1,
            error: expect.stringMatching(/80003|limit/),
          }),
        }),
      ]);
      expect(new Date(ledger.body.pending[0].batch.nextAttemptAt).getTime()).toBe(waiting.until!.getTime());
      expect(slow.requests.filter((r) => r.path.endsWith('/users'))).toHaveLength(1);
      expect((await h.deliverAll(slowActivation)).state).toBe('waiting');
      expect(slow.requests.filter((r) => r.path.endsWith('/users'))).toHaveLength(1);
      await h.api('PATCH', `/v1/activations/${slowActivation}`, { paused: false });
      expect((await h.deliverAll(slowActivation)).state).toBe('idle');
      const held = (await h.api('GET', `/v1/activations/${slowActivation}`)).body.members.held;
      expect(
        slow.state.members((await h.api('GET', `/v1/activations/${slowActivation}`)).body.externalId),
      ).toHaveLength(held);
      await h.api('DELETE', `/v1/activations/${slowActivation}`);
      await h.deliverAll(slowActivation);
    } finally {
      await slow.close();
    }
  });

  it('partial failures: a row Meta refuses is recorded as invalid, the others are held', async () => {
    await h.store([person(10), person(11)]);
    await h.evaluator.evaluate(audienceId, 'full');
    meta.faults.inject({ kind: 'partial-failure', times: 1 });
    expect((await h.deliverAll(activationId)).state).toBe('idle');
    const run = (await h.api('GET', `/v1/activations/${activationId}/runs`)).body.data[0];
    expect(run).toMatchObject({ status: 'partial', adds: 2, accepted: 1, invalid: 1 });
    const counts = (await h.api('GET', `/v1/activations/${activationId}`)).body.members;
    expect(counts.invalid).toBe(1);
  });

  it('an expired token stops the activation with a configuration error; resuming sends what was held back', async () => {
    await h.store([person(12)]);
    await h.evaluator.evaluate(audienceId, 'full');
    meta.faults.inject({ kind: 'expired-token', times: 1 });
    expect((await h.deliverAll(activationId)).state).toBe('stopped');
    const blocked = await h.api('GET', `/v1/activations/${activationId}/ledger?identifier=email:person12@acme-shop.io`);
    expect(blocked.body.pending).toEqual([
      expect.objectContaining({
        operation: 'add',
        batch: expect.objectContaining({ state: 'blocked', error: expect.stringContaining('access token') }),
      }),
    ]);
    const stopped = (await h.api('GET', `/v1/activations/${activationId}`)).body;
    expect(stopped.status).toBe('stopped');
    expect(stopped.error.message).toContain('access token');
    expect(meta.state.has(platformId, 'EMAIL', emailHash(12))).toBe(false);
    expect((await h.deliverAll(activationId)).state).toBe('stopped');
    const resumed = await h.api('PATCH', `/v1/activations/${activationId}`, { paused: false });
    expect(resumed.body).toMatchObject({ status: 'active', error: null });
    expect((await h.deliverAll(activationId)).state).toBe('idle');
    expect(meta.state.has(platformId, 'EMAIL', emailHash(12))).toBe(true);
    const runs = (await h.api('GET', `/v1/activations/${activationId}/runs`)).body.data;
    expect(
      runs.some((r: { status: string; error: string }) => r.status === 'failed' && /access token/.test(r.error)),
    ).toBe(true);
  });

  it('mirror mode replaces the platform list through a usersreplace session', async () => {
    const again = await h.api('POST', '/v1/activations', { audienceId, destinationId, mode: 'mirror' });
    expect(again.status).toBe(409);
    const sameRule = await h.createAudience('VIP (mirrored)', VIP_RULE);
    const mirrorId = await h.activate({ audienceId: sameRule, destinationId, mode: 'mirror' });
    expect((await h.deliverAll(mirrorId)).state).toBe('idle');
    const mirror = (await h.api('GET', `/v1/activations/${mirrorId}`)).body;
    expect(mirror.mirrorInProgress).toBe(false);
    const replaces = meta.requests.filter((r) => r.path.endsWith('/usersreplace'));
    expect(replaces).toHaveLength(1);
    expect((replaces[0].body as { session: unknown }).session).toMatchObject({ batch_seq: 1, last_batch_flag: true });
    const list = meta.state.members(mirror.externalId);
    // Everyone in the audience who can be sent: 2 left it, 3 revoked consent, 5 never gave it, 6 has no usable id.
    expect(list.map((row) => row.EMAIL).sort()).toEqual([1, 4, 7, 8, 9, 10, 11, 12].map(emailHash).sort());
    expect(mirror.members).toEqual({ held: 8, not_sendable: 3 });
  });

  it('a scheduled activation waits for its schedule instead of following each change', async () => {
    const nightly = await h.createAudience('VIP (nightly)', VIP_RULE);
    const id = await h.activate({
      audienceId: nightly,
      destinationId,
      mode: 'upsert',
      schedule: { cron: '0 3 * * *' },
    });
    expect((await h.repository.withWork(new Date())).map((a) => a.id)).not.toContain(id);
    // What the activation's job scheduler does at 03:00.
    await h.t.app.get(ActivationJobs).scheduled({ activationId: id });
    expect((await h.deliverAll(id)).state).toBe('idle');
    expect((await h.api('GET', `/v1/activations/${id}`)).body).toMatchObject({
      schedule: { cron: '0 3 * * *' },
      members: { held: 8 },
    });
  });

  it('deleting the activation removes every member the platform holds, and only from its own platform audience', async () => {
    // The same audience through a second destination on the same ad account: its own platform audience.
    const twin = await h.createDestination('Meta (same ad account)', 'meta-custom-audiences', {
      accessToken: TOKEN,
      adAccountId: '1000',
      baseUrl: meta.url,
      requestsPerSecond: 100,
    });
    const twinActivation = await h.activate({ audienceId, destinationId: twin, mode: 'upsert' });
    expect((await h.deliverAll(twinActivation)).state).toBe('idle');
    const twinView = (await h.api('GET', `/v1/activations/${twinActivation}`)).body;
    expect(twinView.externalId).not.toBe(platformId);
    expect(meta.state.audiences.get(twinView.externalId)?.description).toBe(`plexus-activation:${twinActivation}`);
    expect(twinView.members.held).toBeGreaterThan(0);
    expect(meta.state.members(twinView.externalId)).toHaveLength(twinView.members.held);

    const deleted = await h.api('DELETE', `/v1/activations/${activationId}`);
    expect(deleted.status).toBe(202);
    expect((await h.deliverAll(activationId)).state).toBe('deleted');
    expect(meta.state.members(platformId)).toHaveLength(0);
    expect(meta.state.members(twinView.externalId)).toHaveLength(twinView.members.held);
    const view = (await h.api('GET', `/v1/activations/${activationId}`)).body;
    expect(view).toMatchObject({ status: 'deleted' });
    expect(view.members.held).toBeUndefined();
    const ledger = await h.api('GET', `/v1/activations/${activationId}/ledger?identifier=email:person1@acme-shop.io`);
    expect(ledger.body.entries[0]).toMatchObject({ removed: true, reason: 'the activation was deleted' });
  });
  it("closes a deleted destination's delivery queue at the next tick", async () => {
    const gone = await h.createDestination('Meta (to delete)', 'meta-custom-audiences', {
      accessToken: TOKEN,
      adAccountId: '1000',
      baseUrl: meta.url,
    });
    const queues = h.t.app.get(QueueService);
    await h.t.app.get(ActivationScheduler).kick({ id: randomUUID(), destinationId: gone });
    expect(queues.partitionKeys('activation.deliver')).toContain(gone);
    const jobs = h.t.app.get(ActivationJobs);
    await jobs.tick();
    expect(queues.partitionKeys('activation.deliver')).toContain(gone);
    expect((await h.api('DELETE', `/v1/destinations/${gone}`)).status).toBe(204);
    const keysOfGone = () => queues.redis.keys(`${queues.prefix}:activation-${gone}:*`);
    expect((await keysOfGone()).length).toBeGreaterThan(0);
    await jobs.tick();
    expect(queues.partitionKeys('activation.deliver')).not.toContain(gone);
    // Its keys leave Redis too (the tick does not wait for that).
    await until(async () => (await keysOfGone()).length === 0, 5_000, 50);
    expect(await keysOfGone()).toEqual([]);
    // The destinations that exist keep theirs.
    expect(queues.partitionKeys('activation.deliver')).toContain(destinationId);
  });
});
