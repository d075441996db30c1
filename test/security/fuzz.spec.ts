import fc from 'fast-check';
import { sql } from 'kysely';
import type { Database } from '@plexus/storage';
import { startTestApp, type TestApp } from '../support/app.js';
import { basicAuth, call } from '../support/http.js';

/**
 * Property-based fuzzing of every route of the OpenAPI document (so routes added later are fuzzed without
 * changing this file): malformed and hostile path parameters, queries and bodies must never produce a 5xx, and a
 * refused request (4xx) must leave the database as it was. Fixed seed and a bounded number of cases per route, so
 * the run is reproducible and fits CI: `FUZZ_SEED` / `FUZZ_RUNS` override them to explore further.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_204);
const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 4);

/** Tables whose purpose is to record refusals (the quarantine, audit trails): a refused request may append to them. */
const RECORDS_OF_REFUSALS = /quarantine|audit/;
/**
 * Tables written by scheduled background work whatever the requests do: the retention sweep records a run at its
 * time of day (03:30 UTC by default), which can fall during this test.
 */
const WRITTEN_ON_SCHEDULE = /^privacy_retention_runs$/;
/** Columns that change on every authenticated request by design (a key's last use). */
const VOLATILE_COLUMNS = ['last_used_at'];

interface Operation {
  method: string;
  path: string;
  pathParams: string[];
  queryParams: string[];
  hasBody: boolean;
  writeKeyAuth: boolean;
}

interface OpenApiOperation {
  parameters?: Array<{ name: string; in: string }>;
  requestBody?: unknown;
  security?: Array<Record<string, unknown>>;
  tags?: string[];
}

function operationsOf(document: { paths: Record<string, Record<string, OpenApiOperation>> }): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths))
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const parameters = op.parameters ?? [];
      const declared = parameters.filter((p) => p.in === 'path').map((p) => p.name);
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      out.push({
        method: method.toUpperCase(),
        path,
        pathParams: [...new Set([...declared, ...inPath])],
        queryParams: parameters.filter((p) => p.in === 'query').map((p) => p.name),
        hasBody: method !== 'get' && method !== 'delete',
        writeKeyAuth: (op.security ?? []).some((s) => 'basic' in s),
      });
    }
  return out;
}

// ---- hostile values -------------------------------------------------------------------------------------------

const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty'];
const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udc00y',
  "' OR 1=1 --",
  "'; drop table profiles; --",
  '"><script>alert(1)</script>',
  '../../../../etc/passwd',
  '%00',
  '%ff%fe',
  '1e23',
  '1e308',
  '-1',
  '0',
  'NaN',
  'Infinity',
  'true',
  'null',
  '[object Object]',
  '{{userId}}',
  '${jndi:ldap://x}',
  '0000-01-01T00:00:00Z',
  '+275760-09-13T00:00:00Z',
  'user_id:\u0000x',
  'email:alice@example.io',
  '00000000-0000-0000-0000-000000000000',
  'x'.repeat(70_000),
  '😀',
  ...PROTOTYPE_KEYS,
];

const hostileString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);
const hostileNumber = fc.oneof(
  fc.constantFrom(1e20, -1, 0, -0, 2 ** 53, 2 ** 63, 1e308, -1e308, 0.5, Number.MAX_SAFE_INTEGER + 2),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const hostileKey = fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS, 'a\u0000', 'k\ud800', ''), fc.string({ maxLength: 12 }));

const { value: hostileValue } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileString,
    hostileNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(hostileKey, tie('value'), { maxKeys: 5 }),
  ),
}));

/** Bodies as raw text: JSON of hostile values, objects whose keys are prototype names, deep nesting, broken JSON. */
const hostileBody: fc.Arbitrary<{ text: string | Buffer; contentType: string }> = fc.oneof(
  hostileValue.map((v) => ({ text: JSON.stringify(v) ?? 'null', contentType: 'application/json' })),
  fc
    .dictionary(hostileKey, hostileValue, { minKeys: 1, maxKeys: 6 })
    .map((o) => ({ text: JSON.stringify(o), contentType: 'application/json' })),
  fc.record({ key: fc.constantFrom(...PROTOTYPE_KEYS), value: hostileValue }).map(({ key, value }) => ({
    text: `{"${key}":${JSON.stringify(value) ?? 'null'}}`,
    contentType: 'application/json',
  })),
  fc.integer({ min: 65, max: 100_000 }).map((depth) => ({
    text: `{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`,
    contentType: 'application/json',
  })),
  fc.constantFrom(
    { text: '{"a":', contentType: 'application/json' },
    { text: '', contentType: 'application/json' },
    {
      text: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
      contentType: 'application/json',
    },
    { text: 'a[__proto__][x]=1&constructor[prototype][y]=2', contentType: 'application/x-www-form-urlencoded' },
    { text: '{"name":"x"}', contentType: 'text/plain' },
  ),
);

/** Percent-encodes a path segment; a lone surrogate (which encodeURIComponent refuses) becomes invalid UTF-8 bytes. */
function segment(value: string): string {
  return [...value]
    .map((ch) => {
      try {
        return encodeURIComponent(ch);
      } catch {
        return '%ED%A0%80';
      }
    })
    .join('');
}

function queryValue(value: unknown): string {
  return segment(typeof value === 'string' ? value : (JSON.stringify(value) ?? ''));
}

// ---- the database digest --------------------------------------------------------------------------------------

