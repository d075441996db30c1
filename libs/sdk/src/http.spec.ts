import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CancelledError, ConfigurationError, ConnectorError, SystemError, TransientError } from './errors.js';
import { createHttpClient, parseRetryAfter } from './http.js';
import { LocalRateBudget } from './rate-budget.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

describe('createHttpClient', () => {
  let server: Server;
  let base: string;
  let handler: Handler;
  let requests: Array<{ method: string; url: string; headers: IncomingMessage['headers']; at: number }>;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        requests.push({ method: req.method!, url: req.url!, headers: req.headers, at: Date.now() });
        handler(req, res, body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    requests = [];
  });

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const failTimes = (times: number, status: number, headers: Record<string, string> = {}): Handler => {
    let served = 0;
    return (_req, res) => {
      if (served++ < times) json(res, status, { message: 'slow down' }, headers);
      else json(res, 200, { ok: true });
    };
  };

  it('sends the auth headers and parses JSON', async () => {
    handler = (_req, res) => json(res, 200, { hello: 'world' });
    const http = createHttpClient({
      baseURL: base,
      policy: { authHeaders: (c) => ({ Authorization: `Bearer ${(c as { token: string }).token}` }) },
      config: { token: 'tok-123' },
    });
    const { data } = await http.get('/me');
    expect(data).toEqual({ hello: 'world' });
    expect(requests[0].headers.authorization).toBe('Bearer tok-123');
  });

  it.each([429, 500, 502, 503, 408])('retries %i and then succeeds', async (status) => {
    handler = failTimes(2, status);
    const http = createHttpClient({ baseURL: base, backoffBaseMs: 5 });
    const { data } = await http.post('/things', { a: 1 });
    expect(data).toEqual({ ok: true });
    expect(requests).toHaveLength(3);
  });

  it('throws TransientError with the status once retries are spent', async () => {
    handler = failTimes(100, 503);
    const http = createHttpClient({ baseURL: base, backoffBaseMs: 1, retries: 3 });
    const error = await http.get('/x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as TransientError).details.status).toBe(503);
    expect((error as Error).message).toContain('after 4 attempts');
    expect((error as Error).message).toContain('slow down');
    expect(requests).toHaveLength(4);
  });

  it('honours Retry-After in seconds', async () => {
    handler = failTimes(1, 429, { 'retry-after': '0.3' });
    const http = createHttpClient({ baseURL: base, backoffBaseMs: 1 });
    await http.get('/x');
    expect(requests).toHaveLength(2);
    expect(requests[1].at - requests[0].at).toBeGreaterThanOrEqual(280);
  });

  it('honours Retry-After as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('2.0')).toBe(2000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });

  it('gives up at once when Retry-After exceeds the in-process wait, reporting the delay', async () => {
    handler = failTimes(1, 429, { 'retry-after': '3600' });
    const http = createHttpClient({ baseURL: base, backoffBaseMs: 1 });
    const error = (await http.get('/x').catch((e: unknown) => e)) as TransientError;
    expect(error).toBeInstanceOf(TransientError);
    expect(error.details.retryAfterMs).toBe(3_600_000);
    expect(requests).toHaveLength(1);
  });

  it("follows the policy's throttle signal on a 200 answer", async () => {
    let served = 0;
    handler = (_req, res) => json(res, 200, served++ === 0 ? { code: 40100, message: 'throttled' } : { code: 0 });
    const http = createHttpClient({
      baseURL: base,
      policy: { throttle: (_s, body) => ((body as { code: number }).code === 40100 ? 50 : undefined) },
    });
    const { data } = await http.get('/x');
    expect(data).toEqual({ code: 0 });
    expect(requests).toHaveLength(2);
    expect(requests[1].at - requests[0].at).toBeGreaterThanOrEqual(45);
  });

  it('turns 401 into a ConfigurationError that says what to fix, without the token', async () => {
    handler = (req, res) => json(res, 401, { message: `token ${req.headers.authorization} is invalid` });
    const http = createHttpClient({
      baseURL: base,
      headers: { Authorization: 'Bearer sk-very-secret' },
      secretValues: ['sk-very-secret'],
      credentialHint: 'the access token',
    });
    const error = (await http.get('/crm/contacts?token=sk-very-secret').catch((e: unknown) => e)) as ConfigurationError;
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.failureType).toBe('config');
    expect(error.details.status).toBe(401);
    expect(error.message).toMatch(/^credentials rejected \(401\) by 127\.0\.0\.1:\d+ .*: check the access token$/);
    expect(error.message).not.toContain('sk-very-secret');
    expect(JSON.stringify(error)).not.toContain('sk-very-secret');
    expect(String(error.stack)).not.toContain('sk-very-secret');
    expect(requests).toHaveLength(1);
  });

  it('turns 403 into a ConfigurationError and 404 into a SystemError, without retrying', async () => {
    handler = (req, res) => json(res, req.url === '/forbidden' ? 403 : 404, { message: 'nope' });
    const http = createHttpClient({ baseURL: base, backoffBaseMs: 1 });
    await expect(http.get('/forbidden')).rejects.toThrow(ConfigurationError);
    const notFound = await http.get('/missing').catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(SystemError);
    expect((notFound as SystemError).details.status).toBe(404);
    expect(requests).toHaveLength(2);
  });

  it("lets the policy classify an answer (e.g. Meta's error codes)", async () => {
    handler = (_req, res) => json(res, 400, { error: { code: 190, message: 'Invalid OAuth access token' } });
    const http = createHttpClient({
      baseURL: base,
      policy: { classify: (_s, body) => ((body as any).error?.code === 190 ? 'config' : undefined) },
    });
    const error = (await http.get('/act').catch((e: unknown) => e)) as ConnectorError;
    expect(error.failureType).toBe('config');
    expect(error.message).toContain('Invalid OAuth access token');
  });

  it("lets the policy explain a failure in the vendor's terms, with secrets redacted", async () => {
    handler = (_req, res) => json(res, 400, { error: { code: 190, message: 'Invalid OAuth access token' } });
    const http = createHttpClient({
      baseURL: base,
      secretValues: ['tok-secret'],
      policy: {
        classify: () => 'config',
        explain: (status, body) =>
          `token tok-secret expired (${status}, code ${(body as { error: { code: number } }).error.code}): renew it`,
      },
    });
    const error = (await http.get('/act').catch((e: unknown) => e)) as ConnectorError;
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toBe('token [redacted] expired (400, code 190): renew it');
  });

  it('returns accepted error statuses to the caller instead of throwing', async () => {
    handler = (_req, res) => json(res, 400, { error: { details: [{ fieldViolations: [{ field: 'items[1]' }] }] } });
    const http = createHttpClient({ baseURL: base });
    const response = await http.post('/ingest', {}, { acceptStatus: [400] });
    expect(response.status).toBe(400);
    expect(response.data).toEqual({ error: { details: [{ fieldViolations: [{ field: 'items[1]' }] }] } });
    await expect(http.post('/ingest', {})).rejects.toThrow(SystemError);
  });

  it('retries network errors and then throws TransientError', async () => {
    handler = (req) => req.socket.destroy();
    const logs: string[] = [];
    const log = { debug() {}, info() {}, error() {}, warn: (m: string) => logs.push(m) };
    const http = createHttpClient({ baseURL: base, backoffBaseMs: 1, retries: 2, log, secretValues: ['abc'] });
    const error = await http.get('/abc/x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect(requests).toHaveLength(3);
    expect(logs).toHaveLength(2);
    expect(logs.join('\n')).not.toContain('abc');
    expect(logs[0]).toContain('/[redacted]/x');
  });

  it('times out slow answers and retries them', async () => {
    let served = 0;
    handler = (_req, res) => {
      if (served++ === 0) setTimeout(() => json(res, 200, { late: true }), 500);
      else json(res, 200, { late: false });
    };
    const http = createHttpClient({ baseURL: base, timeoutMs: 100, backoffBaseMs: 1 });
    const { data } = await http.get('/x');
    expect(data).toEqual({ late: false });
  });

  it('retries a JSON answer cut short, and names the cause once retries are spent', async () => {
    const cut = (res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end('{"results":[{"id":1},{"id":');
    };
    let served = 0;
    handler = (_req, res) => (served++ < 2 ? cut(res) : json(res, 200, { results: [{ id: 1 }] }));
    const logs: string[] = [];
    const log = { debug() {}, info() {}, error() {}, warn: (m: string) => logs.push(m) };
    const http = createHttpClient({ baseURL: base, backoffBaseMs: 1, log });
    const { data } = await http.get('/page');
    expect(data).toEqual({ results: [{ id: 1 }] });
    expect(requests).toHaveLength(3);
    expect(logs[0]).toMatch(/retrying GET .*\/page after 200 with JSON cut short/);

    requests = [];
    handler = (_req, res) => cut(res);
    const error = await createHttpClient({ baseURL: base, backoffBaseMs: 1, retries: 2 })
      .get('/page')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toMatch(/GET .*\/page answered 200 with JSON cut short after 3 attempts/);
    expect(requests).toHaveLength(3);
  });

  it('hands over text that is not declared JSON as it came', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end('{"id":1}\n{"id":2}\n');
    };
    const http = createHttpClient({ baseURL: base, backoffBaseMs: 1 });
    expect((await http.get('/lines')).data).toBe('{"id":1}\n{"id":2}\n');
    expect(requests).toHaveLength(1);
  });

  it('stops waiting as soon as the signal aborts', async () => {
    handler = failTimes(100, 429, { 'retry-after': '30' });
    const controller = new AbortController();
    const http = createHttpClient({ baseURL: base, signal: controller.signal });
    const started = Date.now();
    setTimeout(() => controller.abort(), 50);
    await expect(http.get('/x')).rejects.toThrow(CancelledError);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('waits for the rate budget before every attempt', async () => {
    handler = (_req, res) => json(res, 200, {});
    const http = createHttpClient({ baseURL: base, rateBudget: new LocalRateBudget({ requests: 2, perMs: 200 }) });
    await Promise.all([http.get('/1'), http.get('/2'), http.get('/3')]);
    const times = requests.map((r) => r.at).sort((a, b) => a - b);
    // The third request waits ~200 ms for the window; the first one's arrival can itself be late by its
    // connection set-up on a busy machine, so only a clear gap is asserted (without a budget it is ~0 ms).
    expect(times[2] - times[0]).toBeGreaterThanOrEqual(120);
  });

  it('reports an unknown host as a configuration problem', async () => {
    const http = createHttpClient({ baseURL: 'http://no-such-host.invalid', backoffBaseMs: 1, retries: 0 });
    const error = (await http.get('/x').catch((e: unknown) => e)) as ConnectorError;
    expect(error).toBeInstanceOf(ConnectorError);
    expect(['config', 'transient']).toContain(error.failureType);
  });
});
