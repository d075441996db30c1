import 'reflect-metadata';
import { openAsBlob } from 'node:fs';
import { ConfigError, loadEnvironment } from '@plexus/config';
import { ConnectorRegistry } from '@plexus/connectors';
import { Database, migrate } from '@plexus/storage';
import { createConnector } from './create-connector.js';
import { HubClient, type RunSummary } from './hub-client.js';

const USAGE = `Usage: plexus <command>

Commands:
  migrate                         apply pending database migrations (DATABASE_URL, or the embedded database under DATA_DIR)
  connectors validate             load every connector (connectors/, CONNECTORS_PATH, plexus-connector-* packages) and report problems
  create-connector <id> --kind source|destination [--dir connectors]
                                  scaffold a working connector folder with a fixture and a passing conformance test
  sync <sourceId> [--no-wait]     start a run of a source on the running hub and follow it
  import <sourceId> <file>        upload a CSV/NDJSON file to a file-import source on the running hub and follow the run
  help                            show this help

The sync and import commands talk to PLEXUS_URL (default http://localhost:3000) with PLEXUS_API_KEY
(default: ADMIN_API_KEY, or the key saved in DATA_DIR/admin-api-key).
`;

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function printRun(run: RunSummary): void {
  const s = run.stats;
  process.stdout.write(
    `\r  ${run.status.padEnd(9)} read ${s.read}  written ${s.written}  unchanged ${s.unchanged ?? 0}  quarantined ${s.quarantined}  deleted ${s.deleted}   `,
  );
}

async function follow(client: HubClient, runId: string): Promise<number> {
  process.stdout.write(`run ${runId}\n`);
  const run = await client.waitForRun(runId, printRun);
  process.stdout.write('\n');
  if (run.status === 'waiting')
    process.stdout.write(`  waiting until ${run.resumeAt} (the hub resumes it then): ${run.error?.message}\n`);
  else if (run.error) process.stdout.write(`  ${run.error.type} error: ${run.error.message}\n`);
  return run.status === 'succeeded' || run.status === 'partial' ? 0 : 1;
}

type Command = (args: string[]) => Promise<number>;

const commands: Record<string, Command> = {
  async migrate() {
    const env = loadEnvironment();
    const database = await Database.open({ url: env.DATABASE_URL, dataDir: env.DATA_DIR });
    try {
      const result = await migrate(database);
      process.stdout.write(
        result.applied.length
          ? `applied ${result.applied.join(', ')} on ${database.description}\n`
          : `nothing to apply on ${database.description} (${result.alreadyApplied} applied before)\n`,
      );
      return 0;
    } finally {
      await database.close();
    }
  },
  async connectors(args) {
    if (args[0] !== 'validate') {
      process.stderr.write('usage: plexus connectors validate\n');
      return 2;
    }
    const registry = new ConnectorRegistry(loadEnvironment());
    await registry.ready();
    for (const c of registry.list())
      process.stdout.write(`ok       ${c.id} ${c.definition.version} (${c.kind}) from ${c.origin}\n`);
    for (const p of registry.problems()) process.stdout.write(`INVALID  ${p.origin}: ${p.reason}\n`);
    return registry.problems().length > 0 ? 1 : 0;
  },
  async 'create-connector'(args) {
    const id = args[0];
    const kind = flag(args, '--kind');
    if (!id || (kind !== 'source' && kind !== 'destination')) {
      process.stderr.write('usage: plexus create-connector <id> --kind source|destination [--dir connectors]\n');
      return 2;
    }
    const dir = createConnector(id, kind, flag(args, '--dir') ?? 'connectors');
    process.stdout.write(`created ${dir}\n  test it:  npm run test:jest -- ${dir}\n  read:     docs/CONNECTORS.md\n`);
    return 0;
  },
  async sync(args) {
    const sourceId = args[0];
    if (!sourceId) {
      process.stderr.write('usage: plexus sync <sourceId> [--no-wait]\n');
      return 2;
    }
    const client = HubClient.fromEnvironment(loadEnvironment().DATA_DIR);
    const { runId } = await client.request<{ runId: string }>('POST', `/v1/sources/${sourceId}/sync`);
    return args.includes('--no-wait') ? (process.stdout.write(`${runId}\n`), 0) : follow(client, runId);
  },
  async import(args) {
    const [sourceId, file] = args;
    if (!sourceId || !file) {
      process.stderr.write('usage: plexus import <sourceId> <file>\n');
      return 2;
    }
    const client = HubClient.fromEnvironment(loadEnvironment().DATA_DIR);
    const { runId } = await client.request<{ runId: string }>(
      'POST',
      `/v1/sources/${sourceId}/upload`,
      await openAsBlob(file),
      {
        'content-type': 'application/octet-stream',
      },
    );
    return follow(client, runId);
  },
  async help() {
    process.stdout.write(USAGE);
    return 0;
  },
};

export async function runCli(argv: string[]): Promise<number> {
  const [name = 'help', ...rest] = argv;
  const command = commands[name];
  if (!command) {
    process.stderr.write(`plexus: unknown command '${name}'\n\n${USAGE}`);
    return 2;
  }
  try {
    return await command(rest);
  } catch (error) {
    process.stderr.write(
      `plexus ${name}: ${error instanceof ConfigError ? error.message : (error as Error).message}\n`,
    );
    return 1;
  }
}

runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  },
);
