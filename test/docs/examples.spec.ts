import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_CREDENTIALS, startEmulators, type RunningEmulators } from '../emulators/index.js';
import { startTestApp, TEST_ADMIN_KEY, type TestApp } from '../support/app.js';
import { scrape } from '../support/metrics.js';
import {
  conventionProblem,
  dashboardMetricNames,
  instrument,
  parseExpectation,
  POSTLUDE,
  PRELUDE,
  shellBlocks,
  type DocBlock,
} from './doc-examples.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Every page with shell examples; each page's `sh` blocks run in order, pages in this order, on one hub. */
const PAGES = [
  'docs/ADMIN.md',
  'README.md',
  'docs/AUDIENCES.md',
  'docs/ACTIVATION.md',
  'docs/PRIVACY.md',
  'docs/TRACKING.md',
  'docs/CONNECTORS.md',
  'docs/DESTINATIONS.md',
  'docs/BENCHMARKS.md',
];

const blocksOf = (page: string): DocBlock[] => shellBlocks(page, readFileSync(join(ROOT, page), 'utf8'));

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runBash(script: string, cwd: string, env: Record<string, string>, timeoutMs: number): Promise<Ran> {
  return new Promise((done, fail) => {
    const child = spawn('bash', ['-c', script], { cwd, env: { ...process.env, ...env }, detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      stderr += `\n(timed out after ${timeoutMs} ms)`;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, timeoutMs);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

describe('the convention of the docs’ examples', () => {
  it('marks every shell block of every page as run (sh) or not run, with a reason', () => {
    const problems = PAGES.flatMap(blocksOf)
      .map(conventionProblem)
      .filter((p): p is string => p !== undefined);
    expect(problems).toEqual([]);
  });

  it('reads expectations: a status, and the keys of a shown object', () => {
    expect(parseExpectation(' 202 { runId }')).toEqual({
      status: 202,
      filter: 'type == "object" and has("runId")',
      text: '202 { runId }',
    });
    expect(parseExpectation(' { "id": "…", "stats": { "read": 1 }, "streams": [1, 2] }').filter).toBe(
      'type == "object" and has("id") and has("stats") and has("streams")',
    );
    expect(parseExpectation(' 409').filter).toBeUndefined();
    expect(parseExpectation(' [{ at, size }]').filter).toBe('type == "array"');
  });

  it('checks the expectation after the command it follows, and allows its status before the command starts', () => {
    const code = [
      'curl -H "$H" $PLEXUS/v1/sources -d \'{',
      '  "name": "x # → not this" }\'   # → 201 { id }',
      'curl -X POST $PLEXUS/v1/sources/$S/sync \\',
      '  -H "$H"',
      '# → 409',
    ].join('\n');
    expect(instrument(code).split('\n')).toEqual([
      'curl -H "$H" $PLEXUS/v1/sources -d \'{',
      '  "name": "x # → not this" }\'   # → 201 { id }',
      '__expect 201 \'type == "object" and has("id")\' \'201 { id }\'',
      '__allow 409',
      'curl -X POST $PLEXUS/v1/sources/$S/sync \\',
      '  -H "$H"',
      '# → 409',
      "__expect 409 'true' '409'",
    ]);
  });

  it('finds every metric name of a dashboard’s expressions, template queries included', () => {
    const dashboard = {
      templating: { list: [{ query: { query: 'label_values(plexus_a_total, source)' } }] },
      panels: [
        {
          targets: [{ expr: 'sum by (q) (rate(plexus_b_bucket{x="plexus_not_a_metric"}[5m]))', legendFormat: '{{q}}' }],
        },
        { type: 'row', panels: [{ targets: [{ expr: 'plexus_c / clamp_min(plexus_a_total, 1)' }] }] },
      ],
    };
    expect(dashboardMetricNames(dashboard)).toEqual(['plexus_a_total', 'plexus_b_bucket', 'plexus_c']);
  });

  it('fails a block whose request is refused, or whose answer lacks a shown key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plexus-docs-self-'));
    const server = (await import('node:http')).createServer((req, res) => {
      res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'x1' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const run = (code: string) =>
      runBash(PRELUDE + instrument(code) + POSTLUDE, dir, { DOCS_STATE: dir, U: url }, 20_000);
    try {
      expect((await run('ID=$(curl $U/ok | jq -r .id)   # → 200 { id }')).code).toBe(0);
      expect((await run('test "$ID" = x1')).code).toBe(0); // variables carry over to the next block
      expect((await run('curl $U/missing')).code).not.toBe(0);
      expect((await run('curl $U/missing   # → 404')).code).toBe(0);
      expect((await run('curl $U/ok   # → 200 { name }')).code).not.toBe(0);
      expect((await run('curl $U/ok   # → 201')).code).not.toBe(0);
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Runs every `sh` block of the docs against a hub with the vendor emulators, with the variables the docs' setup
 * block defines: $PLEXUS, $KEY, $H and the emulators' addresses.
 */
describe('the docs’ examples, run against a hub and the vendor emulators', () => {
  let t: TestApp;
  let emulators: RunningEmulators;
  let work: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    emulators = await startEmulators({ people: 40 });
    t = await startTestApp({ label: 'docs' });
    work = mkdtempSync(join(tmpdir(), 'plexus-docs-'));
    env = {
      PLEXUS: t.url,
      KEY: TEST_ADMIN_KEY,
      H: `authorization: Bearer ${TEST_ADMIN_KEY}`,
      HUBSPOT: emulators.hubspot.url,
      SALESFORCE: emulators.salesforce.url,
      SHOPIFY: emulators.shopify.url,
      S3: emulators.s3.url,
      META: emulators.meta.url,
      GOOGLE: emulators.google.url,
      TIKTOK: emulators.tiktok.url,
      TTD: emulators.ttd.url,
      IMPORTS: t.importDir,
    };
    expect(DEMO_CREDENTIALS.hubspot.token).toBe('hubspot-demo-token'); // the token the docs show
  }, 180_000);
  afterAll(async () => {
    await t?.close();
    await emulators?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  for (const page of PAGES) {
    const runnable = blocksOf(page).filter((b) => b.lang === 'sh' && !b.notRun);
    if (runnable.length === 0) continue;
    it(`${page}: every example succeeds, in order`, async () => {
      const state = mkdtempSync(join(work, 'state-'));
      const cwd = mkdtempSync(join(work, 'cwd-'));
      for (const block of runnable) {
        const script = join(state, 'block.sh');
        writeFileSync(script, PRELUDE + instrument(block.code) + POSTLUDE);
        const ran = await runBash(`. ${script}`, cwd, { ...env, DOCS_STATE: state }, 120_000);
        if (ran.code !== 0)
          throw new Error(
            `${block.file}:${block.line} failed (exit ${ran.code}):\n${block.code}\n--- stderr\n${ran.stderr.slice(-3000)}\n--- stdout\n${ran.stdout.slice(-2000)}`,
          );
      }
    }, 600_000);
  }

  it('the Grafana dashboard queries only metrics that /metrics shows, after the examples did the work', async () => {
    const dashboard = JSON.parse(readFileSync(join(ROOT, 'docs/grafana/plexus-dashboard.json'), 'utf8'));
    const names = new Set((await scrape(t)).map((s) => s.name));
    const used = dashboardMetricNames(dashboard);
    expect(used.length).toBeGreaterThan(10);
    expect(used.filter((n) => !names.has(n))).toEqual([]);
  });
});
