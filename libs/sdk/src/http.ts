import axios, {
  AxiosHeaders,
  type AxiosAdapter,
  type AxiosError,
  type AxiosInstance,
  type AxiosResponse,
  type InternalAxiosRequestConfig,
} from 'axios';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { ConnectorLogger, FailureType, HttpPolicy } from './connector.js';
import { CancelledError, ConfigurationError, ConnectorError, SystemError, TransientError } from './errors.js';
import type { RateBudget } from './rate-budget.js';
import { createGuardedAgents, OutboundRefusedError } from './outbound.js';
import { createRedactor, type Redactor } from './redact.js';
import { abortableSleep } from './sleep.js';

declare module 'axios' {
  interface AxiosRequestConfig {
    /** Retries for this request only (overrides the client's `retries`; 0 disables them). */
    retries?: number;
    /**
     * Error statuses this request returns as a response instead of throwing, so the connector can read the
     * vendor's per-item errors (e.g. Google's `fieldViolations` in a 400). Throttling and transient answers are
     * still retried first.
     */
    acceptStatus?: number[];
  }
}

export interface HttpClientOptions {
  /** Prefix of relative URLs; defaults to `policy.baseUrl(config)` when the policy has one. */
  baseURL?: string;
  /** Headers sent with every request, after (and so overriding) the policy's auth headers. */
  headers?: Record<string, string>;
  /** The vendor's auth headers, throttle signals and error classification. */
  policy?: HttpPolicy;
  /** The decrypted configuration handed to the policy (`authHeaders(config)`, `baseUrl(config)`). */
  config?: unknown;
  /** Acquired before every attempt, retries included. */
  rateBudget?: RateBudget;
  /** Retries of a transient failure before `TransientError` is thrown. Default 5. */
  retries?: number;
  /** Per-attempt timeout until the answer's headers arrive (connect included). Default 30 s. */
  timeoutMs?: number;
  /** How long the TCP/TLS connection may take. Default 10 s. */
  connectTimeoutMs?: number;
  /** Longest silence while a streamed body (`responseType: 'stream'`) is read; then it errors. Default 60 s. */
  idleTimeoutMs?: number;
  /** Aborts waits and requests at once; the request then fails with `CancelledError`. */
  signal?: AbortSignal;
  log?: ConnectorLogger;
  /** Values removed from every log line and error message (tokens, passwords, API keys). */
  secretValues?: string[];
  /** First backoff step; attempt n waits a random time in [0, min(max, base·2ⁿ)] ("full jitter"). Default 500 ms. */
  backoffBaseMs?: number;
  /** Ceiling of one backoff step. Default 30 s. */
  backoffMaxMs?: number;
  /**
   * The longest `Retry-After`/throttle delay waited for in-process. A longer one (a daily cap, say) throws
   * `TransientError` with `retryAfterMs` at once so the hub can reschedule the run. Default 60 s.
   */
  maxRetryWaitMs?: number;
  /** What to tell the admin to check when credentials are rejected, e.g. `the private app token`. */
  credentialHint?: string;
}

const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
  'ERR_NETWORK',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/**
 * An axios instance for one connection: it injects auth, waits for the rate budget, retries transient
 * failures (network errors, timeouts, 408, 429, 5xx and the policy's throttle signals) with exponential
 * backoff and full jitter, honours `Retry-After`, and throws only `ConnectorError`s whose message is free of
 * secrets: `ConfigurationError` for 401/403 (saying what to fix), `TransientError` once retries are spent,
 * `SystemError` for other 4xx, `CancelledError` when the signal aborts. JSON bodies are parsed as usual.
 *
 * Retries apply to every method: the APIs Plexus talks to make reads and audience writes idempotent.
 * Set `retries: 0` on a request that must never be repeated.
 *
 * @example
 * ```ts
 * const http = createHttpClient({
 *   baseURL: 'https://api.hubapi.com',
 *   headers: { Authorization: `Bearer ${config.token}` },
 *   secretValues: [config.token],
 *   rateBudget: new LocalRateBudget({ requests: 100, perMs: 10_000 }),
 * });
 * const { data } = await http.get('/crm/v3/objects/contacts', { params: { limit: 100 } });
 * ```
 */
