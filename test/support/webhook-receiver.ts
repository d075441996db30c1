import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One delivery the receiver accepted. */
export interface ReceivedDelivery {
  id: string;
  timestamp: number;
  body: any;
}

export interface WebhookReceiver {
  url: string;
  /** Accepted deliveries, in order (a replayed delivery id is answered 200 and not recorded again). */
  deliveries: ReceivedDelivery[];
  /** Refused requests and why (`bad signature`, `stale timestamp`, …). */
  refused: Array<{ status: number; reason: string }>;
  /** Answers the next `times` requests with `status` (and `Retry-After: 0` for 429/503). */
  failNext(status: number, times?: number): void;
  close(): Promise<void>;
}

/**
 * A receiver of the `webhook` destination, written from its documented contract rather than its code: it checks
 * `X-Plexus-Signature` (`v1=` hex HMAC-SHA256 of `<timestamp>.<body>`) in constant time, refuses timestamps more
 * than `toleranceSeconds` (default 300) away from its clock, and answers a delivery id it has seen with 200
 * without applying it again.
 */
export async function startWebhookReceiver(secret: string, toleranceSeconds = 300): Promise<WebhookReceiver> {
  const deliveries: ReceivedDelivery[] = [];
  const refused: WebhookReceiver['refused'] = [];
  const seen = new Set<string>();
  const failures: number[] = [];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = (status: number, reason?: string) => {
        if (reason) refused.push({ status, reason });
        res.writeHead(status, status === 429 || status === 503 ? { 'Retry-After': '0' } : {});
        res.end(reason ?? 'ok');
      };
      const failure = failures.shift();
      if (failure !== undefined) return answer(failure, `injected ${failure}`);
      const raw = Buffer.concat(chunks).toString('utf8');
      const problem = verify(req.headers, raw);
      if (problem) return answer(401, problem);
      const id = String(req.headers['x-plexus-delivery']);
      if (!seen.has(id)) {
        seen.add(id);
        deliveries.push({ id, timestamp: Number(req.headers['x-plexus-timestamp']), body: JSON.parse(raw) });
      }
      answer(200);
    });
  });

  function verify(headers: IncomingHttpHeaders, body: string): string | undefined {
    const timestamp = Number(headers['x-plexus-timestamp']);
    const signature = headers['x-plexus-signature'];
    if (!Number.isInteger(timestamp) || typeof signature !== 'string') return 'missing signature headers';
    if (Math.abs(Date.now() / 1000 - timestamp) > toleranceSeconds) return 'stale timestamp';
    const expected = Buffer.from(`v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`);
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'bad signature';
    if (typeof headers['x-plexus-delivery'] !== 'string') return 'missing delivery id';
    return undefined;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/plexus`,
    deliveries,
    refused,
    failNext: (status, times = 1) => failures.push(...Array.from({ length: times }, () => status)),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
