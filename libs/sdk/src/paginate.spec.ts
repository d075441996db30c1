import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TransientError } from './errors.js';
import { createHttpClient } from './http.js';
import { paginateCursor, paginateLinkHeader, paginateOffset, paginatePage, parseLinkHeader } from './paginate.js';

const ALL = Array.from({ length: 23 }, (_, i) => ({ id: i + 1 }));

describe('paginators', () => {
  let server: Server;
  let base: string;
  let seen: string[];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url}${body ? ` ${body}` : ''}`);
        const url = new URL(req.url!, base);
        const q = url.searchParams;
        const send = (data: unknown, headers: Record<string, string> = {}) => {
          res.writeHead(200, { 'content-type': 'application/json', ...headers });
          res.end(JSON.stringify(data));
        };
        switch (url.pathname) {
          case '/cursor': {
            const after = Number(q.get('after') ?? 0);
            const results = ALL.filter((r) => r.id > after).slice(0, Number(q.get('limit')));
            const last = results.at(-1);
            return send({
              results,
              ...(last && last.id < ALL.length ? { paging: { next: { after: String(last.id) } } } : {}),
            });
          }
          case '/search': {
            const { after = '0', limit } = JSON.parse(body) as { after?: string; limit: number };
            const results = ALL.filter((r) => r.id > Number(after)).slice(0, limit);
            const last = results.at(-1);
            return send({
              results,
              paging: last && last.id < ALL.length ? { next: { after: String(last.id) } } : undefined,
            });
          }
          case '/link': {
            // Like Shopify: a page_info request may carry only page_info and limit.
            if (q.has('page_info') && q.has('status')) {
              res.writeHead(400).end();
              return;
            }
            const start = Number(q.get('page_info') ?? 0);
            const limit = Number(q.get('limit'));
            const items = ALL.slice(start, start + limit);
            const headers: Record<string, string> =
              start + limit < ALL.length
                ? {
                    link: `<${base}/link?page_info=${start + limit}&limit=${limit}>; rel="next", <${base}/link>; rel="previous"`,
                  }
                : {};
            return send({ customers: items }, headers);
          }
          case '/offset': {
            const offset = Number(q.get('offset'));
            return send({ data: ALL.slice(offset, offset + Number(q.get('limit'))), total: ALL.length });
          }
          case '/truncated': {
            // The second page is cut off in transit: a 200 whose JSON never ends.
            if (q.get('after') === '10') {
              res.writeHead(200, { 'content-type': 'application/json' });
              res.end(JSON.stringify({ results: ALL.slice(10, 20) }).slice(0, 40));
              return;
            }
            return send({ results: ALL.slice(0, 10), paging: { next: { after: '10' } } });
          }
          case '/page': {
            const page = Number(q.get('page'));
            const size = Number(q.get('per_page'));
            return send(ALL.slice((page - 1) * size, page * size));
          }
          default:
            res.writeHead(404).end();
        }
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
    seen = [];
  });

  const http = () => createHttpClient({ baseURL: base, backoffBaseMs: 1 });
  const collect = async <P>(pages: AsyncIterable<{ items: { id: number }[]; next: P | undefined }>) => {
    const ids: number[] = [];
    const nexts: Array<P | undefined> = [];
    for await (const page of pages) {
      ids.push(...page.items.map((i) => i.id));
      nexts.push(page.next);
    }
    return { ids, nexts };
  };
  const allIds = ALL.map((r) => r.id);

  it('pages with a cursor in the answer body and resumes from a page position', async () => {
    const { ids, nexts } = await collect(
      paginateCursor<{ id: number }>(http(), { url: '/cursor', params: { limit: 10 }, items: 'results' }),
    );
    expect(ids).toEqual(allIds);
    expect(nexts).toEqual(['10', '20', undefined]);
    const resumed = await collect(
      paginateCursor<{ id: number }>(http(), {
        url: '/cursor',
        params: { limit: 10 },
        items: 'results',
        startCursor: '10',
      }),
    );
    expect(resumed.ids).toEqual(allIds.slice(10));
  });

  it('puts the cursor in the request body for search endpoints', async () => {
    const { ids } = await collect(
      paginateCursor<{ id: number }>(http(), {
        url: '/search',
        method: 'post',
        cursorIn: 'body',
        data: { limit: 8 },
        items: 'results',
      }),
    );
    expect(ids).toEqual(allIds);
    expect(seen).toEqual([
      'POST /search {"limit":8}',
      'POST /search {"limit":8,"after":"8"}',
      'POST /search {"limit":8,"after":"16"}',
    ]);
  });

  it('follows the Link header as given, without repeating the first filters', async () => {
    const { ids, nexts } = await collect(
      paginateLinkHeader<{ id: number }>(http(), {
        url: '/link',
        params: { limit: 10, status: 'any' },
        items: 'customers',
      }),
    );
    expect(ids).toEqual(allIds);
    expect(nexts).toEqual([`${base}/link?page_info=10&limit=10`, `${base}/link?page_info=20&limit=10`, undefined]);
    const resumed = await collect(
      paginateLinkHeader<{ id: number }>(http(), { url: '/link', items: 'customers', startUrl: nexts[1] }),
    );
    expect(resumed.ids).toEqual(allIds.slice(20));
  });

  it('parses Link headers with several links and relations', () => {
    expect(parseLinkHeader('<https://a/?x=1,2>; rel="next last"; title="n", <https://a/?p=0>; rel=prev')).toEqual({
      next: 'https://a/?x=1,2',
      last: 'https://a/?x=1,2',
      prev: 'https://a/?p=0',
    });
  });

  it('fails transiently on a page that is not valid JSON instead of reading it as empty', async () => {
    const pages = paginateCursor<{ id: number }>(http(), {
      url: '/truncated',
      items: 'results',
      nextCursor: 'paging.next.after',
    });
    const ids: number[] = [];
    await expect(
      (async () => {
        for await (const page of pages) ids.push(...page.items.map((i) => i.id));
      })(),
    ).rejects.toThrow(TransientError);
    expect(ids).toEqual(ALL.slice(0, 10).map((r) => r.id));
  });

  it('pages by offset, stopping at the total', async () => {
    const { ids, nexts } = await collect(
      paginateOffset<{ id: number }>(http(), { url: '/offset', limit: 10, items: 'data', total: 'total' }),
    );
    expect(ids).toEqual(allIds);
    expect(nexts).toEqual([10, 20, undefined]);
    const resumed = await collect(
      paginateOffset<{ id: number }>(http(), { url: '/offset', limit: 10, items: 'data', startOffset: 20 }),
    );
    expect(resumed.ids).toEqual(allIds.slice(20));
  });

  it('pages by page number, stopping at a short page', async () => {
    const { ids, nexts } = await collect(paginatePage<{ id: number }>(http(), { url: '/page', pageSize: 5 }));
    expect(ids).toEqual(allIds);
    expect(nexts).toEqual([2, 3, 4, 5, undefined]);
    expect(seen).toHaveLength(5);
  });
});
