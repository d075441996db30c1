import { gunzipSync, gzipSync } from 'node:zlib';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { startS3, type S3Emulator } from './s3.emulator.js';

const ACCESS_KEY = 'AKIATESTEMULATOR';
const SECRET = 'emulator-secret';

function client(emulator: S3Emulator, accessKeyId = ACCESS_KEY, secretAccessKey = SECRET): S3Client {
  return new S3Client({
    endpoint: emulator.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });
}

async function failure(promise: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await promise;
  } catch (error) {
    return error as S3ServiceException;
  }
  throw new Error('expected the request to fail');
}

describe('S3 emulator with @aws-sdk/client-s3', () => {
  let s3: S3Emulator;
  let sdk: S3Client;

  beforeAll(async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 25; i++)
      files[`feeds/2024-05-${String(i + 1).padStart(2, '0')}.ndjson`] = `{"n":${i}}\n{"n":${i + 100}}\n`;
    files['feeds/archive/old.csv'] = 'cookie_id,segment\nabc,sports\n';
    files['other/readme.txt'] = 'hello';
    s3 = await startS3({ credentials: { [ACCESS_KEY]: SECRET }, buckets: { dmp: files } });
    sdk = client(s3);
  });
  afterAll(async () => {
    sdk.destroy();
    await s3.close();
  });
  afterEach(() => s3.faults.clear());

  it('lists with ListObjectsV2 pages until IsTruncated is false', async () => {
    const keys: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await sdk.send(
        new ListObjectsV2Command({ Bucket: 'dmp', Prefix: 'feeds/', MaxKeys: 10, ContinuationToken: token }),
      );
      keys.push(...(page.Contents ?? []).map((c) => c.Key!));
      expect(page.KeyCount).toBe(page.Contents?.length);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (page.IsTruncated) expect(token).toBeTruthy();
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(keys).toHaveLength(26);
    expect(keys).toEqual([...keys].sort());
    const first = await sdk.send(new ListObjectsV2Command({ Bucket: 'dmp', Prefix: 'feeds/2024-05-01' }));
    expect(first.Contents![0]).toMatchObject({
      Key: 'feeds/2024-05-01.ndjson',
      Size: 18,
      ETag: expect.stringMatching(/^"[0-9a-f]{32}"$/),
    });
    expect(first.Contents![0].LastModified).toBeInstanceOf(Date);
  });

  it('groups keys into CommonPrefixes with a delimiter', async () => {
    const res = await sdk.send(new ListObjectsV2Command({ Bucket: 'dmp', Delimiter: '/' }));
    expect(res.Contents ?? []).toHaveLength(0);
    expect(res.CommonPrefixes!.map((p) => p.Prefix)).toEqual(['feeds/', 'other/']);
  });

  it('gets and heads objects with ETag, Last-Modified and ranges', async () => {
    const put = await sdk.send(
      new PutObjectCommand({ Bucket: 'dmp', Key: 'feeds/new file.csv.gz', Body: gzipSync('a,b\n1,2\n') }),
    );
    expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    const got = await sdk.send(new GetObjectCommand({ Bucket: 'dmp', Key: 'feeds/new file.csv.gz' }));
    expect(gunzipSync(Buffer.from(await got.Body!.transformToByteArray())).toString()).toBe('a,b\n1,2\n');
    expect(got.ETag).toBe(put.ETag);
    expect(got.LastModified).toBeInstanceOf(Date);
    const head = await sdk.send(new HeadObjectCommand({ Bucket: 'dmp', Key: 'other/readme.txt' }));
    expect(head.ContentLength).toBe(5);
    const range = await sdk.send(new GetObjectCommand({ Bucket: 'dmp', Key: 'other/readme.txt', Range: 'bytes=1-3' }));
    expect(await range.Body!.transformToString()).toBe('ell');
    expect(range.ContentRange).toBe('bytes 1-3/5');
  });

  it('answers NoSuchKey, NoSuchBucket, InvalidAccessKeyId, SignatureDoesNotMatch and AccessDenied', async () => {
    expect((await failure(sdk.send(new GetObjectCommand({ Bucket: 'dmp', Key: 'missing' })))).name).toBe('NoSuchKey');
    expect((await failure(sdk.send(new ListObjectsV2Command({ Bucket: 'nope' })))).name).toBe('NoSuchBucket');
    const wrongKey = client(s3, 'AKIAWRONG');
    const denied = await failure(wrongKey.send(new ListObjectsV2Command({ Bucket: 'dmp' })));
    expect([denied.name, denied.$metadata.httpStatusCode]).toEqual(['InvalidAccessKeyId', 403]);
    wrongKey.destroy();
    const wrongSecret = client(s3, ACCESS_KEY, 'not-the-secret');
    expect((await failure(wrongSecret.send(new ListObjectsV2Command({ Bucket: 'dmp', Prefix: 'a b/' })))).name).toBe(
      'SignatureDoesNotMatch',
    );
    wrongSecret.destroy();
    const anonymous = await fetch(`${s3.url}/dmp?list-type=2`);
    expect(anonymous.status).toBe(403);
    expect(await anonymous.text()).toContain('<Code>AccessDenied</Code>');
  });

  it('injects every fault kind', async () => {
    const list = () => sdk.send(new ListObjectsV2Command({ Bucket: 'dmp', Prefix: 'other/' }));
    s3.faults.inject({ kind: '429' }, { kind: '5xx', status: 500 }, { kind: 'expired-token' });
    expect((await failure(list())).name).toBe('SlowDown');
    expect((await failure(list())).name).toBe('InternalError');
    expect((await failure(list())).name).toBe('ExpiredToken');

    s3.faults.inject({ kind: 'slow', delayMs: 200 });
    const started = performance.now();
    await list();
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);

    s3.faults.inject({ kind: 'truncated', path: '\\.ndjson$' });
    // A download cut mid-body: the declared Content-Length is never reached.
    const cut = await sdk.send(new GetObjectCommand({ Bucket: 'dmp', Key: 'feeds/2024-05-02.ndjson' }));
    await expect(cut.Body!.transformToString()).rejects.toThrow(/aborted|terminated|premature/i);

    s3.faults.inject({ kind: 'malformed-record' });
    const bad = await sdk.send(new GetObjectCommand({ Bucket: 'dmp', Key: 'feeds/archive/old.csv' }));
    expect(await bad.Body!.transformToString()).toBe('cookie_id,segment\nmalformed-record\nabc,sports\n');
    expect(s3.faults.fired.at(-1)).toMatchObject({ kind: 'malformed-record', detail: 'feeds/archive/old.csv' });
  });
});
