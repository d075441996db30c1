import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Every module specifier a TypeScript file imports or re-exports (static and dynamic). */
export function importsOf(source: string): string[] {
  const specifiers: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
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
