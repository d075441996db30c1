import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { load } from 'js-yaml';
import { ENVIRONMENT_VARIABLES, loadEnvironment } from '@plexus/config';

/**
 * The deployment files (docker-compose.yml, Procfile, Dockerfile, deploy/nginx.conf) and docs/OPERATIONS.md name
 * commands, environment variables, REST paths and metrics; Docker does not run here, so this keeps them from
 * rotting: everything they name must exist in package.json, the configuration schema, the OpenAPI document and the
 * code.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  deploy?: { replicas?: string | number };
  depends_on?: Record<string, unknown>;
}

const compose = load(read('docker-compose.yml')) as { services: Record<string, Service> };
const packageScripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;

/** Compose's `${VAR:-default}` / `${VAR:?message}` interpolation, with the defaults (or a stand-in for required). */
function interpolate(value: string): string {
  return value.replace(/\$\{(\w+)(?::?([-?])([^}]*))?\}/g, (_m, name: string, kind?: string, rest?: string) => {
    if (kind === '-') return rest ?? '';
    if (name === 'PLEXUS_MASTER_KEY') return 'ab'.repeat(32);
    return `stand-in-for-${name.toLowerCase()}`;
  });
}

/** A YAML merge (`<<: *plexus-env`) spread into the mapping, as Compose does. */
function withMerges(mapping: Record<string, unknown>): Record<string, string> {
  const { '<<': merged, ...own } = mapping;
  const bases = (Array.isArray(merged) ? merged : merged ? [merged] : []) as Array<Record<string, unknown>>;
  return Object.assign({}, ...bases.map(withMerges), own) as Record<string, string>;
}

/** How every hub process starts node: Node 24's young generation (see docs/OPERATIONS.md), then the aliases. */
const NODE = ['node', '--max-semi-space-size=64', '--import', './scripts/register.mjs'];

/** `node … --import ./scripts/register.mjs dist/x/main.js` → the compiled entry's source file must exist. */
function expectRunnableNodeCommand(command: string[]): void {
  expect(command.slice(0, NODE.length)).toEqual(NODE);
  expect(existsSync(join(ROOT, 'scripts/register.mjs'))).toBe(true);
  const entry = command[NODE.length];
  expect(entry).toMatch(/^dist\/.+\.js$/);
  expect(existsSync(join(ROOT, entry.replace(/^dist\//, '').replace(/\.js$/, '.ts')))).toBe(true);
}

describe('docker-compose.yml', () => {
  const services = compose.services;

  it('has PostgreSQL, Redis with AOF and noeviction, API and worker replicas and a load balancer', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'lb', 'postgres', 'redis', 'worker']);
    const redis = services.redis.command!.join(' ');
    expect(redis).toContain('--appendonly yes');
    expect(redis).toContain('--maxmemory-policy noeviction');
    for (const name of ['api', 'worker']) {
      expect(String(services[name].deploy?.replicas)).toMatch(/^\$\{\w+:-\d+\}$/);
      expect(Object.keys(services[name].depends_on ?? {}).sort()).toEqual(['postgres', 'redis']);
    }
    expect(withMerges(services.api.environment ?? {}).RUN_WORKERS).toBe('false');
    expect(withMerges(services.worker.environment ?? {}).DATABASE_URL).toMatch(/^postgres:\/\/.+@postgres:5432\//);
    for (const volume of services.lb.volumes ?? []) {
      const host = volume.split(':')[0];
      if (host.startsWith('./')) expect(statSync(join(ROOT, host)).isFile()).toBe(true);
    }
  });

  it('runs the same commands as package.json start:api and start:worker, on entry points that exist', () => {
    for (const [service, script] of [
      ['api', 'start:api'],
      ['worker', 'start:worker'],
    ] as const) {
      const command = services[service].command!;
      expectRunnableNodeCommand(command);
      expect(packageScripts[script]).toContain(command.join(' '));
    }
  });

  it('package.json starts every hub process (start, demo, bench) with the same node options', () => {
    for (const script of ['start', 'start:api', 'start:worker', 'demo', 'bench']) {
      const command = /(?:^|&& )(?:[A-Z_]+=\S+ )*(node .+)$/.exec(packageScripts[script])![1].split(' ');
      expectRunnableNodeCommand(command);
    }
  });

  it('sets only variables of the configuration schema, with values it accepts', () => {
    for (const name of ['api', 'worker']) {
      const environment = withMerges(services[name].environment ?? {});
      const unknown = Object.keys(environment).filter((key) => !(key in ENVIRONMENT_VARIABLES));
      expect(unknown).toEqual([]);
      const values = Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, interpolate(String(v))]));
      expect(() => loadEnvironment(values)).not.toThrow();
    }
  });
});

