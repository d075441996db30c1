import { createHash, createHmac, randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  startEmulator,
  type Emulator,
  type EmulatorOptions,
  type EmulatorRequest,
  type Reply,
} from '../common/server.js';

export interface S3Object {
  body: Buffer;
  contentType: string;
  lastModified: Date;
  etag: string;
}

export interface S3EmulatorOptions extends EmulatorOptions {
  /** Access key id → secret access key (default `{ 'PLEXUSDEMOACCESSKEY': 'plexus-demo-secret' }`). */
  credentials?: Record<string, string>;
  /** Verify the SigV4 signature, not only the access key (default true). */
  verifySignatures?: boolean;
  /** Buckets and their objects: `{ feeds: { 'dmp/2024-05-01.csv': 'cookie_id,...' } }`. */
  buckets?: Record<string, Record<string, string | Buffer>>;
}

export interface S3State {
  buckets: Map<string, Map<string, S3Object>>;
  /** Stores an object (creating the bucket if needed); `at` is its Last-Modified (default now). */
  putObject(
    bucket: string,
    key: string,
    body: string | Buffer,
    options?: { contentType?: string; at?: Date },
  ): S3Object;
  deleteObject(bucket: string, key: string): boolean;
}

export type S3Emulator = Emulator<S3State>;

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

const xmlEscape = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

function guessContentType(key: string): string {
  if (/\.csv$/i.test(key)) return 'text/csv';
  if (/\.(ndjson|jsonl)$/i.test(key)) return 'application/x-ndjson';
  if (/\.json$/i.test(key)) return 'application/json';
  if (/\.gz$/i.test(key)) return 'application/gzip';
  return 'application/octet-stream';
}