export function createHttpClient(options: HttpClientOptions = {}): AxiosInstance {
  const redactor = createRedactor(options.secretValues ?? []);
  const baseURL = options.baseURL ?? options.policy?.baseUrl?.(options.config);
  const headers = { ...(options.policy?.authHeaders?.(options.config) ?? {}), ...(options.headers ?? {}) };
  // The agents apply the outbound policy (configureOutbound) on every resolved address at connect time.
  const { httpAgent, httpsAgent } = createGuardedAgents({ connectTimeoutMs: options.connectTimeoutMs });
  const instance = axios.create({
    baseURL,
    headers,
    timeout: options.timeoutMs ?? 30_000,
    httpAgent,
    httpsAgent,
    adapter: createRetryingAdapter(options, redactor),
  });
  return instance;
}

function createRetryingAdapter(options: HttpClientOptions, redactor: Redactor): AxiosAdapter {
  const baseAdapter = axios.getAdapter(axios.defaults.adapter);
  const backoffBaseMs = options.backoffBaseMs ?? 500;
  const backoffMaxMs = options.backoffMaxMs ?? 30_000;
  const maxRetryWaitMs = options.maxRetryWaitMs ?? 60_000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  const hint = options.credentialHint ?? 'the configured credentials';
  const policy = options.policy;

  return async (config: InternalAxiosRequestConfig): Promise<AxiosResponse> => {
    // axios replaces any rejection with its own CanceledError when config.signal is aborted; the adapter
    // owns cancellation instead so callers always get a ConnectorError.
    const requestSignal = config.signal as AbortSignal | undefined;
    config.signal = undefined;
    const signals = [options.signal, requestSignal].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length === 0 ? undefined : signals.length === 1 ? signals[0] : AbortSignal.any(signals);
    const retries = config.retries ?? options.retries ?? 5;
    const target = describeTarget(config, redactor);
    const cancelled = (): CancelledError => new CancelledError(`${target.label} cancelled`);

    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw cancelled();
      if (options.rateBudget) {
        try {
          await options.rateBudget.acquire(signal);
        } catch (error) {
          if (signal?.aborted) throw cancelled();
          throw new SystemError(`rate budget unavailable: ${redactor.text(messageOf(error))}`);
        }
      }

      let response: AxiosResponse;
      try {
        response = await baseAdapter({ ...config, signal, validateStatus: null });
      } catch (error) {
        if (signal?.aborted) throw cancelled();
        const refused = refusalOf(error);
        if (refused) throw new OutboundRefusedError(`${target.label} refused: ${refused.message}`);
        const code = (error as AxiosError).code ?? '';
        if (code === 'ENOTFOUND') {
          throw new ConfigurationError(`host ${target.host} not found: check the base URL`);
        }
        if (!TRANSIENT_NETWORK_CODES.has(code)) {
          throw new SystemError(`${target.label} failed: ${redactor.text(messageOf(error))}`);
        }
        // Refused and timed-out connections read alike, so errors do not tell open ports from closed ones.
        const reason = code === 'ECONNABORTED' || code === 'ETIMEDOUT' ? 'timed out' : 'could not connect';
        if (attempt >= retries) {
          throw new TransientError(`${target.label} ${reason} after ${attempt + 1} attempts`);
        }
        await wait(backoff(attempt), reason, attempt);
        continue;
      }

      const status = response.status;
      const responseHeaders = lowerCaseHeaders(response.headers);
      const isStream = isReadable(response.data);
      let body: unknown = response.data;
      if (!isStream) {
        body = parseJsonBody(response.data, config.responseType);
        response.data = body;
      }
      const plausiblyOk = status < 400;
      // A success declared JSON whose body does not parse was cut short on the way (a dropped connection, a
      // proxy): retried like a 5xx, never handed to the connector as a string it might read as an empty page.
      const cutShort = plausiblyOk && !isStream && unparsedJson(body, responseHeaders, config.responseType);
      if (isStream && !plausiblyOk) {
        body = await readSmallBody(response.data as Readable);
      }

      const throttleMs = policy?.throttle?.(status, body, responseHeaders);
      const classified: FailureType | undefined =
        throttleMs !== undefined ? 'transient' : policy?.classify?.(status, body);
      const failure: FailureType | 'ok' =
        classified ??
        (cutShort
          ? 'transient'
          : plausiblyOk
            ? 'ok'
            : status === 408 || status === 429 || status >= 500
              ? 'transient'
              : status === 401 || status === 403
                ? 'config'
                : 'system');
      if (failure === 'ok') {
        if (isStream) response.data = withIdleTimeout(response.data as Readable, idleTimeoutMs, target.label, signal);
        return response;
      }
      if (failure !== 'transient' && config.acceptStatus?.includes(status)) return response;
      if (isStream && plausiblyOk) (response.data as Readable).destroy();

      const explained = policy?.explain?.(status, body);
      const vendorMessage = redactor.text(explained ?? extractVendorMessage(body));
      const suffix = vendorMessage ? `: ${vendorMessage}` : '';
      switch (failure) {
        case 'config':
          throw new ConfigurationError(
            explained === undefined ? configMessage(status, target, hint, vendorMessage) : vendorMessage,
            { status },
          );
        case 'system':
          throw new SystemError(`${target.label} failed with ${status}${suffix}`, { status });
        case 'transient': {
          const retryAfterMs = parseRetryAfter(responseHeaders['retry-after']);
          const signalled =
            retryAfterMs === undefined && throttleMs === undefined
              ? undefined
              : Math.max(retryAfterMs ?? 0, throttleMs ?? 0);
          const outcome = cutShort ? `answered ${status} with JSON cut short` : `failed with ${status}`;
          if (attempt >= retries) {
            throw new TransientError(`${target.label} ${outcome} after ${attempt + 1} attempts${suffix}`, {
              status,
              retryAfterMs: signalled,
            });
          }
          if (signalled !== undefined && signalled > maxRetryWaitMs) {
            throw new TransientError(`${target.label} throttled (${status}) for ${signalled} ms${suffix}`, {
              status,
              retryAfterMs: signalled,
            });
          }
          await wait(
            signalled ?? backoff(attempt),
            cutShort ? `${status} with JSON cut short` : String(status),
            attempt,
          );
          continue;
        }
      }
    }

    async function wait(ms: number, reason: string, attempt: number): Promise<void> {
      options.log?.warn(`retrying ${target.label} after ${reason} in ${Math.round(ms)} ms`, {
        attempt: attempt + 1,
        retries,
      });
      try {
        await abortableSleep(ms, signal);
      } catch {
        throw cancelled();
      }
    }
  };

  function backoff(attempt: number): number {
    return Math.random() * Math.min(backoffMaxMs, backoffBaseMs * 2 ** attempt);
  }
}

