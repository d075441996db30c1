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

const SQL_PACKAGES = /^(kysely|pg|pg-copy-streams|@electric-sql\/pglite)(\/.*)?$/;
const SQL_CALLS =
  /\bsql`|\.(selectFrom|insertInto|updateTable|deleteFrom|replaceInto|mergeInto)\(|['"`]\s*(SELECT|INSERT INTO|UPDATE|DELETE FROM|WITH)\s/;

/**
 * Problems with a file outside libs/storage that would put SQL elsewhere: a runtime import of a database
 * package (a type-only import of a transaction handle is fine) or a query written in place.
 */
export function sqlProblems(file: string, source: string): string[] {
  const problems: string[] = [];
  const runtime = source.replace(/^\s*import\s+type\b[^;]*;/gm, '').replace(/^\s*export\s+type\b[^;]*;/gm, '');
  for (const spec of importsOf(runtime)) {
    if (SQL_PACKAGES.test(spec)) problems.push(`${relative(ROOT, file)} imports ${spec}; SQL belongs in libs/storage`);
  }
  source.split('\n').forEach((line, i) => {
    if (SQL_CALLS.test(line)) problems.push(`${relative(ROOT, file)}:${i + 1} writes SQL; it belongs in libs/storage`);
  });
  return problems;
}

const QUEUE_PACKAGES = /^(bullmq|@nestjs\/bullmq|@bull-board\/.+)$/;

/** Problems with a file outside libs/queue that touches BullMQ (types included: `Job` comes from @plexus/queue). */
export function queueProblems(file: string, source: string): string[] {
  return importsOf(source)
    .filter((spec) => QUEUE_PACKAGES.test(spec))
    .map((spec) => `${relative(ROOT, file)} imports ${spec}; BullMQ belongs in libs/queue`);
}
