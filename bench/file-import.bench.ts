import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { createConnectorContext, validateConfig } from '@plexus/sdk';
import fileImport from '../connectors/file-import/index.js';
import { withPeakRss, type Benchmark, type Figure } from './harness.js';

const ROWS = Number(process.env.BENCH_FILE_ROWS ?? 1_000_000);

async function writeCsv(file: string, rows: number): Promise<void> {
  const out = createWriteStream(file);
  out.write('Id,Email,Phone,First Name,Last Name,Country,Updated\n');
  for (let i = 0; i < rows; i++) {
    const line = `${i},person${i}@mail.example.io,+1415${String(5550000 + (i % 10000)).padStart(7, '0')},First${i % 997},"Last, ${i % 991}",US,2026-01-0${(i % 9) + 1}T10:00:00Z\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** The file-import connector alone: stream a CSV, parse it and map every row to a ProfileRecord. */
const bench: Benchmark = {
  name: 'file-import',
  description: `file-import reads and maps ${ROWS.toLocaleString('en-US')} CSV rows (7 columns, quoted fields) from a local file`,
  async run(): Promise<Figure[]> {
    const dir = mkdtempSync(join(tmpdir(), 'plexus-bench-file-'));
    try {
      const file = join(dir, 'people.csv');
      await writeCsv(file, ROWS);
      const definition = fileImport;
      const { config, problems } = await validateConfig(definition.config, {
        path: file,
        format: 'csv',
        defaultCountry: 'US',
        mapping: {
          identifiers: { email: 'Email', phone: 'Phone', external_id: 'Id' },
          traits: { firstName: 'First Name', lastName: 'Last Name', country: 'Country' },
          observedAt: 'Updated',
        },
      });
      if (!config) throw new Error(`bad config: ${JSON.stringify(problems)}`);
      const ctx = createConnectorContext({ definition, config, connectionId: 'src_bench' });
      const stream = definition.streams[0];
      let mapped = 0;
      const started = performance.now();
      const { peakRssMb } = await withPeakRss(async () => {
        for await (const batch of stream.read(ctx, undefined)) {
          for (const record of batch.records) if (stream.toProfile(record, ctx)) mapped++;
        }
      });
      const seconds = (performance.now() - started) / 1000;
      if (mapped !== ROWS) throw new Error(`mapped ${mapped} of ${ROWS} rows`);
      return [
        { name: 'rows read and mapped', value: ROWS / seconds, unit: 'rows/s', goal: '≥ 150,000 rows/s' },
        { name: 'total', value: seconds, unit: 's' },
        { name: 'peak RSS', value: peakRssMb, unit: 'MiB', goal: '< 256 MiB, constant' },
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
export default bench;
