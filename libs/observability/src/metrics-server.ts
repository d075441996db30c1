import { createServer, type Server } from 'node:http';
import type { Metrics } from './metrics.js';

/**
 * Serves `GET /metrics` of this process's registry on a port of its own: worker processes have no API, so this is
 * how their counters (sync records, merges, activation, job durations) are scraped. No authentication: bind it to a
 * network only the scraper reaches. The server does not keep the process alive.
 *
 * @example const server = await serveMetrics(app.get(Metrics), 9464, '0.0.0.0');
 */
export async function serveMetrics(metrics: Metrics, port: number, host: string): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Only GET /metrics is served here\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' }).end(text);
      },
      (error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(error as Error).message}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.unref();
  return server;
}
