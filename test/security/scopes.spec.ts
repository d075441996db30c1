import { startTestApp, type TestApp } from '../support/app.js';
import { call } from '../support/http.js';

/**
 * What every route of the OpenAPI document requires. A route missing here fails the test: add it with the
 * scope it should need (`public`, `any key`, a scope, or scopes joined by `+`).
 */
const REQUIRED_SCOPES: Record<string, string> = {
  'GET /health': 'public',
  'GET /ready': 'public',
  'GET /metrics': 'read (public when METRICS_PUBLIC=true)',
  'GET /v1/api-keys': 'admin',
  'POST /v1/api-keys': 'any key',
  'GET /v1/api-keys/me': 'any key',
  'DELETE /v1/api-keys/{id}': 'admin',
  'GET /v1/queues': 'read',
  'GET /v1/queues/{queue}/failed': 'read',
  'POST /v1/queues/{queue}/failed/{jobId}/retry': 'admin',
  'GET /v1/identity/rules': 'read',
  'PUT /v1/identity/rules': 'admin',
  'POST /v1/identity/rules/dry-run': 'admin',
  'GET /v1/identity/flags': 'read',
  'GET /v1/profiles': 'read',
  'GET /v1/profiles/export': 'read+pii:read',
  'GET /v1/profiles/{id}': 'read',
  'GET /v1/profiles/{id}/events': 'read',
  'GET /v1/profiles/{id}/history': 'read',
  'POST /v1/profiles/{id}/unmerge': 'admin',
  'GET /v1/connectors': 'read',
  'GET /v1/connectors/problems': 'read',
  'GET /v1/connectors/{id}': 'read',
  'POST /v1/sources': 'sources:write',
  'GET /v1/sources': 'read',
  'GET /v1/sources/{id}': 'read',
  'PATCH /v1/sources/{id}': 'sources:write',
  'DELETE /v1/sources/{id}': 'sources:write',
  'POST /v1/sources/{id}/check': 'sources:write',
  'POST /v1/sources/{id}/sync': 'sources:write',
  'GET /v1/sources/{id}/runs': 'read',
  'GET /v1/sources/{id}/quarantine': 'read',
  'POST /v1/sources/{id}/upload': 'sources:write',
  'POST /v1/sources/{id}/write-key': 'sources:write',
  'GET /v1/sources/{id}/write-keys': 'read',
  'POST /v1/destinations': 'activations:write',
  'GET /v1/destinations': 'read',
  'GET /v1/destinations/{id}': 'read',
  'PATCH /v1/destinations/{id}': 'activations:write',
  'DELETE /v1/destinations/{id}': 'activations:write',
  'POST /v1/destinations/{id}/check': 'activations:write',
  'POST /v1/activations': 'activations:write',
  'GET /v1/activations': 'read',
  'GET /v1/activations/{id}': 'read',
  'PATCH /v1/activations/{id}': 'activations:write',
  'DELETE /v1/activations/{id}': 'activations:write',
  'GET /v1/activations/{id}/runs': 'read',
  'GET /v1/activations/{id}/ledger': 'read',
  'GET /v1/activations/{id}/dead-letters': 'read',
  'POST /v1/activations/{id}/replay': 'activations:write',
  'GET /v1/runs/{id}': 'read',
  'POST /v1/runs/{id}/cancel': 'sources:write',
  'POST /v1/identify': 'public',
  'POST /v1/track': 'public',
  'POST /v1/page': 'public',
  'POST /v1/screen': 'public',
  'POST /v1/group': 'public',
  'POST /v1/alias': 'public',
  'POST /v1/batch': 'public',
  'POST /v1/import': 'public',
  'POST /v1/webhooks/{sourceId}': 'public',
  'GET /v1/audit': 'admin',
  'POST /v1/audiences': 'audiences:write',
  'GET /v1/audiences': 'read',
  'POST /v1/audiences/preview': 'read',
  'GET /v1/audiences/overlap': 'read',
  'GET /v1/audiences/{id}': 'read',
  'PATCH /v1/audiences/{id}': 'audiences:write',
  'DELETE /v1/audiences/{id}': 'audiences:write',
  'POST /v1/audiences/{id}/evaluate': 'audiences:write',
  'GET /v1/audiences/{id}/members': 'read',
  'GET /v1/audiences/{id}/changes': 'read',
  'GET /v1/audiences/{id}/sizes': 'read',
  'GET /v1/profiles/{id}/computed-traits': 'read',
  'GET /v1/profiles/{id}/audiences': 'read',
  'POST /v1/computed-traits': 'audiences:write',
  'GET /v1/computed-traits': 'read',
  'GET /v1/computed-traits/{id}': 'read',
  'PATCH /v1/computed-traits/{id}': 'audiences:write',
  'DELETE /v1/computed-traits/{id}': 'audiences:write',
  'GET /v1/stats/records': 'read',
  'GET /v1/stats/events': 'read',
  'GET /v1/stats/profiles': 'read',
  'POST /v1/privacy/requests': 'privacy',
  'GET /v1/privacy/requests': 'privacy',
  'GET /v1/privacy/requests/{id}': 'privacy',
  'GET /v1/privacy/requests/{id}/export': 'privacy+pii:read',
  'PUT /v1/profiles/{id}/consent': 'privacy',
  'GET /v1/retention': 'read',
  'PUT /v1/retention': 'privacy',
  'GET /v1/retention/runs': 'read',
  'POST /v1/retention/runs': 'privacy',
  'GET /v1/retention/runs/{runId}': 'read',
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head'];
const SAMPLE_PARAMS: Record<string, string> = { queue: 'sync', jobId: '1' };
const ZERO_UUID = '00000000-0000-4000-8000-000000000000';

interface Operation {
  route: string;
  method: string;
  path: string;
  scope: string;
}

async function operations(t: TestApp): Promise<Operation[]> {
  const doc = await call(t.url, 'GET', '/docs/openapi.json');
  expect(doc.status).toBe(200);
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.body.paths as Record<string, Record<string, any>>)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      out.push({
        route: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path: path.replace(/\{(\w+)\}/g, (_m, name: string) => SAMPLE_PARAMS[name] ?? ZERO_UUID),
        scope: op['x-required-scope'],
      });
    }
  }
  return out;
}