function configMessage(
  status: number,
  target: { host: string; path: string },
  hint: string,
  vendorMessage: string,
): string {
  const detail = vendorMessage ? ` (${vendorMessage})` : '';
  if (status === 401) return `credentials rejected (401) by ${target.host}${detail}: check ${hint}`;
  if (status === 403) {
    return `permission denied (403) by ${target.host} for ${target.path}${detail}: check the permissions of ${hint}`;
  }
  return `${target.host} rejected the configuration (${status})${detail}: check ${hint}`;
}

function describeTarget(
  config: InternalAxiosRequestConfig,
  redactor: Redactor,
): { label: string; host: string; path: string } {
  const method = (config.method ?? 'get').toUpperCase();
  try {
    const url = new URL(config.url ?? '', config.baseURL);
    const path = redactor.text(url.pathname);
    return { label: `${method} ${url.host}${path}`, host: url.host, path };
  } catch {
    const raw = redactor.text(`${config.baseURL ?? ''}${config.url ?? ''}`.split('?')[0] ?? '');
    return { label: `${method} ${raw}`, host: raw, path: raw };
  }
}

/**
 * Milliseconds a `Retry-After` header asks to wait: delta-seconds (`"120"`, `"2.0"`) or an HTTP date.
 *
 * @example parseRetryAfter('2.0') // 2000
 */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

