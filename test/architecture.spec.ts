import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectorImportProblems, libImportProblems } from './support/imports.js';

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
    expect(
      libImportProblems(
        join(ROOT, 'libs', 'x', 'src', 'a.ts'),
        "import { ApiModule } from '../../../apps/api/src/api.module.js';",
      ),
    ).toHaveLength(1);
  });
});