async function databaseDigest(db: Database): Promise<Record<string, string>> {
  const tables = (
    await sql<{ name: string }>`
      select table_name as name from information_schema.tables
      where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`.execute(db.db)
  ).rows
    .map((r) => r.name)
    .filter((name) => !RECORDS_OF_REFUSALS.test(name) && !WRITTEN_ON_SCHEDULE.test(name));
  const volatile = VOLATILE_COLUMNS.map((c) => `'${c}'`).join(' - ');
  const row = (name: string): string => `md5((to_jsonb("${name}") - ${volatile})::text)`;
  const query = tables
    .map(
      (name) =>
        `select '${name}' as name, count(*)::text || ':' || coalesce(md5(string_agg(${row(name)}, ',' order by ${row(name)})), '') as digest from "${name}"`,
    )
    .join(' union all ');
  const rows = (await sql<{ name: string; digest: string }>`${sql.raw(query)}`.execute(db.db)).rows;
  return Object.fromEntries(rows.map((r) => [r.name, r.digest]));
}

/** The digest once it stays the same for 200 ms (background jobs finished), or after 10 s. */
async function settledDigest(db: Database): Promise<Record<string, string>> {
  let previous = JSON.stringify(await databaseDigest(db));
  for (const started = Date.now(); Date.now() - started < 10_000;) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const current = await databaseDigest(db);
    if (JSON.stringify(current) === previous) return current;
    previous = JSON.stringify(current);
  }
  return JSON.parse(previous) as Record<string, string>;
}

describe('fuzzing every route of the OpenAPI document with hostile input (PostgreSQL)', () => {
  let t: TestApp;
  let db: Database;
  let operations: Operation[];
  let writeKey: string;
  const knownIds: string[] = [];

  beforeAll(async () => {
    t = await startTestApp({ label: 'fuzz' });
    db = await t.database!.open();
    const source = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: { name: 'Fuzzed site', connector: 'http-events', config: {} },
    });
    expect(source.status).toBe(201);
    writeKey = source.body.writeKey;
    knownIds.push(source.body.id);
    const tracked = await call(t.url, 'POST', '/v1/identify', {
      headers: basicAuth(writeKey),
      body: { userId: 'fuzz-person', traits: { email: 'fuzz@person.io' } },
    });
    expect(tracked.status).toBe(200);
    const profile = await call(t.url, 'GET', '/v1/profiles?identifier=user_id:fuzz-person', { headers: t.auth });
    knownIds.push(profile.body.data[0].id);
    const document = await call(t.url, 'GET', '/docs/openapi.json');
    expect(document.status).toBe(200);
    operations = operationsOf(document.body);
  });
  afterAll(async () => {
    await db?.close();
    await t?.close();
  });

  it('finds the routes in the OpenAPI document', () => {
    expect(operations.length).toBeGreaterThan(20);
    expect(operations.map((o) => `${o.method} ${o.path}`)).toEqual(
      expect.arrayContaining(['POST /v1/batch', 'GET /v1/profiles', 'PUT /v1/identity/rules', 'POST /v1/sources']),
    );
  });

  it(
    'never answers 5xx, and a refused request changes nothing in the database',
    async () => {
      let digest = await databaseDigest(db);
      let accepted = false;
      const failures: string[] = [];
      for (const [index, op] of operations.entries()) {
        const input = fc.record({
          params: fc.tuple(
            ...op.pathParams.map(() =>
              op.method === 'DELETE' ? hostileString : fc.oneof(hostileString, fc.constantFrom(...knownIds)),
            ),
          ),
          query: fc.dictionary(fc.constantFrom(...op.queryParams, 'unknown', 'after', 'limit'), hostileValue, {
            maxKeys: 3,
          }),
          body: op.hasBody ? fc.option(hostileBody, { nil: undefined }) : fc.constant(undefined),
        });
        await fc.assert(
          fc.asyncProperty(input, async ({ params, query, body }) => {
            let path = op.path;
            op.pathParams.forEach((name, i) => {
              path = path.replace(`{${name}}`, segment(String(params[i])) || '%20');
            });
            const search = Object.entries(query)
              .map(([k, v]) => `${segment(k)}=${queryValue(v)}`)
              .join('&');
            const url = `${t.url}${path}${search ? `?${search}` : ''}`;
            const headers: Record<string, string> = op.writeKeyAuth ? basicAuth(writeKey) : { ...t.auth };
            if (body) headers['content-type'] = body.contentType;
            // An accepted request may have started background work (a sync run): let it settle first, so only what
            // the next request does is compared.
            if (accepted) digest = await settledDigest(db);
            const logsBefore = t.logs.length;
            const res = await fetch(url, {
              method: op.method,
              headers,
              body: body?.text,
              signal: AbortSignal.timeout(30_000),
            });
            const text = await res.text();
            const what = `${op.method} ${url.slice(t.url.length, t.url.length + 160)} body ${String(body?.text ?? '').slice(0, 120)}`;
            if (res.status >= 500) {
              // What the app logged at error level while answering, without pino-http's own summary line.
              const logged = t.logs
                .slice(logsBefore)
                .filter((l) => l.includes('"level":50') && !l.includes('failed with status code'))
                .map((l) => l.slice(0, 1500));
              failures.push(`${res.status} ${what}: ${text.slice(0, 200)} ${logged.join(' ')}`);
            }
            const after = await databaseDigest(db);
            if (res.status >= 400) {
              const changed = Object.keys({ ...digest, ...after }).filter((k) => digest[k] !== after[k]);
              if (changed.length > 0) failures.push(`${res.status} changed ${changed.join(', ')}: ${what}`);
            }
            digest = after;
            accepted = res.status < 400;
          }),
          { seed: SEED + index, numRuns: RUNS_PER_ROUTE, endOnFailure: true },
        );
      }
      expect(failures).toEqual([]);
    },
    Math.max(180_000, RUNS_PER_ROUTE * 30_000),
  );
});
