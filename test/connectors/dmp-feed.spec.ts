import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ConfigurationError } from '@plexus/sdk';
import {
  describeSourceConformance,
  readStream,
  startFixtureServer,
  type FaultRequest,
  type FixtureServer,
} from '@plexus/sdk/testing';
import source, { type DmpCheckpoint, type FeedRecord } from '../../connectors/dmp-feed/index.js';
import { syntheticDmpFiles } from '../emulators/s3/dmp.data.js';
import { startS3, type S3Emulator } from '../emulators/s3/s3.emulator.js';

const ACCESS_KEY = 'AKIADMPFEEDTEST';
const SECRET = 'dmp-feed-secret';
const BUCKET = 'dmp-feeds';
const key = (r: FeedRecord) => `${r.file}|${r.line}`;

function s3Fault(fault: FaultRequest) {
  return fault.status === 429
    ? { kind: '429' as const, times: fault.times }
    : { kind: '5xx' as const, times: fault.times, status: fault.status };
}

let s3: S3Emulator;
const config = () => ({
  bucket: BUCKET,
  prefix: 'dmp/',
  endpoint: s3.url,
  accessKeyId: ACCESS_KEY,
  secretAccessKey: SECRET,
  batchSize: 4,
});

describeSourceConformance({
  definition: source,
  setup: async () => {
    // Three days of ten rows: a CSV, an NDJSON and a gzipped CSV file.
    s3 = await startS3({
      credentials: { [ACCESS_KEY]: SECRET },
      buckets: { [BUCKET]: { ...syntheticDmpFiles({ days: 3, rowsPerDay: 10 }), 'other/ignored.csv': 'a\n1\n' } },
    });
  },
  teardown: () => s3.close(),
  config,
  invalidCredentials: () => ({ ...config(), secretAccessKey: 'not-the-secret' }),
  streams: {
    rows: {
      recordCount: 30,
      verify: ({ records, profiles }) => {
        const files = [...new Set((records as FeedRecord[]).map((r) => r.file))];
        const problems: string[] = [];
        if (files.join() !== 'dmp/2024-05-01.csv,dmp/2024-05-02.ndjson,dmp/2024-05-03.csv.gz')
          problems.push(`files read: ${files.join()}`);
        if (!profiles.every((p) => p.identifiers.some((i) => i.type === 'cookie_id') && p.traits?.ip))
          problems.push('a row without its cookie id or ip');
        return problems;
      },
      addNewer: async () => {
        s3.state.putObject(
          BUCKET,
          'dmp/2024-05-04.csv',
          'cookie_id,device_id,email_sha256,ip,segments,seen_at\nc-new1,,,198.51.100.7,gamers,2024-05-04T00:00:00Z\nc-new2,,,198.51.100.8,parents,2024-05-04T00:00:01Z\n',
        );
        return ['dmp/2024-05-04.csv|2', 'dmp/2024-05-04.csv|3'];
      },
    },
  },
  injectFault: (fault) => s3.faults.inject(s3Fault(fault)),
  pendingFaults: () => s3.faults.pending().reduce((n, f) => n + f.remaining, 0),
});