describe('Procfile and Dockerfile', () => {
  it('Procfile: an api and a worker process running the compose commands with known variables', () => {
    const lines = read('Procfile')
      .split('\n')
      .filter((l) => l.trim() !== '');
    const processes = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]));
    expect(Object.keys(processes).sort()).toEqual(['api', 'worker']);
    for (const [name, line] of Object.entries(processes)) {
      const words = line.trim().split(/\s+/);
      const assignments = words.filter((w) => /^[A-Z_]+=/.test(w));
      for (const a of assignments) expect(Object.keys(ENVIRONMENT_VARIABLES)).toContain(a.split('=')[0]);
      expect(() => loadEnvironment(Object.fromEntries(assignments.map((a) => a.split('='))))).not.toThrow();
      const command = words.slice(assignments.length);
      expectRunnableNodeCommand(command);
      expect(command).toEqual(compose.services[name].command);
    }
  });

  it('Dockerfile: copies what exists and starts the API by default', () => {
    const dockerfile = read('Dockerfile');
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile);
    expect(JSON.parse(cmd![1])).toEqual(compose.services.api.command);
    for (const m of dockerfile.matchAll(/^COPY --from=build \/app\/(\S+)/gm)) {
      const path = m[1];
      if (path.startsWith('dist') || path.startsWith('node_modules')) continue; // made by the build stage
      expect(existsSync(join(ROOT, path))).toBe(true);
    }
  });
});

describe('docs/OPERATIONS.md names only what exists', () => {
  const doc = read('docs/OPERATIONS.md');
  const code = (spans: RegExp): string[] => [...doc.matchAll(spans)].map((m) => m[1]);
  const inlineCode = code(/`([^`\n]+)`/g);

  it('environment variables', () => {
    // Compose's own variables (replica counts, host port, database password) are not Plexus settings.
    const composeVariables = new Set(
      [...read('docker-compose.yml').matchAll(/\$\{(\w+)/g)]
        .map((m) => m[1])
        .filter((n) => !(n in ENVIRONMENT_VARIABLES)),
    );
    const named = new Set(
      inlineCode.flatMap((c) => [...c.matchAll(/\b([A-Z][A-Z0-9]*_[A-Z0-9_]+)\b/g)].map((m) => m[1])),
    );
    const benchVariables = new Set(
      readdirSync(join(ROOT, 'bench')).flatMap((f) =>
        [...readFileSync(join(ROOT, 'bench', f), 'utf8').matchAll(/process\.env\.(\w+)/g)].map((m) => m[1]),
      ),
    );
    const unknown = [...named].filter(
      (n) => !(n in ENVIRONMENT_VARIABLES) && !composeVariables.has(n) && !benchVariables.has(n),
    );
    expect(unknown).toEqual([]);
    expect(named.size).toBeGreaterThan(10);
  });

  it('REST paths, against the OpenAPI document', () => {
    const spec = JSON.parse(read('apps/console/src/api/openapi.json')) as { paths: Record<string, unknown> };
    const paths = new Set(Object.keys(spec.paths));
    const named = inlineCode.flatMap((c) =>
      [...c.matchAll(/(?:^|\s)(\/(?:v1\/[\w\-/:{}]+|ready|health|metrics))/g)].map((m) => m[1]),
    );
    const normalise = (p: string): string =>
      p
        .replace(/\?.*$/, '')
        .replace(/:(\w+)/g, '{$1}')
        .replace(/\/$/, '');
    const unknown = named.filter((p) => {
      const path = normalise(p);
      // `<id>`-style placeholders are written as `{…}` in the document: compare shapes, not parameter names.
      const shape = path.replace(/\{[^}]+\}/g, '{}');
      return ![...paths].some((known) => known.replace(/\{[^}]+\}/g, '{}') === shape);
    });
    expect(unknown).toEqual([]);
    expect(named.length).toBeGreaterThan(5);
  });

  it('metrics, against the names registered in the code or by prom-client’s default collectors', () => {
    const sources = ['libs', 'apps']
      .flatMap((dir) => tsFiles(join(ROOT, dir)))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const defaults = [
      'process_resident_memory_bytes',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_heap_size_used_bytes',
      'process_open_fds',
    ];
    const named = new Set(inlineCode.flatMap((c) => [...c.matchAll(/\b(plexus_\w+)/g)].map((m) => m[1])));
    const unknown = [...named].filter(
      (name) =>
        !sources.includes(`'${name.replace(/_(bucket|count|sum)$/, '')}'`) &&
        !defaults.includes(name.replace(/^plexus_/, '')),
    );
    expect(unknown).toEqual([]);
    expect(named.size).toBeGreaterThan(3);
  });

  it('queue names, against libs/queue', () => {
    const jobs = read('libs/queue/src/jobs.ts');
    const queues = [.../QUEUE_NAMES = \[([^\]]+)\]/.exec(jobs)![1].matchAll(/'([\w-]+)'/g)].map((m) => m[1]);
    const rows = [...doc.matchAll(/^\| `([\w.-]+)` +\| `([\w.-]+)`/gm)].filter((m) => queues.includes(m[1]));
    // Every job of JOB_QUEUES but the partitioned delivery (named in the text) has its row, on its queue.
    const jobQueues = [...jobs.matchAll(/^ {2}'([\w.-]+)': '([\w-]+)',$/gm)].map((m) => [m[1], m[2]]);
    expect(rows.map((m) => [m[2], m[1]]).sort()).toEqual(
      jobQueues.filter(([job]) => job !== 'activation.deliver').sort(),
    );
    expect(doc).toContain('`activation.deliver` runs on `activation-<destinationId>`');
  });
});

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return entry === 'node_modules' ? [] : tsFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') ? [path] : [];
  });
}
