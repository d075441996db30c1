import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { ConfigurationError } from './errors.js';
import { openSource, readCsvRows, readNdjsonRows, type FileRow } from './files.js';

const collect = async <T>(rows: AsyncIterable<FileRow<T>>) => {
  const out: FileRow<T>[] = [];
  for await (const row of rows) out.push(row);
  return out;
};

const CSV =
  '\uFEFFId,Email,Note\r\n' +
  '1,a@example.com,plain\r\n' +
  '2,b@example.com,"quoted, with comma"\r\n' +
  '3,c@example.com,"multi\nline ""quoted"""\r\n' +
  '4,d@example.com\r\n' +
  '\r\n' +
  '5,e@example.com,last\r\n';

describe('file readers', () => {
  let dir: string;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'plexus-sdk-files-'));
    server = createServer((req, res) => {
      if (req.url === '/data.csv.gz') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(gzipSync(CSV));
      } else if (req.url === '/missing.csv') {
        res.writeHead(404).end('not found');
      } else res.writeHead(200).end(CSV);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('reads RFC 4180 CSV with a BOM, quotes and embedded newlines, reporting a short row and going on', async () => {
    const rows = await collect(readCsvRows(Readable.from([CSV])));
    expect(rows.map((r) => r.line)).toEqual([2, 3, 5, 6, 8]);
    expect(rows[0]).toEqual({ line: 2, row: { Id: '1', Email: 'a@example.com', Note: 'plain' } });
    expect(rows[1].row!.Note).toBe('quoted, with comma');
    expect(rows[2].row!.Note).toBe('multi\nline "quoted"');
    expect(rows[3].row).toBeUndefined();
    expect(rows[3].error).toMatch(/expect 3, got 2 on line 6/);
    expect(rows[4].row).toEqual({ Id: '5', Email: 'e@example.com', Note: 'last' });
  });

  it('keeps a stray quote inside a field, and reports an unclosed quote without hanging', async () => {
    const stray = await collect(readCsvRows(Readable.from(['a,b\n1,2\n3,"x"y\n5,6\n'])));
    expect(stray.map((r) => r.row)).toEqual([
      { a: '1', b: '2' },
      { a: '3', b: '"x"y' },
      { a: '5', b: '6' },
    ]);
    const unclosed = await collect(readCsvRows(Readable.from(['a,b\n1,2\n3,"x\n5,6\n'])));
    expect(unclosed[0]).toEqual({ line: 2, row: { a: '1', b: '2' } });
    expect(unclosed[1].error).toMatch(/Quote Not Closed/);
    expect(unclosed).toHaveLength(2);
  });

  it('resumes after a checkpointed line, with another delimiter', async () => {
    const rows = await collect(
      readCsvRows(Readable.from(['id;name\n1;a\n2;b\n3;c\n']), { delimiter: ';', startAfterLine: 3 }),
    );
    expect(rows).toEqual([{ line: 4, row: { id: '3', name: 'c' } }]);
  });

  it('reads NDJSON, reporting bad lines and resuming after a line', async () => {
    const text = '{"id":1}\n\nnot json\n[1,2]\n{"id":2,"tags":["x"]}\n';
    const rows = await collect(readNdjsonRows(Readable.from([text])));
    expect(rows).toEqual([
      { line: 1, row: { id: 1 } },
      { line: 3, error: expect.stringContaining('invalid JSON') },
      { line: 4, error: 'expected a JSON object' },
      { line: 5, row: { id: 2, tags: ['x'] } },
    ]);
    expect(await collect(readNdjsonRows(Readable.from([text]), { startAfterLine: 4 }))).toEqual([
      { line: 5, row: { id: 2, tags: ['x'] } },
    ]);
  });

  it('opens local files, gunzipping by magic bytes whatever the name', async () => {
    const gz = join(dir, 'export.dat');
    await writeFile(gz, gzipSync('{"id":1}\n{"id":2}\n'));
    const rows = await collect(readNdjsonRows(await openSource({ path: gz })));
    expect(rows.map((r) => r.row)).toEqual([{ id: 1 }, { id: 2 }]);
    const plain = join(dir, 'plain.csv');
    await writeFile(plain, CSV);
    expect((await collect(readCsvRows(await openSource({ path: plain })))).length).toBe(5);
  });

  it('opens http URLs and streams', async () => {
    expect((await collect(readCsvRows(await openSource({ url: `${base}/data.csv.gz` })))).length).toBe(5);
    expect((await collect(readCsvRows(await openSource({ stream: Readable.from([Buffer.from(CSV)]) })))).length).toBe(
      5,
    );
    expect((await collect(readCsvRows(await openSource({ stream: Readable.from([gzipSync(CSV)]) })))).length).toBe(5);
  });

  it('says what to fix when a file cannot be opened', async () => {
    await expect(openSource({ path: join(dir, 'nope.csv') })).rejects.toThrow(ConfigurationError);
    await expect(openSource({ path: join(dir, 'nope.csv') })).rejects.toThrow(/ENOENT.*check the path/);
    await expect(openSource({ url: 'ftp://x/y.csv' })).rejects.toThrow(ConfigurationError);
    await expect(openSource({ url: `${base}/missing.csv` })).rejects.toMatchObject({
      failureType: 'system',
      details: { status: 404 },
    });
  });

  it('handles a file smaller than the magic number and an empty one', async () => {
    expect(await collect(readNdjsonRows(await openSource({ stream: Readable.from([Buffer.from('1')]) })))).toEqual([
      { line: 1, error: 'expected a JSON object' },
    ]);
    expect(await collect(readCsvRows(await openSource({ stream: Readable.from([]) })))).toEqual([]);
  });
});
