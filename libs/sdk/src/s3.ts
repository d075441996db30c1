import type { S3Client } from '@aws-sdk/client-s3';
import { Transform, pipeline, type Readable, type TransformCallback } from 'node:stream';
import { CancelledError, ConfigurationError, ConnectorError, SystemError, TransientError } from './errors.js';
import { gunzipIfCompressed } from './files.js';
import { withIdleTimeout } from './http.js';
import { createGuardedAgents } from './outbound.js';

/**
 * Where an S3-compatible bucket is and how to sign for it. `endpoint` defaults to AWS
 * (`https://s3.<region>.amazonaws.com`); set it for MinIO, Cloudflare R2, Wasabi, a proxy or an emulator.
 */
export interface S3Settings {
  bucket: string;
  /** Default `us-east-1`. */
  region?: string;
  /** Custom endpoint, e.g. `https://<account>.r2.cloudflarestorage.com`; default AWS. */
  endpoint?: string;
  /** Without `accessKeyId` and `secretAccessKey` the AWS default credential chain applies (environment, profile, instance role). */
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /** Path-style URLs (`<endpoint>/<bucket>/<key>`); default true when `endpoint` is set, as most S3-compatible servers want. */
  forcePathStyle?: boolean;
  /** Attempts per request, retries of throttling (SlowDown), 5xx and network errors included. Default 4. */
  maxAttempts?: number;
  /** How long the TCP/TLS connection may take. Default 10 s. */
  connectTimeoutMs?: number;
  /** How long a request may wait for the answer's headers. Default 30 s. */
  firstByteTimeoutMs?: number;
  /** Longest silence while an object's body is read. Default 60 s. */
  idleTimeoutMs?: number;
}

/** One object of a listing. */
export interface S3ObjectInfo {
  key: string;
  /** The object's ETag (quotes included, as S3 sends it): changes when the content does. */
  etag?: string;
  size?: number;
  lastModified?: Date;
}

/** An object opened for reading. */
export interface S3OpenedObject {
  /** The content, gunzipped when it starts with the gzip magic bytes; errors with a `TransientError` when the download breaks off. */
  stream: Readable;
  etag?: string;
  size?: number;
}

/** Reads a bucket: lists keys in lexical order and streams objects, with S3 errors mapped to ConnectorErrors. */
export interface S3Reader {
  /**
   * Every object under `prefix` whose key sorts after `startAfter`, in lexical (UTF-8 binary) order, paging
   * through ListObjectsV2 1,000 keys at a time.
   */
  listObjects(prefix?: string, startAfter?: string): AsyncGenerator<S3ObjectInfo>;
  /** Opens an object; a missing key is a `SystemError` with `details.status` 404. */
  openObject(key: string): Promise<S3OpenedObject>;
  /** Releases the client's sockets. */
  close(): void;
}

/**
 * An S3 (or S3-compatible) reader for sources such as DMP feeds, built on `@aws-sdk/client-s3`. Errors become
 * ConnectorErrors: rejected credentials (`InvalidAccessKeyId`, `SignatureDoesNotMatch`, `AccessDenied`,
 * `ExpiredToken`) and a missing bucket are `ConfigurationError`s that say what to fix; throttling (`SlowDown`),
 * 5xx and network failures are `TransientError`s once the client's own retries are spent; an aborted `signal`
 * is a `CancelledError`. A download that ends before its `Content-Length` errors instead of looking complete.
 *
 * @example
 * ```ts
 * const s3 = createS3Reader({ bucket: 'dmp-feeds', region: 'eu-west-1', accessKeyId, secretAccessKey }, ctx.signal);
 * try {
 *   for await (const object of s3.listObjects('daily/', checkpoint?.lastKey)) {
 *     const { stream } = await s3.openObject(object.key);
 *     for await (const { line, row } of readCsvRows(stream)) { ... }
 *   }
 * } finally {
 *   s3.close();
 * }
 * ```
 */