describe('dmp-feed from S3: faults', () => {
  let bucket: S3Emulator;
  const cfg = () => ({
    bucket: BUCKET,
    prefix: 'dmp/',
    endpoint: bucket.url,
    accessKeyId: ACCESS_KEY,
    secretAccessKey: SECRET,
    batchSize: 7,
  });

  beforeAll(async () => {
    bucket = await startS3({
      credentials: { [ACCESS_KEY]: SECRET },
      buckets: { [BUCKET]: syntheticDmpFiles({ days: 3, rowsPerDay: 20 }) },
    });
  });
  afterAll(() => bucket.close());
  afterEach(() => bucket.faults.clear());

  it('reopens a download cut short and reads on after the last line, nothing lost or doubled', async () => {
    for (const path of ['\\.ndjson$', '\\.csv\\.gz$', '01\\.csv$']) {
      bucket.faults.inject({ kind: 'truncated', path });
      const result = await readStream<FeedRecord, DmpCheckpoint>(source, 'rows', cfg());
      expect(bucket.faults.pending()).toEqual([]);
      const keys = result.records.map(key);
      expect(new Set(keys).size).toBe(60);
      expect(keys).toHaveLength(60);
      expect(result.mappingErrors).toEqual([]);
      expect(result.logs.some((l) => /reopening after line/.test(l.message))).toBe(true);
    }
  });

  it('quarantines exactly the malformed line (plain and gzipped) and reads on', async () => {
    bucket.faults.inject({ kind: 'malformed-record', path: '\\.gz$' }, { kind: 'malformed-record', path: 'ndjson$' });
    const result = await readStream<FeedRecord, DmpCheckpoint>(source, 'rows', cfg());
    expect(result.records).toHaveLength(62);
    expect(result.mappingErrors.map((m) => m.record.file).sort()).toEqual([
      'dmp/2024-05-02.ndjson',
      'dmp/2024-05-03.csv.gz',
    ]);
    expect(result.mappingErrors.map((m) => m.error).join('\n')).toMatch(
      /2024-05-02\.ndjson line 2: invalid JSON[\s\S]*2024-05-03\.csv\.gz line 2: /,
    );
    expect(result.profiles).toHaveLength(60);
  });

  it('fails fast with a config failure for an expired token or a wrong key, naming what to fix', async () => {
    bucket.faults.inject({ kind: 'expired-token' });
    const expired = await readStream(source, 'rows', cfg()).catch((e: unknown) => e);
    expect(expired).toBeInstanceOf(ConfigurationError);
    expect((expired as Error).message).toMatch(/ExpiredToken.*check accessKeyId, secretAccessKey/);
    const wrong = await readStream(source, 'rows', { ...cfg(), accessKeyId: 'AKIAUNKNOWN' }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(ConfigurationError);
    expect((wrong as Error).message).not.toContain(SECRET);
    const missing = await readStream(source, 'rows', { ...cfg(), bucket: 'no-such-bucket' }).catch((e: unknown) => e);
    expect((missing as Error).message).toMatch(/bucket no-such-bucket does not exist/);
  });

  it('retries a SlowDown burst and 5xx answers', async () => {
    bucket.faults.inject({ kind: '429', times: 2 }, { kind: '5xx', status: 500, path: '\\.ndjson$' });
    const result = await readStream<FeedRecord, DmpCheckpoint>(source, 'rows', cfg());
    expect(bucket.faults.pending()).toEqual([]);
    expect(result.records).toHaveLength(60);
  });

  it('restarts a file that changed (new ETag) since its mid-file checkpoint', async () => {
    const full = await readStream<FeedRecord, DmpCheckpoint>(source, 'rows', cfg());
    const mid = full.checkpoints.find((c) => c.file?.key === 'dmp/2024-05-01.csv')!;
    const stale = { ...mid, file: { ...mid.file!, version: '"0123456789abcdef0123456789abcdef"' } };
    const resumed = await readStream<FeedRecord, DmpCheckpoint>(source, 'rows', cfg(), stale);
    expect(resumed.records).toHaveLength(60);
    expect(resumed.logs.some((l) => /changed while it was being read/.test(l.message))).toBe(true);
  });
});

describe('dmp-feed from a local folder', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'plexus-dmp-'));
    mkdirSync(join(dir, '2024'));
    writeFileSync(
      join(dir, '2024', '05-01.csv'),
      'cookie_id,segments,seen_at\nc1,a|b,2024-05-01T00:00:00Z\nc2,b,2024-05-01T00:00:01Z\n',
    );
    writeFileSync(
      join(dir, '2024', '05-02.ndjson.gz'),
      gzipSync('{"cookie_id":"c3","segments":["a"],"seen_at":1714608000}\n'),
    );
    writeFileSync(join(dir, 'README.txt'), 'not a feed');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads every feed file in key order, then only files added later', async () => {
    const first = await readStream<FeedRecord, DmpCheckpoint>(source, 'rows', { path: dir, batchSize: 1 });
    expect(first.records.map(key)).toEqual(['2024/05-01.csv|2', '2024/05-01.csv|3', '2024/05-02.ndjson.gz|1']);
    expect(first.lastCheckpoint).toEqual({ done: '2024/05-02.ndjson.gz', doneVersion: expect.any(String) });
    expect(first.profiles[2]).toMatchObject({
      identifiers: [{ type: 'cookie_id', value: 'c3' }],
      traitExpiry: { segment_a: '2024-07-31T00:00:00.000Z' },
      observedAt: '2024-05-02T00:00:00.000Z',
    });
    expect((await readStream(source, 'rows', { path: dir }, first.lastCheckpoint)).records).toEqual([]);
    writeFileSync(join(dir, '2024', '05-03.jsonl'), '{"cookie_id":"c4"}\n');
    const next = await readStream<FeedRecord, DmpCheckpoint>(source, 'rows', { path: dir }, first.lastCheckpoint);
    expect(next.records.map(key)).toEqual(['2024/05-03.jsonl|1']);
  });

  it('reads a single file again only when it changes', async () => {
    const file = join(dir, '2024', '05-01.csv');
    const first = await readStream<FeedRecord, DmpCheckpoint>(source, 'rows', { path: file });
    expect(first.records).toHaveLength(2);
    expect((await readStream(source, 'rows', { path: file }, first.lastCheckpoint)).records).toHaveLength(0);
    writeFileSync(file, 'cookie_id\nc9\nc10\nc11\n');
    expect((await readStream(source, 'rows', { path: file }, first.lastCheckpoint)).records).toHaveLength(3);
  });

  it('says which path is wrong', async () => {
    const error = await readStream(source, 'rows', { path: join(dir, 'missing') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(/missing.*check the path/);
  });
});

describe('dmp-feed from a URL', () => {
  let server: FixtureServer;
  let body = 'cookie_id,device_id,segments,seen_at\nc1,,x,2024-05-01T00:00:00Z\nc2,,y,2024-05-01T00:00:00Z\n';
  let etag = '"v1"';
  beforeAll(async () => {
    server = await startFixtureServer((req) =>
      req.headers.authorization === 'Bearer feed-token'
        ? { headers: { 'content-type': 'text/csv', etag }, body: gzipSync(body) }
        : { status: 403, body: 'forbidden' },
    );
  });
  afterAll(() => server.close());

  it('reads the file, skips it while its ETag stays, and reads it again when it changes', async () => {
    const cfg = { url: `${server.url}/feed/latest.csv.gz`, authorization: 'Bearer feed-token' };
    const first = await readStream<FeedRecord, DmpCheckpoint>(source, 'rows', cfg);
    expect(first.records.map((r) => r.row?.cookie_id)).toEqual(['c1', 'c2']);
    expect(first.lastCheckpoint).toMatchObject({ doneVersion: '"v1"' });
    expect((await readStream(source, 'rows', cfg, first.lastCheckpoint)).records).toHaveLength(0);
    body = 'cookie_id\nc3\n';
    etag = '"v2"';
    expect((await readStream<FeedRecord>(source, 'rows', cfg, first.lastCheckpoint)).records.map((r) => r.row)).toEqual(
      [{ cookie_id: 'c3' }],
    );
    const denied = await readStream(source, 'rows', { ...cfg, authorization: 'Bearer wrong' }).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(ConfigurationError);
  });
});
