import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as the fixture server saw it. */
export interface FixtureRequest {
  method: string;
  /** Path and query, e.g. `/contacts?after=10`. */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The raw body, and its JSON reading when it is JSON. */
  body: string;
  json?: unknown;
}

/** An answer: objects are sent as JSON, strings and Buffers as they are. */
export interface FixtureResponse {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** A failure served instead of the handler's answer, the next `times` times a matching request arrives. */
export interface Fault {
  status: number;
  /** How many requests get it. Default 1. */
  times?: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Only requests it accepts get the fault. Default: every request. */
  match?: (request: FixtureRequest) => boolean;
}

export interface FixtureServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Every request received, in order. */
  requests: FixtureRequest[];
  injectFault(fault: Fault): void;
  /** Faults not yet served. */
  pendingFaults(): number;
  /** Forgets the faults not yet served. */
  clearFaults(): void;
  close(): Promise<void>;
}

export type FixtureHandler = (request: FixtureRequest) => FixtureResponse | Promise<FixtureResponse>;

/**
 * Starts a local `node:http` server answering with `handler`, recording requests, and serving injected
 * faults first — a vendor emulator in a few lines.
 *
 * @example
 * ```ts
 * const api = await startFixtureServer((req) =>
 *   req.headers.authorization === 'Bearer good' ? { body: { results: contacts } } : { status: 401, body: { message: 'bad token' } });
 * api.injectFault({ status: 429, times: 2, headers: { 'Retry-After': '0' } });
 * // ... point the connector's config at api.url, then: await api.close();
 * ```
 */
export async function startFixtureServer(handler: FixtureHandler): Promise<FixtureServer> {
  const requests: FixtureRequest[] = [];
  const faults: Array<Fault & { left: number }> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const parsed = new URL(req.url ?? '/', 'http://fixture');
      let json: unknown;
      try {
        json = body ? (JSON.parse(body) as unknown) : undefined;
      } catch {
        json = undefined;
      }
      const request: FixtureRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        path: parsed.pathname,
        query: parsed.searchParams,
        headers: req.headers,
        body,
        json,
      };
      requests.push(request);
      const fault = faults.find((f) => f.left > 0 && (f.match?.(request) ?? true));
      const answer = async (): Promise<FixtureResponse> => {
        if (!fault) return handler(request);
        fault.left -= 1;
        return {
          status: fault.status,
          headers: fault.headers,
          body: fault.body ?? { message: `injected ${fault.status}` },
        };
      };
      answer().then(
        (response) => send(response),
        (error: unknown) =>
          send({ status: 500, body: { message: error instanceof Error ? error.message : String(error) } }),
      );
      function send(response: FixtureResponse): void {
        const raw = response.body;
        const isRaw = typeof raw === 'string' || Buffer.isBuffer(raw);
        const payload = raw === undefined ? '' : isRaw ? raw : JSON.stringify(raw);
        res.writeHead(response.status ?? 200, {
          ...(isRaw || raw === undefined ? {} : { 'content-type': 'application/json' }),
          ...response.headers,
        });
        res.end(payload);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    injectFault: (fault) => faults.push({ ...fault, left: fault.times ?? 1 }),
    pendingFaults: () => faults.reduce((sum, f) => sum + f.left, 0),
    clearFaults: () => {
      faults.length = 0;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