export function createS3Reader(settings: S3Settings, signal?: AbortSignal): S3Reader {
  let client: S3Client | undefined;
  // Loaded on first use: most processes using the SDK never read a bucket, and the AWS client takes ~300 ms to load.
  const connect = async (): Promise<{ client: S3Client; s3: S3Module }> => {
    const s3 = await loadS3Module();
    client ??= new s3.S3Client(clientOptions);
    return { client, s3 };
  };
  const clientOptions = {
    region: settings.region ?? 'us-east-1',
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings.forcePathStyle ?? settings.endpoint !== undefined,
    maxAttempts: settings.maxAttempts ?? 4,
    // Guarded agents: the endpoint is checked against the outbound policy on its resolved address.
    requestHandler: {
      ...createGuardedAgents({ connectTimeoutMs: settings.connectTimeoutMs }),
      connectionTimeout: settings.connectTimeoutMs ?? 10_000,
      requestTimeout: settings.firstByteTimeoutMs ?? 30_000,
    },
    ...(settings.accessKeyId && settings.secretAccessKey
      ? {
          credentials: {
            accessKeyId: settings.accessKeyId,
            secretAccessKey: settings.secretAccessKey,
            ...(settings.sessionToken ? { sessionToken: settings.sessionToken } : {}),
          },
        }
      : {}),
  };
  const bucket = settings.bucket;

  return {
    async *listObjects(prefix, startAfter) {
      let token: string | undefined;
      do {
        const page = await send(
          async ({ client, s3 }) =>
            client.send(
              new s3.ListObjectsV2Command({
                Bucket: bucket,
                Prefix: prefix || undefined,
                ContinuationToken: token,
                StartAfter: token === undefined ? startAfter || undefined : undefined,
              }),
              { abortSignal: signal },
            ),
          `listing s3://${bucket}/${prefix ?? ''}`,
        );
        for (const item of page.Contents ?? []) {
          if (item.Key === undefined) continue;
          yield { key: item.Key, etag: item.ETag, size: item.Size, lastModified: item.LastModified };
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },

    async openObject(key) {
      const what = `reading s3://${bucket}/${key}`;
      const object = await send(
        async ({ client, s3 }) =>
          client.send(new s3.GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal }),
        what,
      );
      const body = object.Body as Readable | undefined;
      if (!body || typeof body.pipe !== 'function') throw new SystemError(`${what}: the answer has no body`);
      const checked = new ContentLengthCheck(object.ContentLength, what);
      pipeline(withIdleTimeout(body, settings.idleTimeoutMs ?? 60_000, what, signal), checked, () => undefined);
      return {
        stream: await gunzipIfCompressed(checked),
        etag: object.ETag,
        size: object.ContentLength,
      };
    },

    close() {
      client?.destroy();
    },
  };

  async function send<T>(request: (s3: { client: S3Client; s3: S3Module }) => Promise<T>, what: string): Promise<T> {
    try {
      return await request(await connect());
    } catch (error) {
      throw s3Error(error, what, settings, signal);
    }
  }
}

type S3Module = typeof import('@aws-sdk/client-s3');
let s3Module: Promise<S3Module> | undefined;
function loadS3Module(): Promise<S3Module> {
  s3Module ??= import('@aws-sdk/client-s3');
  return s3Module;
}

const CREDENTIAL_CODES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'AuthorizationHeaderMalformed',
  'AllAccessDisabled',
  'InvalidClientTokenId',
]);
const TRANSIENT_CODES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'RequestTimeout',
  'RequestTimeTooSkewed',
  'InternalError',
  'ServiceUnavailable',
  'TimeoutError',
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
]);

/**
 * Maps an error of `@aws-sdk/client-s3` to the ConnectorError the hub acts on (see `createS3Reader`).
 *
 * @example
 * ```ts
 * try { await client.send(command); } catch (error) { throw s3Error(error, 'listing s3://feeds/', settings); }
 * ```
 */
export function s3Error(
  error: unknown,
  what: string,
  settings: Pick<S3Settings, 'bucket'>,
  signal?: AbortSignal,
): ConnectorError {
  if (error instanceof ConnectorError) return error;
  if (signal?.aborted) return new CancelledError(`${what} cancelled`);
  // An S3ServiceException carries the S3 error code as its name and the HTTP status in $metadata.
  const service = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata;
  const code =
    service !== undefined
      ? ((error as Error).name ?? '')
      : ((error as { code?: string; name?: string } | null)?.code ?? (error as Error | null)?.name ?? '');
  const status = service?.httpStatusCode;
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  if (code === 'AbortError') return new CancelledError(`${what} cancelled`);
  if (CREDENTIAL_CODES.has(code)) {
    return new ConfigurationError(
      `S3 rejected the request (${code}) ${what}: check accessKeyId, secretAccessKey and the key's permissions on bucket ${settings.bucket} (s3:ListBucket, s3:GetObject)`,
      { status },
    );
  }
  if (code === 'CredentialsProviderError') {
    return new ConfigurationError(`no S3 credentials found ${what}: set accessKeyId and secretAccessKey`);
  }
  if (code === 'NoSuchBucket') {
    return new ConfigurationError(`bucket ${settings.bucket} does not exist: check bucket, region and endpoint`, {
      status,
    });
  }
  if (code === 'PermanentRedirect' || code === 'AuthorizationHeaderMalformedRegion') {
    return new ConfigurationError(`bucket ${settings.bucket} is in another region: check region`, { status });
  }
  if (code === 'ENOTFOUND') return new ConfigurationError(`${what}: host not found: check endpoint`);
  if (TRANSIENT_CODES.has(code) || (status !== undefined && status >= 500) || status === 429) {
    return new TransientError(`${what} failed (${code || status}): ${message}`, { status, cause: error });
  }
  if (code === 'NoSuchKey') return new SystemError(`${what}: no such key`, { status: 404 });
  return new SystemError(`${what} failed (${code || status || 'error'}): ${message}`, { status });
}

/** Passes bytes through and errors at the end when fewer than `expected` arrived (a download cut short). */
class ContentLengthCheck extends Transform {
  private received = 0;

  constructor(
    private readonly expected: number | undefined,
    private readonly what: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.received += chunk.length;
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.expected !== undefined && this.received < this.expected) {
      callback(
        new TransientError(`${this.what}: the download broke off after ${this.received} of ${this.expected} bytes`),
      );
    } else callback();
  }

  override _destroy(error: Error | null, callback: (error: Error | null) => void): void {
    // An upstream failure (socket reset mid-body) reaches readers as a transient failure they can retry.
    callback(
      error && !(error instanceof ConnectorError)
        ? new TransientError(`${this.what}: the download broke off: ${error.message}`, { cause: error })
        : error,
    );
  }
}
