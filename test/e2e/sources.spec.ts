import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueueService } from '@plexus/queue';
import { startTestApp, type TestApp } from '../support/app.js';
import { call } from '../support/http.js';
import { until } from '../support/wait.js';

/** A plugin written the way an integrator would, without decorator syntax (the file lives outside the project). */
function pluginSource(id: string, sdk: string): string {
  return `
import { ConfigurationError, IsString, IsOptional, defineSource } from '@plexus/sdk';
class Cfg {}
IsString()(Cfg.prototype, 'token');
IsOptional()(Cfg.prototype, 'region');
IsString()(Cfg.prototype, 'region');
export default {
  id: '${id}', version: '1.0.0', sdk: '${sdk}', kind: 'source', displayName: '${id}', config: Cfg, secrets: ['token'],
  async check(ctx) { if (ctx.config.token !== 'good-token') throw new ConfigurationError('token rejected: check the token'); },
  streams: [{ name: 'things', primaryKey: ['id'], mode: 'full', async *read() {}, toProfile: () => null }],
};
`;
}

const mapping = {
  identifiers: { email: 'Email', phone: 'Phone', external_id: 'Id' },
  traits: { firstName: 'First Name', country: 'Country' },
  observedAt: 'Updated',
};

describe('sources, runs and the file-import connector (PostgreSQL)', () => {
  let t: TestApp;
  let dir: string;
  let pluginDir: string;

  beforeAll(async () => {
    pluginDir = mkdtempSync(join(tmpdir(), 'plexus-plugins-'));
    // A plugin that throws on load, one with an invalid definition, one needing another SDK: the hub starts anyway.
    // Plugins outside the project are plain ES modules, as a published plugin would be.
    writeFileSync(join(pluginDir, 'package.json'), '{ "type": "module" }\n');
    mkdirSync(join(pluginDir, 'broken'));
    writeFileSync(join(pluginDir, 'broken', 'index.js'), "throw new Error('boom at load');\nexport default {};\n");
    mkdirSync(join(pluginDir, 'invalid'));
    writeFileSync(join(pluginDir, 'invalid', 'index.js'), "export default { id: 'Invalid Id', kind: 'source' };\n");
    mkdirSync(join(pluginDir, 'future'));
    writeFileSync(join(pluginDir, 'future', 'index.js'), pluginSource('future', '^9.0.0'));
    // A valid plugin with a secret: checks the token, so the test can see secrets sealed, masked and used.
    mkdirSync(join(pluginDir, 'secretive'));
    writeFileSync(join(pluginDir, 'secretive', 'index.js'), pluginSource('secretive', '^0.1.0'));
    t = await startTestApp({ label: 'sources', env: { CONNECTORS_PATH: pluginDir } });
    dir = t.importDir; // local paths are read only inside the import folders
  });
  afterAll(async () => {
    await t.close();
    rmSync(pluginDir, { recursive: true, force: true });
  });

  it('lists the catalog with config JSON Schema, and the plugins it skipped with their reasons', async () => {
    const catalog = await call(t.url, 'GET', '/v1/connectors', { headers: t.auth });
    expect(catalog.status).toBe(200);
    const fileImport = catalog.body.data.find((c: { id: string }) => c.id === 'file-import');
    expect(fileImport).toMatchObject({
      kind: 'source',
      version: '0.1.0',
      uploads: true,
      streams: [{ name: 'rows', mode: 'full' }],
    });
    expect(fileImport.configSchema.properties.format).toMatchObject({ enum: ['csv', 'ndjson'] });
    const problems = await call(t.url, 'GET', '/v1/connectors/problems', { headers: t.auth });
    const reasons = Object.fromEntries(
      problems.body.data.map((p: { origin: string; reason: string }) => [p.origin.split('/').pop(), p.reason]),
    );
    expect(reasons.broken).toMatch(/throws on load: boom at load/);
    expect(reasons.invalid).toMatch(/invalid definition/);
    expect(reasons.future).toMatch(/needs @plexus\/sdk \^9\.0\.0/);
  });

  it('encrypts secrets at rest, never returns them, and keeps them on a masked PATCH', async () => {
    const created = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: { name: 'secret', connector: 'secretive', config: { token: 'good-token', region: 'eu' } },
    });
    expect(created.status).toBe(201);
    expect(created.body.config).toEqual({ token: '********', region: 'eu' });
    const stored = await t.database!.open();
    try {
      const row = await stored.db
        .selectFrom('connections')
        .select('config')
        .where('id', '=', created.body.id)
        .executeTakeFirstOrThrow();
      expect(JSON.stringify(row.config)).not.toContain('good-token');
      expect(String((row.config as { token: string }).token)).toMatch(/^v1:/);
    } finally {
      await stored.close();
    }
    expect((await call(t.url, 'POST', `/v1/sources/${created.body.id}/check`, { headers: t.auth })).body).toEqual({
      ok: true,
    });
    const kept = await call(t.url, 'PATCH', `/v1/sources/${created.body.id}`, {
      headers: t.auth,
      body: { config: { token: '********', region: 'us' } },
    });
    expect(kept.body.config).toEqual({ token: '********', region: 'us' });
    expect((await call(t.url, 'POST', `/v1/sources/${created.body.id}/check`, { headers: t.auth })).body).toEqual({
      ok: true,
    });
    await call(t.url, 'PATCH', `/v1/sources/${created.body.id}`, {
      headers: t.auth,
      body: { config: { token: 'bad-token' } },
    });
    expect((await call(t.url, 'POST', `/v1/sources/${created.body.id}/check`, { headers: t.auth })).body).toEqual({
      ok: false,
      failureType: 'config',
      message: 'token rejected: check the token',
    });
    const listed = await call(t.url, 'GET', '/v1/sources?limit=100', { headers: t.auth });
    expect(JSON.stringify(listed.body)).not.toMatch(/good-token|bad-token/);
    expect(t.logs.join('\n')).not.toMatch(/good-token|bad-token/);
  });

  it('rejects a bad config with 400 naming the fields, and an unknown connector', async () => {
    const bad = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: {
        name: 'x',
        connector: 'file-import',
        config: { format: 'xml', mapping: { identifiers: { shoe_size: 'S' } }, extra: 1 },
      },
    });
    expect(bad.status).toBe(400);
    const fields = bad.body.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(
      expect.arrayContaining(['config.format', 'config.mapping.identifiers', 'config.extra', 'config.path']),
    );
    const unknown = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: { name: 'x', connector: 'nope', config: {} },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toMatch(/connector/);
    const badSchedule = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: {
        name: 'x',
        connector: 'file-import',
        config: { path: '/tmp/x.csv', format: 'csv', mapping },
        schedule: { cron: 'every day' },
      },
    });
    expect(badSchedule.status).toBe(400);
    expect(badSchedule.body.details[0].field).toBe('schedule.cron');
  });

  it('creates a scheduled source (one BullMQ job scheduler), updates and removes the schedule', async () => {
    const file = join(dir, 'sched.csv');
    writeFileSync(file, 'Id,Email\n1,s@example.io\n');
    const created = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: {
        name: 'nightly',
        connector: 'file-import',
        config: { path: file, format: 'csv', mapping: { identifiers: { email: 'Email' } } },
        schedule: { cron: '0 3 * * *' },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.id).toMatch(/^src_/);
    const queues = t.app.get(QueueService);
    const schedulers = async (): Promise<Array<{ id: string; pattern?: string | null; every?: number | null }>> =>
      (await queues.schedulers('source.scheduled')).filter((s) => s.id === `source:${created.body.id}`);
    expect(await schedulers()).toEqual([expect.objectContaining({ pattern: '0 3 * * *' })]);
    const patched = await call(t.url, 'PATCH', `/v1/sources/${created.body.id}`, {
      headers: t.auth,
      body: { schedule: { everySeconds: 3600 } },
    });
    expect(patched.status).toBe(200);
    expect(await schedulers()).toEqual([expect.objectContaining({ every: 3600000 })]);
    await call(t.url, 'PATCH', `/v1/sources/${created.body.id}`, { headers: t.auth, body: { schedule: null } });
    expect(await schedulers()).toEqual([]);
    await call(t.url, 'PATCH', `/v1/sources/${created.body.id}`, {
      headers: t.auth,
      body: { schedule: { everySeconds: 60 } },
    });
    expect(await schedulers()).toHaveLength(1);
    expect((await call(t.url, 'DELETE', `/v1/sources/${created.body.id}`, { headers: t.auth })).status).toBe(204);
    expect(await schedulers()).toEqual([]);
    expect((await call(t.url, 'GET', `/v1/sources/${created.body.id}`, { headers: t.auth })).status).toBe(404);
  });

  it('syncs a CSV: malformed rows are quarantined with the reason and the run ends partial', async () => {
    const file = join(dir, 'people.csv');
    writeFileSync(
      file,
      [
        'Id,Email,Phone,First Name,Country,Updated',
        '1,alice@example.io,(415) 555-0101,Alice,US,2026-01-02T10:00:00Z',
        '2,BOB@Example.io ,+44 20 7946 0958,Bob,GB,2026-01-03T10:00:00Z',
        ',,,NoIds,US,2026-01-04T10:00:00Z',
        '4,carol@example.io,,Carol,US,not-a-date',
        '5,dave@example.io,,Dave,US,2026-01-05T10:00:00Z',
      ].join('\n') + '\n',
    );
    const created = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: {
        name: 'crm export',
        connector: 'file-import',
        config: { path: file, format: 'csv', defaultCountry: 'US', mapping },
      },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await call(t.url, 'POST', `/v1/sources/${id}/check`, { headers: t.auth })).body).toEqual({ ok: true });

    const started = await call(t.url, 'POST', `/v1/sources/${id}/sync`, { headers: t.auth });
    expect(started.status).toBe(202);
    const run = await until(async () => {
      const r = await call(t.url, 'GET', `/v1/runs/${started.body.runId}`, { headers: t.auth });
      return ['succeeded', 'partial', 'failed'].includes(r.body.status) ? r.body : undefined;
    });
    expect(run).toMatchObject({
      sourceId: id,
      status: 'partial',
      stats: { read: 5, written: 3, quarantined: 2, deleted: 0 },
    });
    expect(run.streams).toEqual([expect.objectContaining({ stream: 'rows', read: 5, finished: true })]);

    const quarantine = await call(t.url, 'GET', `/v1/sources/${id}/quarantine`, { headers: t.auth });
    expect(quarantine.body.data).toHaveLength(2);
    expect(quarantine.body.data.map((q: { reason: string }) => q.reason).join('\n')).toMatch(
      /line 4: no identifier[\s\S]*line 5: Updated is not a date/,
    );
    expect(quarantine.body.data[0].record).toMatchObject({ line: 4, row: { 'First Name': 'NoIds' } });

    const runs = await call(t.url, 'GET', `/v1/sources/${id}/runs`, { headers: t.auth });
    expect(runs.body.data[0].id).toBe(started.body.runId);

    const profile = await call(t.url, 'GET', `/v1/profiles?identifier=${encodeURIComponent('email:Bob@example.io ')}`, {
      headers: t.auth,
    });
    expect(profile.status).toBe(200);
  });

  it('never runs two syncs of one source at once, and cancels a queued run', async () => {
    const file = join(dir, 'big.ndjson');
    writeFileSync(
      file,
      Array.from({ length: 20000 }, (_, i) => JSON.stringify({ id: i, email: `p${i}@example.io` })).join('\n'),
    );
    const created = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: {
        name: 'big',
        connector: 'file-import',
        config: { path: file, format: 'ndjson', mapping: { identifiers: { email: 'email' } } },
      },
    });
    const id = created.body.id as string;
    const first = await call(t.url, 'POST', `/v1/sources/${id}/sync`, { headers: t.auth });
    const second = await call(t.url, 'POST', `/v1/sources/${id}/sync`, { headers: t.auth });
    expect(second.status).toBe(409);
    expect(second.body.details.runId).toBe(first.body.runId);
    const cancelled = await call(t.url, 'POST', `/v1/runs/${first.body.runId}/cancel`, { headers: t.auth });
    expect(cancelled.status).toBe(202);
    const run = await until(async () => {
      const r = await call(t.url, 'GET', `/v1/runs/${first.body.runId}`, { headers: t.auth });
      return ['succeeded', 'partial', 'failed', 'cancelled'].includes(r.body.status) ? r.body : undefined;
    });
    expect(run.status).toBe('cancelled');
    expect(run.stats.read).toBeLessThan(20000);
  });

  it('runs a source on its schedule', async () => {
    const file = join(dir, 'ticks.csv');
    writeFileSync(file, 'Id,Email\n1,tick@example.io\n');
    const created = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: {
        name: 'every second',
        connector: 'file-import',
        config: { path: file, format: 'csv', mapping: { identifiers: { email: 'Email' } } },
        schedule: { everySeconds: 1 },
      },
    });
    const id = created.body.id as string;
    const runs = await until(async () => {
      const r = await call(t.url, 'GET', `/v1/sources/${id}/runs`, { headers: t.auth });
      return r.body.data.filter((run: { status: string }) => run.status === 'succeeded').length >= 2
        ? r.body.data
        : undefined;
    }, 15000);
    expect(runs.every((run: { trigger: string }) => run.trigger === 'schedule')).toBe(true);
    await call(t.url, 'DELETE', `/v1/sources/${id}`, { headers: t.auth });
  });

  it('runs an uploaded NDJSON file through the same mapping', async () => {
    const created = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: {
        name: 'uploads',
        connector: 'file-import',
        config: {
          url: 'https://files.example.com/none.ndjson',
          format: 'ndjson',
          mapping: { identifiers: { email: 'email', external_id: 'id' }, traits: { plan: 'plan' } },
        },
      },
    });
    const id = created.body.id as string;
    const body =
      '{"id":"n1","email":"erin@example.io","plan":"pro"}\n{"id":"n2","email":"frank@example.io","plan":"free"}\n{not json\n';
    const res = await fetch(`${t.url}/v1/sources/${id}/upload`, {
      method: 'POST',
      headers: { ...t.auth, 'content-type': 'application/x-ndjson' },
      body,
    });
    expect(res.status).toBe(202);
    const { runId, bytes } = (await res.json()) as { runId: string; bytes: number };
    expect(bytes).toBe(Buffer.byteLength(body));
    const run = await until(async () => {
      const r = await call(t.url, 'GET', `/v1/runs/${runId}`, { headers: t.auth });
      return ['succeeded', 'partial', 'failed'].includes(r.body.status) ? r.body : undefined;
    });
    expect(run).toMatchObject({ status: 'partial', stats: { read: 3, written: 2, quarantined: 1 } });
    const fetched = await call(t.url, 'GET', `/v1/sources/${id}`, { headers: t.auth });
    expect(fetched.body.config.url).toBe('https://files.example.com/none.ndjson');
  });
});
