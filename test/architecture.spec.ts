import { readdirSync, readFileSync, statSync } from 'node:fs';
import { ESLint } from 'eslint';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectorConfigReadProblems } from './support/config-reads.js';
import { connectorImportProblems, libImportProblems, queueProblems, sqlProblems } from './support/imports.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function tsFiles(dir: string): string[] {
  let out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out = out.concat(tsFiles(path));
    else if (path.endsWith('.ts')) out.push(path);
  }
  return out;
}

describe('house rules', () => {
  it('connectors import only @plexus/sdk and their own folder', () => {
    const dir = join(ROOT, 'connectors');
    const problems = tsFiles(dir).flatMap((f) => connectorImportProblems(f, readFileSync(f, 'utf8'), dir));
    expect(problems).toEqual([]);
  });

  it('libs never import apps', () => {
    const problems = tsFiles(join(ROOT, 'libs')).flatMap((f) => libImportProblems(f, readFileSync(f, 'utf8')));
    expect(problems).toEqual([]);
  });

  /** Production code of the hub: every lib and app, without tests. */
  const product = (): string[] =>
    [...tsFiles(join(ROOT, 'libs')), ...tsFiles(join(ROOT, 'apps'))].filter((f) => !f.endsWith('.spec.ts'));

  it('all SQL lives in libs/storage', () => {
    const storage = join(ROOT, 'libs', 'storage');
    const problems = product()
      .filter((f) => !f.startsWith(storage))
      .flatMap((f) => sqlProblems(f, readFileSync(f, 'utf8')));
    expect(problems).toEqual([]);
  });

  it('all BullMQ access lives in libs/queue', () => {
    const queue = join(ROOT, 'libs', 'queue');
    const problems = product()
      .filter((f) => !f.startsWith(queue))
      .flatMap((f) => queueProblems(f, readFileSync(f, 'utf8')));
    expect(problems).toEqual([]);
  });

  it('the core never reads a connector config field by name (connectors declare them through ingest())', () => {
    // The SDK is the connectors' side of the contract: it declares the settings, the core only receives them.
    const sdk = join(ROOT, 'libs', 'sdk');
    const files = [...tsFiles(join(ROOT, 'libs')), ...tsFiles(join(ROOT, 'apps'))].filter(
      (f) => !f.endsWith('.spec.ts') && !f.startsWith(sdk),
    );
    const problems = files.flatMap((f) => connectorConfigReadProblems(f, readFileSync(f, 'utf8')));
    expect(problems).toEqual([]);
  });

  it('the config-field check catches reads by name and lets declared settings through', () => {
    const file = join(ROOT, 'libs', 'x', 'src', 'a.ts');
    const bad = [
      'const country = config.defaultCountry;',
      'const keep = owner.config?.keepFullIp === true;',
      "const c = row.config['defaultCountry'];",
      'const d = (ctx.config as { defaultCountry?: unknown }).defaultCountry;',
      'const { keepFullIp } = owner.config;',
    ];
    const good = [
      'const { defaultCountry } = ingestSettingsOf(definition, ctx.config);',
      'const keep = settings.keepFullIp === true;',
      'this.ingestor.store({ sourceId, defaultCountry: meta.defaultCountry }, records);',
    ];
    for (const line of bad) expect(connectorConfigReadProblems(file, line)).not.toEqual([]);
    expect(connectorConfigReadProblems(file, good.join('\n'))).toEqual([]);
  });

  it('the checks catch violations', () => {
    const dir = join(ROOT, 'connectors');
    const file = join(dir, 'acme', 'src', 'source.ts');
    const bad = [
      "import { Database } from '@plexus/storage';",
      "import { x } from '../../other/src/x.js';",
      "import axios from 'axios';",
      "const m = await import('../../../libs/identity/src/index.js');",
    ].join('\n');
    const good = [
      "import { defineSource } from '@plexus/sdk';",
      "import { map } from '../mapping.js';",
      "import { readFile } from 'node:fs/promises';",
    ].join('\n');
    expect(connectorImportProblems(file, bad, dir)).toHaveLength(4);
    expect(connectorImportProblems(file, good, dir)).toEqual([]);
    const lib = join(ROOT, 'libs', 'x', 'src', 'a.ts');
    expect(sqlProblems(lib, "import { sql } from 'kysely';\nconst q = sql`select 1`;")).toHaveLength(2);
    expect(sqlProblems(lib, "const rows = await trx.selectFrom('profiles').selectAll().execute();")).toHaveLength(1);
    expect(sqlProblems(lib, "const q = 'DELETE FROM profiles WHERE id = $1';")).toHaveLength(1);
    expect(sqlProblems(lib, "import type { Kysely } from 'kysely';\nconst repo = this.profiles;")).toEqual([]);
    // Every database package, however it is imported; every query builder entry point; raw statements.
    for (const line of [
      "import pg from 'pg';",
      "import { PGlite } from '@electric-sql/pglite';",
      "import { from as copyFrom } from 'pg-copy-streams';",
      "const { Pool } = await import('pg');",
      "export { sql } from 'kysely';",
      "import { Kysely, type Transaction } from 'kysely';",
    ])
      expect(sqlProblems(lib, line)).toHaveLength(1);
    for (const line of [
      "await trx.insertInto('profiles').values(row).execute();",
      "await trx.updateTable('runs').set({ status }).execute();",
      "await trx.deleteFrom('runs').execute();",
      'const q = `WITH x AS (select 1) select * from x`;',
      "const q = 'SELECT id FROM profiles';",
      'const q = "INSERT INTO runs (id) VALUES ($1)";',
      "const q = 'UPDATE runs SET status = $1';",
    ])
      expect(sqlProblems(lib, line)).toHaveLength(1);
    expect(sqlProblems(lib, "export type { Transaction } from 'kysely';")).toEqual([]);
    expect(queueProblems(lib, "import { Queue } from 'bullmq';")).toHaveLength(1);
    expect(queueProblems(lib, "const { Worker } = await import('bullmq');")).toHaveLength(1);
    expect(queueProblems(lib, "export { Job } from 'bullmq';")).toHaveLength(1);
    expect(queueProblems(lib, "import { createBullBoard } from '@bull-board/api';")).toHaveLength(1);
    expect(queueProblems(lib, "import { BullModule } from '@nestjs/bullmq';")).toHaveLength(1);
    expect(queueProblems(lib, "import type { Job } from 'bullmq';")).toHaveLength(1);
    expect(queueProblems(lib, "import { JobHandler, type Job } from '@plexus/queue';")).toEqual([]);
    expect(
      libImportProblems(
        join(ROOT, 'libs', 'x', 'src', 'a.ts'),
        "import { ApiModule } from '../../../apps/api/src/api.module.js';",
      ),
    ).toHaveLength(1);
  });

  it('lint refuses database and BullMQ imports outside their libs, and a lib importing an app', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    const lint = async (file: string, code: string): Promise<string[]> => {
      const [result] = await eslint.lintText(code, { filePath: join(ROOT, file) });
      return result.messages
        .filter((m) => m.ruleId?.endsWith('no-restricted-imports'))
        .map((m) => `${m.ruleId}: ${m.message}`);
    };
    // A real file of each place, linted with other content (as an editor lints an unsaved buffer).
    const elsewhere = 'libs/sync/src/sync.engine.ts';
    expect(await lint(elsewhere, "import { sql } from 'kysely';\nexport const q = sql`select 1`;\n")).toHaveLength(1);
    expect(await lint(elsewhere, "import pg from 'pg';\nexport const p = pg;\n")).toHaveLength(1);
    expect(await lint(elsewhere, "import { Queue } from 'bullmq';\nexport const q = Queue;\n")).toHaveLength(1);
    expect(await lint(elsewhere, "import type { Job } from 'bullmq';\nexport type J = Job;\n")).toHaveLength(1);
    expect(
      await lint(
        elsewhere,
        "import { ApiModule } from '../../../apps/api/src/api.module.js';\nexport const m = ApiModule;\n",
      ),
    ).toHaveLength(1);
    expect(await lint(elsewhere, "import type { Kysely } from 'kysely';\nexport type K = Kysely<object>;\n")).toEqual(
      [],
    );
    expect(
      await lint(
        'apps/api/src/health/health.controller.ts',
        "import { Worker } from 'bullmq';\nexport const w = Worker;\n",
      ),
    ).toHaveLength(1);
    expect(
      await lint('libs/storage/src/database.ts', "import { sql } from 'kysely';\nexport const q = sql`select 1`;\n"),
    ).toEqual([]);
    expect(
      await lint('libs/storage/src/database.ts', "import { Queue } from 'bullmq';\nexport const q = Queue;\n"),
    ).toHaveLength(1);
    expect(
      await lint('libs/queue/src/queue.service.ts', "import { Queue } from 'bullmq';\nexport const q = Queue;\n"),
    ).toEqual([]);
    expect(await lint('libs/queue/src/queue.service.ts', "import pg from 'pg';\nexport const p = pg;\n")).toHaveLength(
      1,
    );
    expect(
      await lint(
        'connectors/hubspot/index.ts',
        "import { Database } from '@plexus/storage';\nexport const d = Database;\n",
      ),
    ).toHaveLength(1);
  }, 300_000);
});
