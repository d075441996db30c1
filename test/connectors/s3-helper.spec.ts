import { gzipSync } from 'node:zlib';
import {
  CancelledError,
  ConfigurationError,
  ConnectorError,
  createS3Reader,
  readCsvRows,
  TransientError,
  type S3Settings,
} from '@plexus/sdk';
import { startS3, type S3Emulator } from '../emulators/s3/s3.emulator.js';

const ACCESS_KEY = 'AKIAS3HELPERTEST';
const SECRET = 's3-helper-secret';

async function failure(promise: Promise<unknown>): Promise<ConnectorError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ConnectorError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

async function text(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

describe('SDK S3 reader against the S3 emulator', () => {
  let s3: S3Emulator;
  let settings: S3Settings;

  beforeAll(async () => {
    s3 = await startS3({ credentials: { [ACCESS_KEY]: SECRET } });
    for (let i = 0; i < 1005; i++) s3.state.putObject('feeds', `bulk/${String(i).padStart(5, '0')}.csv`, `n\n${i}\n`);
    s3.state.putObject('feeds', 'daily/2024-05-01.csv', 'a,b\n1,2\n');
    s3.state.putObject('feeds', 'daily/2024-05-02.csv.gz', gzipSync('a,b\n3,4\n5,6\n'));
    s3.state.putObject('feeds', 'daily/2024-05-03.ndjson', '{"a":1}\n'.repeat(2000));
    settings = { bucket: 'feeds', endpoint: s3.url, accessKeyId: ACCESS_KEY, secretAccessKey: SECRET, maxAttempts: 3 };
  });
  afterAll(() => s3.close());
  afterEach(() => s3.faults.clear());

  const collect = async (reader: ReturnType<typeof createS3Reader>, prefix?: string, after?: string) => {
    const keys: string[] = [];
    for await (const object of reader.listObjects(prefix, after)) keys.push(object.key);
    return keys;
  };

  it('lists every key under a prefix in lexical order across ListObjectsV2 pages, after startAfter', async () => {
    const reader = createS3Reader(settings);
    try {
      const bulk = await collect(reader, 'bulk/');
      expect(bulk).toHaveLength(1005);
      expect(bulk).toEqual([...bulk].sort());
      expect(await collect(reader, 'bulk/', 'bulk/01000.csv')).toEqual([
        'bulk/01001.csv',
        'bulk/01002.csv',
        'bulk/01003.csv',
        'bulk/01004.csv',
      ]);
      const daily: string[] = [];
      for await (const object of reader.listObjects('daily/')) {
        daily.push(object.key);
        expect(object.etag).toMatch(/^"[0-9a-f]{32}"$/);
        expect(object.size).toBeGreaterThan(0);
      }
      expect(daily).toEqual(['daily/2024-05-01.csv', 'daily/2024-05-02.csv.gz', 'daily/2024-05-03.ndjson']);
    } finally {
      reader.close();
    }
  });

  it('opens objects as streams, gunzipping transparently, with their ETag', async () => {
    const reader = createS3Reader(settings);
    try {
      const gz = await reader.openObject('daily/2024-05-02.csv.gz');
      expect(gz.etag).toMatch(/^"[0-9a-f]{32}"$/);
      const rows = [];
      for await (const row of readCsvRows(gz.stream)) rows.push(row);
      expect(rows).toEqual([
        { line: 2, row: { a: '3', b: '4' } },
        { line: 3, row: { a: '5', b: '6' } },
      ]);
      expect(await text((await reader.openObject('daily/2024-05-01.csv')).stream)).toBe('a,b\n1,2\n');
    } finally {
      reader.close();
    }
  });

  it('maps rejected credentials, an expired token and a missing bucket to ConfigurationError', async () => {
    const cases: Array<[S3Settings, RegExp]> = [
      [{ ...settings, accessKeyId: 'AKIAWRONG' }, /InvalidAccessKeyId.*check accessKeyId, secretAccessKey/],
      [{ ...settings, secretAccessKey: 'wrong-secret' }, /SignatureDoesNotMatch/],
      [{ ...settings, bucket: 'missing' }, /bucket missing does not exist/],
    ];
    for (const [bad, message] of cases) {
      const reader = createS3Reader(bad);
      try {
        const error = await failure(collect(reader, 'daily/'));
        expect(error).toBeInstanceOf(ConfigurationError);
        expect(error.message).toMatch(message);
        expect(error.message).not.toContain(SECRET);
      } finally {
        reader.close();
      }
    }
    s3.faults.inject({ kind: 'expired-token' });
    const reader = createS3Reader(settings);
    try {
      const expired = await failure(collect(reader, 'daily/'));
      expect(expired).toBeInstanceOf(ConfigurationError);
      expect(expired.message).toMatch(/ExpiredToken/);
    } finally {
      reader.close();
    }
  });

  it('retries SlowDown and 5xx within maxAttempts, then fails as transient', async () => {
    const reader = createS3Reader(settings);
    try {
      s3.faults.inject({ kind: '429', times: 1 }, { kind: '5xx', times: 1, status: 500 });
      expect(await collect(reader, 'daily/')).toHaveLength(3);
      expect(s3.faults.pending()).toEqual([]);
      s3.faults.inject({ kind: '429', times: 3 });
      const error = await failure(collect(reader, 'daily/'));
      expect(error).toBeInstanceOf(TransientError);
      expect(error.message).toMatch(/SlowDown/);
    } finally {
      reader.close();
    }
  });

  it('turns a download cut short into a TransientError on the stream', async () => {
    const reader = createS3Reader(settings);
    try {
      s3.faults.inject({ kind: 'truncated', path: 'ndjson$' });
      const { stream } = await reader.openObject('daily/2024-05-03.ndjson');
      const error = await failure(text(stream));
      expect(error).toBeInstanceOf(TransientError);
      expect(error.message).toMatch(/broke off/);
    } finally {
      reader.close();
    }
  });

  it('answers a missing key with a 404 SystemError and an aborted signal with CancelledError', async () => {
    const controller = new AbortController();
    const reader = createS3Reader(settings, controller.signal);
    try {
      const missing = await failure(reader.openObject('daily/nope.csv'));
      expect([missing.failureType, missing.details.status]).toEqual(['system', 404]);
      s3.faults.inject({ kind: 'slow', delayMs: 300 });
      const pending = collect(reader, 'daily/');
      setTimeout(() => controller.abort(), 50);
      expect(await failure(pending)).toBeInstanceOf(CancelledError);
    } finally {
      reader.close();
    }
  });
});
