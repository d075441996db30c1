import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancelledError, ConfigurationError, TransientError } from './errors.js';
import { openSource } from './files.js';
import { createHttpClient } from './http.js';
import { assertReadablePath, configureOutbound, OutboundRefusedError, outboundAllowProblems } from './outbound.js';

describe('outbound policy', () => {
  let server: Server;
  let port: number;
  let dir: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/trickle') {
        res.writeHead(200, { 'content-type': 'text/csv' });
        res.write('id\n');
        return; // then silence: a remote that stalls mid-body
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"internal":"secret"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    dir = await mkdtemp(join(tmpdir(), 'plexus-outbound-'));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('parses allow lists of hosts, IPs, CIDRs and host:port, and names the bad entries', () => {
    expect(
      outboundAllowProblems([
        '127.0.0.1',
        '10.0.0.0/8',
        'minio:9000',
        '[::1]:80',
        'localhost',
        'bad host',
        '1.2.3.4:99999',
      ]),
    ).toEqual(['bad host', '1.2.3.4:99999']);
  });

  it('refuses loopback, private and metadata addresses, by IP and by resolved name, on every port alike', async () => {
    configureOutbound({ allow: [] });
    const http = createHttpClient({ retries: 0 });
    for (const url of [
      `http://127.0.0.1:${port}/`,
      `http://localhost:${port}/`,
      'http://169.254.169.254/latest/meta-data/',
      'http://10.1.2.3:8080/',
      'http://[::1]:1/',
      'http://[::ffff:127.0.0.1]:1/',
    ]) {
      const error = await http.get(url).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(OutboundRefusedError);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toMatch(/OUTBOUND_ALLOW/);
      expect((error as Error).message).not.toMatch(/secret|ECONNREFUSED/);
    }
  });

  it('lets through what the allow list names, and only on its port when it gives one', async () => {
    configureOutbound({ allow: ['127.0.0.1'] });
    const http = createHttpClient({ retries: 0 });
    expect((await http.get(`http://127.0.0.1:${port}/`)).data).toEqual({ internal: 'secret' });

    configureOutbound({ allow: [`localhost:${port}`] });
    expect((await http.get(`http://localhost:${port}/`)).status).toBe(200);
    await expect(http.get(`http://localhost:${port + 1}/`)).rejects.toBeInstanceOf(OutboundRefusedError);

    configureOutbound({ allow: ['127.0.0.0/8'] });
    expect((await http.get(`http://localhost:${port}/`)).status).toBe(200);
  });

  it('errors a streamed body that stalls, and one whose signal aborts, within the limits', async () => {
    configureOutbound({ allow: ['127.0.0.1'] });
    const stalled = createHttpClient({ retries: 0, idleTimeoutMs: 300 });
    const body = (await stalled.get(`http://127.0.0.1:${port}/trickle`, { responseType: 'stream' }))
      .data as AsyncIterable<Buffer>;
    const started = Date.now();
    await expect(
      (async () => {
        for await (const chunk of body) void chunk;
      })(),
    ).rejects.toBeInstanceOf(TransientError);
    expect(Date.now() - started).toBeLessThan(5000);

    const controller = new AbortController();
    const cancellable = createHttpClient({ retries: 0, signal: controller.signal });
    const input = await openSource({ url: `http://127.0.0.1:${port}/trickle` }, { http: cancellable });
    setTimeout(() => controller.abort(), 200);
    await expect(
      (async () => {
        for await (const chunk of input) void chunk;
      })(),
    ).rejects.toBeInstanceOf(CancelledError);
  });

  it('reads local files only inside the import folders, after resolving .. and symlinks, never DATA_DIR', async () => {
    const dataDir = join(dir, 'data');
    const imports = join(dataDir, 'imports');
    await mkdir(imports, { recursive: true });
    await writeFile(join(dataDir, 'master.key'), 'k');
    await writeFile(join(imports, 'ok.csv'), 'id\n1\n');
    await symlink(join(dataDir, 'master.key'), join(imports, 'link.csv'));
    configureOutbound({ allow: [], readableDirs: [imports], unreadableDirs: [dataDir] });

    expect(assertReadablePath(join(imports, 'ok.csv'))).toMatch(/ok\.csv$/);
    for (const path of ['/etc/passwd', join(imports, '..', 'master.key'), join(imports, 'link.csv')]) {
      expect(() => assertReadablePath(path)).toThrow(/outside the import folders/);
      await expect(openSource({ path })).rejects.toBeInstanceOf(ConfigurationError);
    }

    configureOutbound({ allow: [], readableDirs: [dir], unreadableDirs: [dataDir] });
    expect(() => assertReadablePath(join(dataDir, 'master.key'))).toThrow(/outside the import folders/);
  });
});
