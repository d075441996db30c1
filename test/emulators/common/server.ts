import { isAscii } from 'node:buffer';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultController, parseFaultSpec, type FaultKind, type FaultSpec } from './faults.js';

/** One request the emulator received, for assertions in tests. */
export interface RecordedRequest {
  at: number;
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  headers: IncomingHttpHeaders;
  /** Parsed JSON when the body is JSON, the raw text otherwise, undefined when empty. */
  body?: unknown;
  /** The status answered (filled in when the answer is sent). */
  status?: number;
}

/** What a vendor handler answers. `json` is serialised; `body` is sent as is. */
export interface Reply {
  status: number;
  headers?: Record<string, string | string[]>;
  json?: unknown;
  body?: string | Buffer;
}

/** A request as handlers see it. */
export class EmulatorRequest {
  constructor(
    readonly method: string,
    readonly url: URL,
    readonly headers: IncomingHttpHeaders,
    readonly rawBody: Buffer,
    readonly origin: string,
    private readonly faults: FaultController,
    /** When its headers arrived (ms): a platform counts a request against its rate limits from then. */
    readonly receivedAt: number = Date.now(),
  ) {}

  get path(): string {
    return this.url.pathname;
  }

  get query(): URLSearchParams {
    return this.url.searchParams;
  }

  header(name: string): string | undefined {
    const value = this.headers[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  }

  private parsed?: { value: unknown } | { error: unknown };

  /** The body parsed as JSON (once per request); throws a SyntaxError when it is not. */
  json(): unknown {
    if (!this.parsed) {
      try {
        this.parsed = { value: JSON.parse(bodyText(this.rawBody)) as unknown };
      } catch (error) {
        this.parsed = { error };
      }
    }
    if ('error' in this.parsed) throw this.parsed.error;
    return this.parsed.value;
  }

  /** Consumes an armed fault of one of `kinds` for this request (see FaultController.take). */
  takeFault(...kinds: FaultKind[]): FaultSpec | undefined {
    return this.faults.take(kinds, this.method, this.path);
  }

  /** Records detail on the fault that just fired (e.g. the corrupted record's id). */
  noteFault(detail: string): void {
    this.faults.note(detail);
  }
}

/** What a vendor plugs into the shared server. */
export interface VendorBehaviour {
  /** Answers the `429` fault with the vendor's throttle body and headers. */
  throttled(req: EmulatorRequest): Reply;
  /** Answers the `5xx` fault. */
  serverError(req: EmulatorRequest, status: number): Reply;
  /** Answers the `expired-token` fault with the vendor's authentication error. */
  expiredToken(req: EmulatorRequest): Reply;
  /** Serves one request. A thrown error becomes a 500. */
  handle(req: EmulatorRequest): Reply | Promise<Reply>;
}

export interface EmulatorOptions {
  /** Fixed port (default: a random free port). */
  port?: number;
  /** Requests kept in `requests` (oldest dropped first; default 50,000). */
  maxRecordedRequests?: number;
}

/** A running emulator: its URL, what it received, its faults and its vendor-specific state. */
export interface Emulator<State> {
  url: string;
  port: number;
  requests: RecordedRequest[];
  faults: FaultController;
  state: State;
  close(): Promise<void>;
}

/**
 * Starts an HTTP server on 127.0.0.1 that records every request, serves the control endpoints
 * (`/__emulator/faults`, `/__emulator/requests`) and hands the rest to the vendor's behaviour,
 * applying armed faults on the way.
 */
export async function startEmulator<State>(
  behaviour: VendorBehaviour,
  state: State,
  options: EmulatorOptions = {},
): Promise<Emulator<State>> {
  const faults = new FaultController();
  const requests: RecordedRequest[] = [];
  const maxRecorded = options.maxRecordedRequests ?? 50_000;

  const server = createServer((req, res) => {
    void serve(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`emulator error: ${error instanceof Error ? error.message : String(error)}`);
      } else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Taken before the body streams in: handlers run one at a time, so a request behind a large one is handled
    // late, but a platform's front end would have counted it on arrival.
    const receivedAt = Date.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks);
    const host = req.headers.host ?? `127.0.0.1:${port}`;
    const origin = `http://${host}`;
    const url = new URL(req.url ?? '/', origin);
    const method = (req.method ?? 'GET').toUpperCase();

    if (url.pathname.startsWith('/__emulator/')) return control(method, url, rawBody, res);

    let body: unknown;
    let bodyParsed = false;
    const contentType = req.headers['content-type'];
    const recorded: RecordedRequest = {
      at: Date.now(),
      method,
      path: url.pathname,
      query: queryObject(url.searchParams),
      headers: req.headers,
      // Parsed when first read, from the bytes received: a bench sending megabytes a request does not pay for
      // parsing each body twice, and a handler cannot change what was recorded.
      get body() {
        if (!bodyParsed) {
          body = parseBody(rawBody, contentType);
          bodyParsed = true;
        }
        return body;
      },
    };
    requests.push(recorded);
    if (requests.length > maxRecorded) requests.splice(0, requests.length - maxRecorded);

    const request = new EmulatorRequest(method, url, req.headers, rawBody, origin, faults, receivedAt);
    const slow = request.takeFault('slow');
    // A client that gives up (a timeout, a closed emulator) ends the wait: the request is then handled as a
    // server that received it does, so a write that timed out may still have been applied.
    if (slow) await sleepUnlessClosed(slow.delayMs ?? 2_000, res);

    let reply: Reply;
    const fault = request.takeFault('429', '5xx', 'expired-token');
    if (fault?.kind === '429') reply = behaviour.throttled(request);
    else if (fault?.kind === '5xx') reply = behaviour.serverError(request, fault.status ?? 503);
    else if (fault?.kind === 'expired-token') reply = behaviour.expiredToken(request);
    else reply = await behaviour.handle(request);

    let payload: Buffer | undefined =
      reply.json !== undefined
        ? Buffer.from(JSON.stringify(reply.json))
        : reply.body === undefined
          ? undefined
          : Buffer.isBuffer(reply.body)
            ? reply.body
            : Buffer.from(reply.body);
    const headers: Record<string, string | string[]> = { ...reply.headers };
    if (reply.json !== undefined && !hasHeader(headers, 'content-type')) {
      headers['content-type'] = 'application/json;charset=utf-8';
    }
    // A truncated page: the status and headers are right, the body stops half-way. When the handler declared
    // the full Content-Length (S3 objects), the connection drops mid-body as a failing download does;
    // otherwise the cut body is sent complete with its own length, as when a proxy cuts a JSON page.
    let dropConnection = false;
    if (payload && payload.length > 1 && reply.status < 300 && request.takeFault('truncated')) {
      dropConnection = hasHeader(headers, 'content-length');
      payload = payload.subarray(0, Math.floor(payload.length / 2));
    }
    recorded.status = reply.status;
    res.writeHead(reply.status, headers);
    if (dropConnection && payload) res.write(payload, () => res.destroy());
    else res.end(method === 'HEAD' ? undefined : payload);
  }

