import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

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

/** Every module specifier a TypeScript file imports or re-exports (static and dynamic). */
export function importsOf(source: string): string[] {
  const specifiers: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) for (const m of source.matchAll(pattern)) specifiers.push(m[1]);
  return specifiers;
}

/** Problems with a connector file's imports: only @plexus/sdk, node built-ins and files in its own folder. */
export function connectorImportProblems(file: string, source: string, connectorsDir: string): string[] {
  const own = join(connectorsDir, relative(connectorsDir, file).split(sep)[0]);
  const problems: string[] = [];
  for (const spec of importsOf(source)) {
    if (spec === '@plexus/sdk' || spec === '@plexus/sdk/testing' || spec.startsWith('node:')) continue;
    if (spec.startsWith('.')) {
      const target = resolve(dirname(file), spec);
      if (target === own || target.startsWith(own + sep)) continue;
      problems.push(`${relative(ROOT, file)} imports ${spec}, outside its connector folder`);
      continue;
    }
    problems.push(`${relative(ROOT, file)} imports ${spec}; a connector may import only @plexus/sdk`);
  }
  return problems;
}

/** Problems with a lib file's imports: a lib never depends on an app. */
export function libImportProblems(file: string, source: string): string[] {
  return importsOf(source)
    .filter((spec) =>
      spec.startsWith('.')
        ? resolve(dirname(file), spec).startsWith(join(ROOT, 'apps') + sep)
        : /^(@plexus\/)?apps\//.test(spec),
    )
    .map((spec) => `${relative(ROOT, file)} imports ${spec}; a lib must not import an app`);
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