/** Starts a path-style S3-compatible emulator: ListObjectsV2, GetObject (ranges), HeadObject, PutObject, DeleteObject. */
export async function startS3(options: S3EmulatorOptions = {}): Promise<S3Emulator> {
  const credentials = options.credentials ?? { PLEXUSDEMOACCESSKEY: 'plexus-demo-secret' };
  const verify = options.verifySignatures ?? true;
  const buckets = new Map<string, Map<string, S3Object>>();
  const state: S3State = {
    buckets,
    putObject(bucket, key, body, opts = {}) {
      const data = Buffer.isBuffer(body) ? body : Buffer.from(body);
      const object: S3Object = {
        body: data,
        contentType: opts.contentType ?? guessContentType(key),
        lastModified: new Date(Math.floor((opts.at ?? new Date()).getTime() / 1000) * 1000),
        etag: `"${createHash('md5').update(data).digest('hex')}"`,
      };
      if (!buckets.has(bucket)) buckets.set(bucket, new Map());
      buckets.get(bucket)!.set(key, object);
      return object;
    },
    deleteObject: (bucket, key) => buckets.get(bucket)?.delete(key) ?? false,
  };
  for (const [bucket, objects] of Object.entries(options.buckets ?? {})) {
    buckets.set(bucket, new Map());
    for (const [key, body] of Object.entries(objects)) state.putObject(bucket, key, body);
  }

  const error = (status: number, code: string, message: string, extra: Record<string, string> = {}): Reply => {
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    const fields = Object.entries(extra)
      .map(([k, v]) => `<${k}>${xmlEscape(v)}</${k}>`)
      .join('');
    return {
      status,
      headers: { 'content-type': 'application/xml', 'x-amz-request-id': requestId },
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message>${fields}<RequestId>${requestId}</RequestId><HostId>${randomBytes(24).toString('base64')}</HostId></Error>`,
    };
  };

  return startEmulator<S3State>(
    {
      throttled: () => error(503, 'SlowDown', 'Please reduce your request rate.'),
      serverError: (_req, status) =>
        status === 503
          ? error(503, 'ServiceUnavailable', 'Service is unable to handle request.')
          : error(status, 'InternalError', 'We encountered an internal error. Please try again.'),
      expiredToken: () => error(400, 'ExpiredToken', 'The provided token has expired.'),
      handle(req) {
        const denied = authenticate(req);
        if (denied) return denied;
        return route(req);
      },
    },
    state,
    options,
  );

  function authenticate(req: EmulatorRequest): Reply | undefined {
    const header = req.header('authorization');
    if (!header) return error(403, 'AccessDenied', 'Access Denied');
    const parsed =
      /^AWS4-HMAC-SHA256\s+Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})$/.exec(
        header,
      );
    if (!parsed) return error(400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed.');
    const [, accessKey, date, region, service, signedHeaders, signature] = parsed;
    const secret = credentials[accessKey];
    if (secret === undefined) {
      return error(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', {
        AWSAccessKeyId: accessKey,
      });
    }
    if (!verify) return undefined;
    const amzDate = req.header('x-amz-date') ?? '';
    const rawUrl = req.url.pathname + req.url.search;
    const [rawPath, rawQuery = ''] = rawUrl.split('?');
    const canonicalQuery = rawQuery
      .split('&')
      .filter(Boolean)
      .map((pair) => {
        const [k, v = ''] = pair.split('=');
        return [rfc3986(decodeURIComponent(k.replace(/\+/g, ' '))), rfc3986(decodeURIComponent(v.replace(/\+/g, ' ')))];
      })
      .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    const names = signedHeaders.split(';');
    const canonicalHeaders = names
      .map(
        (n) =>
          `${n}:${String(req.headers[n] ?? '')
            .trim()
            .replace(/\s+/g, ' ')}\n`,
      )
      .join('');
    const payloadHash = req.header('x-amz-content-sha256') ?? createHash('sha256').update(req.rawBody).digest('hex');
    const canonicalRequest = [req.method, rawPath, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join(
      '\n',
    );
    const scope = `${date}/${region}/${service}/aws4_request`;
    const stringToSign = [
      'AWS4-HMAC-SHA256',
      amzDate,
      scope,
      createHash('sha256').update(canonicalRequest).digest('hex'),
    ].join('\n');
    let key: Buffer = createHmac('sha256', `AWS4${secret}`).update(date).digest();
    for (const part of [region, service, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
    const expected = createHmac('sha256', key).update(stringToSign).digest('hex');
    if (expected !== signature) {
      return error(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
        { AWSAccessKeyId: accessKey, StringToSign: stringToSign, CanonicalRequest: canonicalRequest },
      );
    }
    return undefined;
  }

  function route(req: EmulatorRequest): Reply {
    const [, bucketName, ...rest] = req.url.pathname.split('/');
    const bucket = decodeURIComponent(bucketName ?? '');
    const key = rest.map((s) => decodeURIComponent(s)).join('/');
    if (!bucket) return error(400, 'InvalidRequest', 'The emulator serves path-style requests: /<bucket>/<key>.');
    if (req.method === 'PUT' && key) {
      const stored = state.putObject(bucket, key, decodeBody(req), { contentType: req.header('content-type') });
      return { status: 200, headers: { ETag: stored.etag } };
    }
    const objects = buckets.get(bucket);
    if (!objects) return error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
    if (!key && req.method === 'GET') return listObjects(req, bucket, objects);
    if (!key && req.method === 'HEAD') return { status: 200 };
    if (req.method === 'DELETE' && key) {
      objects.delete(key);
      return { status: 204 };
    }
    if ((req.method === 'GET' || req.method === 'HEAD') && key) {
      const object = objects.get(key);
      if (!object) return error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
      return getObject(req, key, object);
    }
    return error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
  }

  function listObjects(req: EmulatorRequest, bucket: string, objects: Map<string, S3Object>): Reply {
    if (req.query.get('list-type') !== '2') {
      return error(400, 'InvalidArgument', 'The emulator implements ListObjectsV2 only (list-type=2).');
    }
    const prefix = req.query.get('prefix') ?? '';
    const delimiter = req.query.get('delimiter') ?? '';
    const maxKeysRaw = req.query.get('max-keys');
    const maxKeys = maxKeysRaw === null ? 1000 : Number(maxKeysRaw);
    if (!Number.isInteger(maxKeys) || maxKeys < 0) {
      return error(400, 'InvalidArgument', 'Provided max-keys not an integer or within integer range', {
        ArgumentName: 'max-keys',
        ArgumentValue: maxKeysRaw ?? '',
      });
    }
    const token = req.query.get('continuation-token');
    let after = req.query.get('start-after') ?? '';
    if (token !== null) {
      const decoded = Buffer.from(token, 'base64url').toString('utf8');
      if (!decoded.startsWith('k:')) {
        return error(400, 'InvalidArgument', 'The continuation token provided is incorrect', {
          ArgumentName: 'continuation-token',
        });
      }
      after = decoded.slice(2);
    }
    const keys = [...objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
    const contents: string[] = [];
    const prefixes: string[] = [];
    let count = 0;
    let lastEmitted = '';
    let truncated = false;
    for (const key of keys) {
      if (lastEmitted && prefixes.at(-1) === lastEmitted && key.startsWith(lastEmitted)) continue;
      const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      if (count >= Math.min(maxKeys, 1000)) {
        truncated = true;
        break;
      }
      if (cut >= 0) {
        const common = key.slice(0, cut + delimiter.length);
        prefixes.push(common);
        // Continue after every key under the common prefix.
        lastEmitted = common;
      } else {
        const o = objects.get(key)!;
        contents.push(
          `<Contents><Key>${xmlEscape(key)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified><ETag>${xmlEscape(o.etag)}</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
        );
        lastEmitted = key;
      }
      count++;
    }
    const nextAfter = prefixes.at(-1) === lastEmitted ? `${lastEmitted}\u{10ffff}` : lastEmitted;
    const xml = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      `<ListBucketResult xmlns="${XMLNS}">`,
      `<Name>${xmlEscape(bucket)}</Name>`,
      `<Prefix>${xmlEscape(prefix)}</Prefix>`,
      token !== null ? `<ContinuationToken>${xmlEscape(token)}</ContinuationToken>` : '',
      truncated
        ? `<NextContinuationToken>${Buffer.from(`k:${nextAfter}`).toString('base64url')}</NextContinuationToken>`
        : '',
      `<KeyCount>${count}</KeyCount>`,
      `<MaxKeys>${maxKeys}</MaxKeys>`,
      delimiter ? `<Delimiter>${xmlEscape(delimiter)}</Delimiter>` : '',
      `<IsTruncated>${truncated}</IsTruncated>`,
      req.query.has('start-after') ? `<StartAfter>${xmlEscape(req.query.get('start-after')!)}</StartAfter>` : '',
      ...contents,
      ...prefixes.map((p) => `<CommonPrefixes><Prefix>${xmlEscape(p)}</Prefix></CommonPrefixes>`),
      '</ListBucketResult>',
    ].join('');
    return { status: 200, headers: { 'content-type': 'application/xml' }, body: xml };
  }

  function getObject(req: EmulatorRequest, key: string, object: S3Object): Reply {
    let body = object.body;
    if (req.method === 'GET' && req.takeFault('malformed-record')) {
      body = withMalformedLine(key, body);
      req.noteFault(key);
    }
    const headers: Record<string, string> = {
      'content-type': object.contentType,
      'last-modified': object.lastModified.toUTCString(),
      etag: object.etag,
      'accept-ranges': 'bytes',
      'x-amz-request-id': randomBytes(8).toString('hex').toUpperCase(),
    };
    const range = req.header('range');
    if (range) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(range);
      const size = body.length;
      let start = m && m[1] !== '' ? Number(m[1]) : NaN;
      let end = m && m[2] !== '' ? Number(m[2]) : size - 1;
      if (m && m[1] === '' && m[2] !== '') {
        start = Math.max(0, size - Number(m[2]));
        end = size - 1;
      }
      if (!m || Number.isNaN(start) || start >= size || start > end) {
        return error(416, 'InvalidRange', 'The requested range is not satisfiable', {
          RangeRequested: range,
          ActualObjectSize: String(size),
        });
      }
      end = Math.min(end, size - 1);
      headers['content-range'] = `bytes ${start}-${end}/${size}`;
      const slice = body.subarray(start, end + 1);
      headers['content-length'] = String(slice.length);
      return { status: 206, headers, body: slice };
    }
    headers['content-length'] = String(body.length);
    return { status: 200, headers, body };
  }
}

