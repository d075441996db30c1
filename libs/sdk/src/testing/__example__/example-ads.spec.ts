import { defineDestination } from '../../index.js';
import {
  checkDestinationThrottle,
  checkDestinationWrite,
  describeDestinationConformance,
  startFixtureServer,
  type FixtureServer,
} from '../index.js';
import destination from './example-ads.connector.js';

// A fake ads API: audiences are found or created by key (PUT), members added and removed by hashed email.
const audiences = new Map<string, { id: string; members: Set<string> }>();
let api: FixtureServer;

describeDestinationConformance({
  definition: destination,
  setup: async () => {
    api = await startFixtureServer((req) => {
      if (req.headers.authorization !== 'Bearer ads-token') return { status: 401, body: { message: 'invalid token' } };
      if (req.path === '/me') return { body: { account: 'acme' } };
      const put = /^\/audiences\/([^/]+)$/.exec(req.path);
      if (put && req.method === 'PUT') {
        const key = decodeURIComponent(put[1]);
        if (!audiences.has(key)) audiences.set(key, { id: `aud-${audiences.size + 1}`, members: new Set() });
        return { body: { id: audiences.get(key)!.id } };
      }
      const members = /^\/audiences\/([^/]+)\/members$/.exec(req.path);
      const audience = [...audiences.values()].find((a) => a.id === members?.[1]);
      if (members && req.method === 'POST' && audience) {
        const body = req.json as { add: string[]; remove: string[] };
        if (!body.add.every((h) => /^[0-9a-f]{64}$/.test(h))) return { status: 400, body: { message: 'not sha256' } };
        body.add.forEach((h) => audience.members.add(h));
        body.remove.forEach((h) => audience.members.delete(h));
        return { body: { received: body.add.length + body.remove.length } };
      }
      return { status: 404, body: { message: 'not found' } };
    });
  },
  teardown: () => api.close(),
  config: () => ({ baseUrl: api.url, token: 'ads-token' }),
  invalidCredentials: () => ({ baseUrl: api.url, token: 'wrong' }),
  audience: { id: 'aud_buyers', activationId: 'act_buyers', name: 'Buyers' },
  members: [
    { profileId: 'p1', identifiers: [{ type: 'email', value: 'ada@example.com' }], traits: {} },
    { profileId: 'p2', identifiers: [{ type: 'email_sha256', value: 'a'.repeat(64) }], traits: {} },
    {
      profileId: 'p3',
      identifiers: [{ type: 'device_id', value: '6d92078a-8246-4ba4-ae5b-76104861e7dc' }],
      traits: {},
    },
  ],
  injectFault: (fault) => api.injectFault(fault),
  clearFaults: () => api.clearFaults(),
});

describe('the destination checks catch broken destinations', () => {
  const fixture = {
    audience: { id: 'aud_broken', activationId: 'act_broken', name: 'Broken' },
    members: [{ profileId: 'p1', identifiers: [{ type: 'email' as const, value: 'ada@example.com' }], traits: {} }],
  };
  let server: FixtureServer;
  beforeAll(async () => {
    server = await startFixtureServer((req) => (req.method === 'PUT' ? { body: { id: 'aud-x' } } : { body: {} }));
  });
  afterAll(() => server.close());
  const config = () => ({ baseUrl: server.url, token: 'ads-token' });

  it('reports a write that gives up on throttled items', async () => {
    const abortsOnThrottle = defineDestination({
      ...destination,
      async write(ctx, audience, { adds, removes }) {
        try {
          await ctx.http.post(`/audiences/${audience.externalId}/members`, {}, { retries: 0 });
          return { adds: adds.map(() => ({ ok: true as const })), removes: removes.map(() => ({ ok: true as const })) };
        } catch (error) {
          const abort = { abort: String(error) };
          return { adds: adds.map(() => abort), removes: removes.map(() => abort) };
        }
      },
    });
    const problems = await checkDestinationThrottle(
      abortsOnThrottle,
      config(),
      fixture,
      (f) => server.injectFault(f),
      () => server.clearFaults(),
    );
    expect(problems).toContain('a throttled write must not abort items');
    expect(problems[0]).toMatch(/^two 429 answers were not retried/);
  });

  it('reports a write that returns fewer verdicts than items', async () => {
    const oneVerdict = defineDestination({
      ...destination,
      write: async () => ({ adds: [{ ok: true as const }], removes: [] }),
    });
    expect(await checkDestinationWrite(oneVerdict, config(), fixture)).toEqual([
      'removes: expected 1 verdicts (one per item), got 0',
    ]);
  });
});
