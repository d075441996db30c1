import type { AddressInfo } from 'node:net';
import { Metrics } from './metrics.js';
import { serveMetrics } from './metrics-server.js';

describe('the metrics port of worker processes', () => {
  it('serves this process’s registry at GET /metrics and nothing else', async () => {
    const metrics = new Metrics();
    metrics.counter('plexus_test_jobs_total', 'jobs', ['queue']).inc({ queue: 'sync' }, 3);
    const server = await serveMetrics(metrics, 0, '127.0.0.1');
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const res = await fetch(`${base}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      expect(await res.text()).toContain('plexus_test_jobs_total{queue="sync"} 3');
      expect((await fetch(`${base}/`)).status).toBe(404);
      expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(404);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('refuses a port already taken, with the error', async () => {
    const first = await serveMetrics(new Metrics(), 0, '127.0.0.1');
    try {
      await expect(
        serveMetrics(new Metrics(), (first.address() as AddressInfo).port, '127.0.0.1'),
      ).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await new Promise((r) => first.close(r));
    }
  });
});