  function control(method: string, url: URL, body: Buffer, res: ServerResponse): void {
    const send = (status: number, json: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    if (url.pathname === '/__emulator/faults') {
      if (method === 'GET') return send(200, { pending: faults.pending(), fired: faults.fired });
      if (method === 'DELETE') {
        faults.clear();
        return send(200, { pending: [] });
      }
      if (method === 'POST') {
        try {
          const parsed = JSON.parse(body.toString('utf8')) as unknown;
          const specs = (Array.isArray(parsed) ? parsed : [parsed]).map(parseFaultSpec);
          faults.inject(...specs);
          return send(201, { pending: faults.pending() });
        } catch (error) {
          return send(400, { error: error instanceof Error ? error.message : String(error) });
        }
      }
    }
    if (url.pathname === '/__emulator/requests') {
      if (method === 'GET') return send(200, { requests });
      if (method === 'DELETE') {
        requests.length = 0;
        return send(200, { requests: [] });
      }
    }
    return send(404, { error: `no control endpoint ${method} ${url.pathname}` });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    faults,
    state,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function sleepUnlessClosed(ms: number, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    res.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function hasHeader(headers: Record<string, unknown>, name: string): boolean {
  return Object.keys(headers).some((key) => key.toLowerCase() === name);
}

function queryObject(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of params) {
    const existing = out[key];
    out[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return out;
}

/** A body as text: ASCII (most JSON bodies) is copied byte for byte, much faster than decoding UTF-8. */
function bodyText(raw: Buffer): string {
  return isAscii(raw) ? raw.toString('latin1') : raw.toString('utf8');
}

function parseBody(raw: Buffer, contentType: string | undefined): unknown {
  if (raw.length === 0) return undefined;
  const text = bodyText(raw);
  if (contentType?.includes('json')) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return raw.length > 64 * 1024 ? `<${raw.length} bytes>` : text;
}