function lowerCaseHeaders(headers: AxiosResponse['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  const plain = headers instanceof AxiosHeaders ? headers.toJSON() : (headers as Record<string, unknown>);
  for (const [key, value] of Object.entries<unknown>(plain)) {
    if (typeof value === 'string') out[key.toLowerCase()] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') out[key.toLowerCase()] = String(value);
    else if (Array.isArray(value)) out[key.toLowerCase()] = value.join(', ');
  }
  return out;
}

function parseJsonBody(data: unknown, responseType: string | undefined): unknown {
  if (typeof data !== 'string' || (responseType !== undefined && responseType !== 'json')) return data;
  const trimmed = data.trim();
  if (trimmed === '') return data;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return data;
  }
}

/** A body left a string by `parseJsonBody` although the answer says it is JSON (`application/json`, `…+json`). */
function unparsedJson(body: unknown, headers: Record<string, string>, responseType: string | undefined): boolean {
  if (typeof body !== 'string' || (responseType !== undefined && responseType !== 'json')) return false;
  return /^application\/([\w.-]+\+)?json\s*(;|$)/i.test(headers['content-type'] ?? '') && body.trim() !== '';
}

function isReadable(value: unknown): value is Readable {
  return typeof value === 'object' && value !== null && typeof (value as Readable).pipe === 'function';
}

async function readSmallBody(stream: Readable, limit = 16_384): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      chunks.push(buffer);
      size += buffer.length;
      if (size >= limit) break;
    }
  } catch {
    // The body is only read for the error message.
  } finally {
    stream.destroy();
  }
  return parseJsonBody(Buffer.concat(chunks).toString('utf8').slice(0, limit), undefined);
}

/** The vendor's own error message from common error body shapes, at most 300 characters. */
function extractVendorMessage(body: unknown): string {
  // Only a message field of a structured (JSON) error is shown: a raw body is never echoed.
  const pick = (value: unknown, nested = false): string | undefined => {
    if (typeof value === 'string') return nested ? value : undefined;
    if (Array.isArray(value)) return pick(value[0], nested);
    if (value && typeof value === 'object') {
      const o = value as Record<string, unknown>;
      for (const key of ['message', 'error_description', 'error', 'errorMessage', 'detail', 'title']) {
        const found = pick(o[key], true);
        if (found) return found;
      }
    }
    return undefined;
  };
  const message = pick(body) ?? '';
  const flat = message.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 297)}...` : flat;
}

function messageOf(error: unknown): string {
  if (error instanceof ConnectorError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

function refusalOf(error: unknown): Error | undefined {
  for (let e: unknown = error; e instanceof Error; e = e.cause) if (e instanceof OutboundRefusedError) return e;
  return undefined;
}

/**
 * Passes a streamed body through and errors it with a `TransientError` when no byte arrives for `idleMs`, or
 * with a `CancelledError` when `signal` aborts, so a trickling or stalled remote cannot hold a run.
 */
export function withIdleTimeout(body: Readable, idleMs: number, label: string, signal?: AbortSignal): Readable {
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => guarded.destroy(new TransientError(`${label} stalled: no data for ${idleMs} ms`)), idleMs);
  };
  const guarded = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
      arm();
      callback(null, chunk);
    },
    flush(callback: TransformCallback): void {
      clearTimeout(timer);
      callback();
    },
  });
  const onAbort = (): void => {
    guarded.destroy(new CancelledError(`${label} cancelled`));
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  guarded.once('close', () => {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    body.destroy();
  });
  arm();
  body.once('error', (error) => {
    if (signal?.aborted) onAbort();
    else
      guarded.destroy(
        error instanceof ConnectorError
          ? error
          : new TransientError(`${label} broke off: ${error.message}`, { cause: error }),
      );
  });
  body.pipe(guarded);
  // A reader that stopped early (a cancelled run) no longer listens: the timeout must not crash the process.
  guarded.on('error', () => undefined);
  return guarded;
}
