import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { QueueService } from '@plexus/queue';
import { startTestApp, type TestApp } from '../support/app.js';
import { call } from '../support/http.js';
import { waitForRun } from '../support/hub.js';
import { until } from '../support/wait.js';

const mapping = { identifiers: { email: 'email' } };

/** A loopback HTTP server for the test; `respond` decides each answer. */
async function startServer(
  respond: (url: string, res: ServerResponse) => void,
): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => respond(req.url ?? '/', res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function stopServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

// The outbound policy is per process: the two hubs of this file run one after the other.
describe('connections of a hub that may reach loopback (the test emulators)', () => {
  let t: TestApp;
  let trickle: { server: Server; base: string };
  let openRequests = 0;
  const seen: Array<{ url: string; authorization?: string }> = [];
  let capture: { server: Server; base: string };

  beforeAll(async () => {
    t = await startTestApp({ label: 'hardening' });
    // A remote that sends one byte every 2 s forever: no idle timeout ever fires.
    trickle = await startServer((_url, res) => {
      openRequests++;
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.write('email\n');
      const timer = setInterval(() => res.write('a'), 2000);
      res.on('close', () => {
        clearInterval(timer);
        openRequests--;
      });
    });
    capture = await startServer((url, res) => {
      res.writeHead(200, { 'content-type': 'text/csv' }).end('email\nx@example.io\n');
      void url;
    });
    capture.server.on('request', (req) => seen.push({ url: req.url ?? '', authorization: req.headers.authorization }));
  });
  afterAll(async () => {
    await stopServer(trickle.server);
    await stopServer(capture.server);
    await t.close();
  });

  it('refuses an address change that does not re-enter the secrets, and sends them nowhere else', async () => {
    const created = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: {
        name: 'crm',
        connector: 'hubspot',
        config: { accessToken: 'pat-na1-original-token', baseUrl: `${capture.base}/hubspot` },
      },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    for (const config of [
      { baseUrl: `${capture.base}/elsewhere` },
      { baseUrl: `${capture.base}/elsewhere`, accessToken: '********' },
    ]) {
      const patched = await call(t.url, 'PATCH', `/v1/sources/${id}`, { headers: t.auth, body: { config } });
      expect(patched.status).toBe(400);
      expect(patched.body.message).toMatch(/config\.baseUrl \(re-enter the secrets when the address changes/);
    }
    const check = await call(t.url, 'POST', `/v1/sources/${id}/check`, { headers: t.auth });
    expect(check.status).toBe(200);
    expect(seen.filter((r) => r.url.startsWith('/elsewhere'))).toEqual([]);

    const moved = await call(t.url, 'PATCH', `/v1/sources/${id}`, {
      headers: t.auth,
      body: { config: { baseUrl: `${capture.base}/elsewhere`, accessToken: 'pat-na1-new-token' } },
    });
    expect(moved.status).toBe(200);
    expect(moved.body.config.accessToken).toBe('********');

    // The same rule for a feed URL and its authorization header.
    const feed = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: {
        name: 'feed',
        connector: 'file-import',
        config: { url: `${capture.base}/a.csv`, authorization: 'Bearer feed-secret', format: 'csv', mapping },
      },
    });
    const refused = await call(t.url, 'PATCH', `/v1/sources/${feed.body.id}`, {
      headers: t.auth,
      body: { config: { url: `${capture.base}/b.csv` } },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.details).toEqual([
      { field: 'config.url', problems: [expect.stringMatching(/re-enter the secrets.*config\.authorization/)] },
    ]);
  });

  it('treats credentials inside a URL as secrets: never shown, redacted from errors', async () => {
    const created = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: {
        name: 'basic-auth feed',
        connector: 'file-import',
        config: { url: `http://feeduser:hunter2pass@127.0.0.1:1/a.csv`, format: 'csv', mapping },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.config.url).toBe('http://********@127.0.0.1:1/a.csv');
    const got = await call(t.url, 'GET', `/v1/sources/${created.body.id}`, { headers: t.auth });
    const listed = await call(t.url, 'GET', '/v1/sources?limit=100', { headers: t.auth });
    const check = await call(t.url, 'POST', `/v1/sources/${created.body.id}/check`, { headers: t.auth });
    expect(check.body.ok).toBe(false);
    for (const answer of [got.body, listed.body, check.body])
      expect(JSON.stringify(answer)).not.toMatch(/hunter2pass|feeduser/);
    const database = await t.database!.open();
    try {
      const row = await database.db
        .selectFrom('connections')
        .select('config')
        .where('id', '=', created.body.id)
        .executeTakeFirstOrThrow();
      expect(JSON.stringify(row.config)).not.toMatch(/hunter2pass/);
    } finally {
      await database.close();
    }
  });

  it('aborts the in-flight read of a trickling remote within seconds of a cancel or a delete', async () => {
    const source = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: {
        name: 'slow',
        connector: 'file-import',
        config: { url: `${trickle.base}/slow.csv`, format: 'csv', mapping },
      },
    });
    const started = await call(t.url, 'POST', `/v1/sources/${source.body.id}/sync`, { headers: t.auth });
    await until(async () => openRequests > 0, 20_000);
    const cancelledAt = Date.now();
    await call(t.url, 'POST', `/v1/runs/${started.body.runId}/cancel`, { headers: t.auth });
    const run = await waitForRun(t, started.body.runId as string, 15_000);
    expect(run.status).toBe('cancelled');
    await until(async () => openRequests === 0, 10_000);
    expect(Date.now() - cancelledAt).toBeLessThan(10_000);

    await call(t.url, 'POST', `/v1/sources/${source.body.id}/sync`, { headers: t.auth });
    await until(async () => openRequests > 0, 20_000);
    const deletedAt = Date.now();
    expect((await call(t.url, 'DELETE', `/v1/sources/${source.body.id}`, { headers: t.auth })).status).toBe(204);
    await until(async () => openRequests === 0, 10_000);
    expect(Date.now() - deletedAt).toBeLessThan(10_000);
  });

  it('validates the whole request before writing: bad schedules save nothing, database and scheduler agree', async () => {
    const count = async (): Promise<number> =>
      (await call(t.url, 'GET', '/v1/sources?limit=100', { headers: t.auth })).body.data.length as number;
    const before = await count();
    for (const [connector, schedule, field] of [
      ['file-import', { cron: '0 3 * * *', tz: 'Not/AZone' }, 'schedule.tz'],
      ['file-import', { cron: '' }, 'schedule.cron'],
      ['http-events', { cron: '0 3 * * *', tz: 'Not/AZone' }, 'schedule.tz'],
    ] as const) {
      const config = connector === 'http-events' ? {} : { url: `${capture.base}/a.csv`, format: 'csv', mapping };
      const created = await call(t.url, 'POST', '/v1/sources', {
        headers: t.auth,
        body: { name: 'bad schedule', connector, config, schedule },
      });
      expect(created.status).toBe(400);
      expect(created.body.details).toEqual([expect.objectContaining({ field })]);
    }
    expect(await count()).toBe(before);

    const source = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: {
        name: 'nightly',
        connector: 'file-import',
        config: { url: `${capture.base}/a.csv`, format: 'csv', mapping },
        schedule: { cron: '0 3 * * *', tz: 'Europe/Paris' },
      },
    });
    const patched = await call(t.url, 'PATCH', `/v1/sources/${source.body.id}`, {
      headers: t.auth,
      body: { schedule: { cron: '0 4 * * *', tz: 'Not/AZone' } },
    });
    expect(patched.status).toBe(400);
    const stored = await call(t.url, 'GET', `/v1/sources/${source.body.id}`, { headers: t.auth });
    expect(stored.body.schedule).toEqual({ cron: '0 3 * * *', tz: 'Europe/Paris' });
    const schedulers = (await t.app.get(QueueService).schedulers('source.scheduled')).filter(
      (s) => s.id === `source:${source.body.id}`,
    );
    expect(schedulers).toEqual([expect.objectContaining({ pattern: '0 3 * * *' })]);
  });
});