/** RFC 3986 encoding as SigV4 canonicalisation requires. */
function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The payload of a PUT, decoding `aws-chunked` bodies the SDK sends for streams. */
function decodeBody(req: EmulatorRequest): Buffer {
  const encoding = req.header('content-encoding') ?? '';
  const sha = req.header('x-amz-content-sha256') ?? '';
  if (!encoding.includes('aws-chunked') && !sha.startsWith('STREAMING-')) return req.rawBody;
  const parts: Buffer[] = [];
  let offset = 0;
  const raw = req.rawBody;
  while (offset < raw.length) {
    const lineEnd = raw.indexOf('\r\n', offset);
    if (lineEnd < 0) break;
    const size = parseInt(raw.subarray(offset, lineEnd).toString('latin1').split(';')[0], 16);
    if (!size) break;
    parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** Inserts one line that no CSV or NDJSON reader accepts as a record after the header/first line (gzip kept). */
function withMalformedLine(key: string, body: Buffer): Buffer {
  const gzipped = body[0] === 0x1f && body[1] === 0x8b;
  const text = (gzipped ? gunzipSync(body) : body).toString('utf8');
  const bad = /\.csv(\.gz)?$/i.test(key) ? 'malformed-record' : '{"malformed-record": ';
  const firstBreak = text.indexOf('\n');
  const out =
    firstBreak < 0 ? `${text}\n${bad}\n` : `${text.slice(0, firstBreak + 1)}${bad}\n${text.slice(firstBreak + 1)}`;
  return gzipped ? gzipSync(out) : Buffer.from(out);
}
