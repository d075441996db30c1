import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { UploadedFile } from '@plexus/sdk';
import { describeSourceConformance, readStream, startFixtureServer, type FixtureServer } from '@plexus/sdk/testing';
import source, { mapRow, type FileCheckpoint, type FileRow } from './index.js';
import type { FileImportConfig } from './config.js';

const csv = readFileSync(new URL('./fixtures/people.csv', import.meta.url), 'utf8');
const rows = Array.from(
  { length: 25 },
  (_, i) =>
    `${i + 1},person${i + 1}@example.com,+1415555${String(1000 + i)},Person ${i + 1},US,,2026-01-0${(i % 9) + 1}T10:00:00Z`,
);
const bigCsv = ['Id,Email,Phone,First Name,Country,hashed_email,Updated', ...rows].join('\n') + '\n';
const mapping = {
  identifiers: { email: 'Email', phone: 'Phone', external_id: 'Id' },
  traits: { firstName: 'First Name' },
  observedAt: 'Updated',
};

let api: FixtureServer;

describeSourceConformance({
  definition: source,
  setup: async () => {
    api = await startFixtureServer((req) =>
      req.headers.authorization === 'Bearer file-token'
        ? { headers: { 'content-type': 'text/csv' }, body: bigCsv }
        : { status: 401, body: 'unauthorized' },
    );
  },
  teardown: () => api.close(),
  // Served over HTTP so the retry checks apply; the file host wants a bearer token.
  config: () => ({
    url: `${api.url}/people.csv`,
    format: 'csv',
    batchSize: 10,
    mapping,
    authorization: 'Bearer file-token',
  }),
  invalidCredentials: () => ({ url: `${api.url}/people.csv`, format: 'csv', mapping, authorization: 'Bearer wrong' }),
  streams: { rows: { recordCount: 25 } },
  injectFault: (fault) => api.injectFault(fault),
  pendingFaults: () => api.pendingFaults(),
});

describe('file-import mapping', () => {
  const config = { path: '/x.csv', format: 'csv', defaultCountry: 'US', mapping } as unknown as FileImportConfig;

  it('maps identifiers (namespacing external ids), traits and observedAt; skips empty cells', () => {
    expect(
      mapRow(
        {
          line: 2,
          row: {
            Id: '7',
            Email: ' Alice@Example.com',
            Phone: '',
            'First Name': 'Alice',
            Updated: '2026-01-02T10:00:00Z',
          },
        },
        config,
        'src_1',
      ),
    ).toEqual({
      identifiers: [
        { type: 'email', value: 'Alice@Example.com' },
        { type: 'external_id', value: 'src_1:row:7' },
      ],
      traits: { firstName: 'Alice' },
      observedAt: '2026-01-02T10:00:00Z',
      country: 'US',
    });
  });

  it('maps one column to several identifier types, and several columns to one type', () => {
    const multi = {
      ...config,
      mapping: { identifiers: { email: ['Work', 'Home'], email_sha256: 'Work' } },
    } as unknown as FileImportConfig;
    const record = mapRow({ line: 2, row: { Work: 'w@example.com', Home: 'h@example.com' } }, multi, 's');
    expect(record.identifiers).toEqual([
      { type: 'email', value: 'w@example.com' },
      { type: 'email', value: 'h@example.com' },
      { type: 'email_sha256', value: 'w@example.com' },
    ]);
  });

  it('refuses rows that cannot be used, with the line and the reason', () => {
    expect(() => mapRow({ line: 4, row: { Id: '', Email: '', Phone: '' } }, config, 's')).toThrow(
      /line 4: no identifier/,
    );
    expect(() => mapRow({ line: 5, row: { Email: 'a@b.co', Updated: 'yesterday' } }, config, 's')).toThrow(
      /line 5: Updated is not a date: yesterday/,
    );
    expect(() => mapRow({ line: 6, error: 'Invalid Record Length' }, config, 's')).toThrow(
      /line 6: Invalid Record Length/,
    );
  });

  it('reads the local fixture file and reports its lines', async () => {
    const result = await readStream(source, 'rows', {
      path: new URL('./fixtures/people.csv', import.meta.url).pathname,
      format: 'csv',
      mapping,
    });
    expect(result.records).toHaveLength(csv.trim().split('\n').length - 1);
    expect(result.mappingErrors).toEqual([]);
  });

  it("reads the run's upload instead of the configured location, again from the start when resumed", async () => {
    const body = gzipSync(bigCsv);
    let opened = 0;
    const upload: UploadedFile = {
      id: 'upl_test',
      bytes: body.length,
      open: () => {
        opened++;
        return Readable.from([body.subarray(0, 100), body.subarray(100)]);
      },
    };
    const config = { path: '/nowhere/none.csv', format: 'csv', batchSize: 10, mapping };
    const all = await readStream<FileRow, FileCheckpoint>(source, 'rows', config, undefined, { context: { upload } });
    expect(all.records).toHaveLength(25);
    expect(all.mappingErrors).toEqual([]);
    const rest = await readStream<FileRow, FileCheckpoint>(source, 'rows', config, all.checkpoints[0], {
      context: { upload },
    });
    expect(rest.records.map((r) => r.line)).toEqual(all.records.slice(10).map((r) => r.line));
    expect(opened).toBe(2);
  });
});
