import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatFigure, machine, type Benchmark } from './harness.js';

/**
 * `npm run bench` runs every `bench/*.bench.ts` (compiled to dist/bench) but the long ones marked `onlyWhenNamed`
 * (the soak); `npm run bench -- <name>…` runs the named ones.
 * Prints each figure and the machine, to be copied into docs/BENCHMARKS.md with the command.
 */
async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const dir = fileURLToPath(new URL('.', import.meta.url));
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.bench.js'))
    .sort();
  const benches: Benchmark[] = [];
  for (const file of files) {
    const mod = (await import(new URL(file, import.meta.url).href)) as { default: Benchmark };
    if (wanted.length === 0 ? !mod.default.onlyWhenNamed : wanted.includes(mod.default.name)) benches.push(mod.default);
  }
  if (benches.length === 0) {
    process.stderr.write(
      `no benchmark matches ${wanted.join(', ')}; have: ${files.map((f) => f.replace('.bench.js', '')).join(', ')}\n`,
    );
    process.exit(2);
  }
  process.stdout.write(`machine: ${machine()}\n`);
  for (const bench of benches) {
    process.stdout.write(`\n${bench.name} — ${bench.description}\n`);
    const figures = await bench.run();
    for (const figure of figures) process.stdout.write(`${formatFigure(figure)}\n`);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