describe('connections of a hub as deployed (no outbound allow list, embedded database)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ label: 'hardening-deployed', storage: 'pglite', env: { OUTBOUND_ALLOW: '' } });
  }, 180_000);
  afterAll(async () => {
    await t.close();
  });

  const checkOf = async (config: Record<string, unknown>): Promise<{ id: string; check: any }> => {
    const created = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: { name: 'probe', connector: 'file-import', config: { format: 'csv', mapping, ...config } },
    });
    expect(created.status).toBe(201);
    const check = await call(t.url, 'POST', `/v1/sources/${created.body.id}/check`, { headers: t.auth });
    return { id: created.body.id as string, check: check.body };
  };

  it('reads local files only inside the import folders, never DATA_DIR', async () => {
    writeFileSync(join(t.importDir, 'ok.csv'), 'email\nok@example.io\n', { mode: 0o600 });
    expect((await checkOf({ path: join(t.importDir, 'ok.csv') })).check).toEqual({ ok: true });
    // An upload run reads the bytes stored in the database, whatever the import folders are.
    const uploaded = await checkOf({ path: join(t.importDir, 'ok.csv') });
    const res = await fetch(`${t.url}/v1/sources/${uploaded.id}/upload`, {
      method: 'POST',
      headers: { ...t.auth, 'content-type': 'text/csv' },
      body: 'email\nup@example.io\n',
    });
    expect(res.status).toBe(202);
    const uploadRun = await waitForRun(t, ((await res.json()) as { runId: string }).runId);
    expect(uploadRun).toMatchObject({ status: 'succeeded', stats: { written: 1 } });
    for (const path of ['/etc/passwd', join(t.importDir, '..', 'master.key'), join(t.env.DATA_DIR, 'admin-api-key')]) {
      const { id, check } = await checkOf({ path });
      expect(check).toMatchObject({
        ok: false,
        failureType: 'config',
        message: expect.stringMatching(/outside the import folders/),
      });
      const started = await call(t.url, 'POST', `/v1/sources/${id}/sync`, { headers: t.auth });
      const run = await waitForRun(t, started.body.runId as string);
      expect(run.status).toBe('failed');
      const quarantine = await call(t.url, 'GET', `/v1/sources/${id}/quarantine`, { headers: t.auth });
      expect(quarantine.body.data).toEqual([]);
    }
  });

  it('refuses loopback, private and metadata addresses alike, open port or closed', async () => {
    const port = new URL(t.url).port;
    const open = (await checkOf({ url: `http://127.0.0.1:${port}/health` })).check;
    const closed = (await checkOf({ url: 'http://127.0.0.1:1/health' })).check;
    const named = (await checkOf({ url: `http://localhost:${port}/v1/sources` })).check;
    const metadata = (await checkOf({ url: 'http://169.254.169.254/latest/meta-data/' })).check;
    for (const check of [open, closed, named, metadata]) {
      expect(check).toMatchObject({
        ok: false,
        failureType: 'config',
        message: expect.stringMatching(/OUTBOUND_ALLOW/),
      });
      expect(check.message).not.toMatch(/"status"|ECONNREFUSED/);
    }
    expect(open.message.replace(port, 'PORT')).toBe(closed.message.replace(':1/', ':PORT/'));
  });

  it('keeps DATA_DIR private: the folder 0700, the embedded database files 0600', () => {
    const modes: string[] = [];
    const walk = (path: string): void => {
      const info = statSync(path);
      const expected = info.isDirectory() ? 0o700 : 0o600;
      if ((info.mode & 0o777) !== expected) modes.push(`${path} ${(info.mode & 0o777).toString(8)}`);
      if (info.isDirectory()) for (const entry of readdirSync(path)) walk(join(path, entry));
    };
    walk(t.env.DATA_DIR);
    expect(modes).toEqual([]);
  });
});