describe('scoped API keys', () => {
  let t: TestApp;
  const keys: Record<string, string> = {};
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
  const mint = async (by: string, body: Record<string, unknown>) =>
    call(t.url, 'POST', '/v1/api-keys', { headers: bearer(by), body });

  beforeAll(async () => {
    t = await startTestApp({ label: 'scopes', env: { RUN_WORKERS: 'false', AUTH_FAILURE_LIMIT: '100000' } });
    const admin = t.auth.authorization.slice('Bearer '.length);
    for (const [name, scopes] of Object.entries({
      read: ['read'],
      writer: ['sources:write'],
      pii: ['read', 'pii:read'],
    })) {
      const made = await mint(admin, { name, scopes });
      expect(made.status).toBe(201);
      keys[name] = made.body.key;
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  it('the OpenAPI document states the scope of every route, as the table above says', async () => {
    const ops = await operations(t);
    const documented = Object.fromEntries(ops.map((o) => [o.route, o.scope]));
    const unlisted = ops.filter((o) => !(o.route in REQUIRED_SCOPES)).map((o) => `${o.route} (${o.scope})`);
    expect(unlisted).toEqual([]);
    expect(documented).toEqual(REQUIRED_SCOPES);
  });

  it('every route refuses a key without its scope (403), and without a key (401)', async () => {
    const problems: string[] = [];
    for (const op of await operations(t)) {
      if (op.scope === 'public' || op.scope === 'any key') continue;
      const lacking = op.scope.startsWith('read') ? keys.writer : keys.read;
      const denied = await call(t.url, op.method, op.path, { headers: bearer(lacking) });
      if (denied.status !== 403) problems.push(`${op.route} with a key lacking ${op.scope}: ${denied.status}`);
      const anonymous = await call(t.url, op.method, op.path);
      if (anonymous.status !== 401) problems.push(`${op.route} without a key: ${anonymous.status}`);
    }
    expect(problems).toEqual([]);
  });

  it('a key with the scope passes: read reads, sources:write writes sources and nothing else', async () => {
    expect((await call(t.url, 'GET', '/v1/sources', { headers: bearer(keys.read) })).status).toBe(200);
    expect((await call(t.url, 'GET', '/metrics', { headers: bearer(keys.read) })).status).toBe(200);
    const denied = await call(t.url, 'POST', '/v1/sources', {
      headers: bearer(keys.read),
      body: { name: 'x', connector: 'http-events', config: {} },
    });
    expect(denied.status).toBe(403);
    expect(denied.body.message).toMatch(/scope sources:write/);
    const created = await call(t.url, 'POST', '/v1/sources', {
      headers: bearer(keys.writer),
      body: { name: 'by a writer', connector: 'http-events', config: {} },
    });
    expect(created.status).toBe(201);
    const rules = await call(t.url, 'PUT', '/v1/identity/rules', { headers: bearer(keys.writer), body: {} });
    expect(rules.status).toBe(403);
  });

  it('any key reads its own scopes and expiry (never the key), and nothing about other keys', async () => {
    const me = await call(t.url, 'GET', '/v1/api-keys/me', { headers: bearer(keys.pii) });
    expect(me.status).toBe(200);
    expect(me.body).toEqual({
      id: expect.any(String),
      name: 'pii',
      prefix: expect.any(String),
      scopes: ['read', 'pii:read'],
      expiresAt: null,
    });
    expect(keys.pii.startsWith(me.body.prefix)).toBe(true);
    const admin = await call(t.url, 'GET', '/v1/api-keys/me', { headers: t.auth });
    expect(admin.body.scopes).toEqual(['admin']);
  });

  it('a key cannot mint a broader key than itself', async () => {
    const broader = await mint(keys.read, { name: 'escalate', scopes: ['admin'] });
    expect(broader.status).toBe(400);
    expect(broader.body.details).toEqual([
      { field: 'scopes', problems: [expect.stringMatching(/cannot grant admin/)] },
    ]);
    expect((await mint(keys.read, { name: 'sneaky', scopes: ['read', 'pii:read'] })).status).toBe(400);
    const same = await mint(keys.read, { name: 'narrower' });
    expect(same.status).toBe(201);
    expect(same.body.scopes).toEqual(['read']);
    const unknown = await mint(keys.read, { name: 'bad', scopes: ['root'] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toMatch(/scopes/);
  });

  it('expiring keys: the new key may not outlive its creator, and an expired key is refused', async () => {
    const soon = new Date(Date.now() + 1500).toISOString();
    const temp = await mint(t.auth.authorization.slice(7), { name: 'temp', scopes: ['read'], expiresAt: soon });
    expect(temp.status).toBe(201);
    expect(temp.body.expiresAt).toBe(soon);
    const forever = await mint(temp.body.key, { name: 'forever' });
    expect(forever.status).toBe(400);
    expect(forever.body.details[0].field).toBe('expiresAt');
    expect((await call(t.url, 'GET', '/v1/sources', { headers: bearer(temp.body.key) })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1600));
    const expired = await call(t.url, 'GET', '/v1/sources', { headers: bearer(temp.body.key) });
    expect(expired.status).toBe(401);
    const past = await mint(t.auth.authorization.slice(7), { name: 'past', expiresAt: '2001-01-01T00:00:00Z' });
    expect(past.status).toBe(400);
  });

  it('only admin keys revoke keys, and the last admin key cannot be revoked', async () => {
    const list = await call(t.url, 'GET', '/v1/api-keys?limit=500', { headers: t.auth });
    expect(list.status).toBe(200);
    for (const k of list.body.data) expect(k.prefix.length).toBeGreaterThanOrEqual(12);
    const admins = list.body.data.filter((k: any) => k.scopes.includes('admin') && !k.revokedAt);
    expect(admins).toHaveLength(1);
    const readRow = list.body.data.find((k: any) => keys.read.startsWith(k.prefix));
    expect(readRow).toBeDefined();
    const byReader = await call(t.url, 'DELETE', `/v1/api-keys/${admins[0].id}`, { headers: bearer(keys.read) });
    expect(byReader.status).toBe(403);
    const last = await call(t.url, 'DELETE', `/v1/api-keys/${admins[0].id}`, { headers: t.auth });
    expect(last.status).toBe(409);
    expect(last.body.message).toMatch(/last admin key/);
    const second = await mint(t.auth.authorization.slice(7), { name: 'second admin', scopes: ['admin'] });
    expect(
      (await call(t.url, 'DELETE', `/v1/api-keys/${admins[0].id}`, { headers: bearer(second.body.key) })).status,
    ).toBe(204);
    expect((await call(t.url, 'GET', '/v1/sources', { headers: t.auth })).status).toBe(401);
    const remaining = await call(t.url, 'GET', '/v1/api-keys?limit=500', { headers: bearer(second.body.key) });
    const self = remaining.body.data.find((k: any) => second.body.key.startsWith(k.prefix));
    expect((await call(t.url, 'DELETE', `/v1/api-keys/${self.id}`, { headers: bearer(second.body.key) })).status).toBe(
      409,
    );
  });
});
