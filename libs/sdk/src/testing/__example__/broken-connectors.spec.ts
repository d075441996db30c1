import {
  defineSource,
  defineStream,
  paginateCursor,
  type SourceDefinition,
  type StreamDefinition,
} from '../../index.js';
import {
  checkFullRead,
  checkIncrementalRead,
  checkInvalidCredentials,
  checkResumeAfterCrash,
  checkRetries,
} from '../index.js';
import source, {
  contacts,
  type Contact,
  type ContactsCheckpoint,
  type ExampleCrmConfig,
} from './example-crm.connector.js';
import { FakeCrmApi, GOOD_TOKEN } from './fake-crm-api.js';
import { CONTACTS, EXPECTED_PROFILES } from './fixtures.js';

/** The example's stream with its types back, to derive buggy variants from. */
const base = contacts as unknown as StreamDefinition<ExampleCrmConfig, Contact, ContactsCheckpoint>;

/** The example connector with one stream swapped for a buggy one. */
const withStream = (stream: ReturnType<typeof defineStream>): SourceDefinition<ExampleCrmConfig> =>
  defineSource<ExampleCrmConfig>({ ...source, streams: [stream] });

describe('the conformance checks catch broken connectors', () => {
  const api = new FakeCrmApi();
  const config = () => ({ baseUrl: api.url, token: GOOD_TOKEN, pageSize: 3 });

  beforeAll(() => api.start());
  afterAll(() => api.stop());
  beforeEach(() => {
    api.contacts = structuredClone(CONTACTS);
    api.fixtureServer.clearFaults();
  });

  it('passes the correct example (the control)', async () => {
    expect(await checkResumeAfterCrash(source, 'contacts', config())).toEqual([]);
    expect(await checkIncrementalRead(source, 'contacts', config())).toEqual([]);
  });

  it('reports duplicates when a batch checkpoints the start of its page instead of its end', async () => {
    const lateCheckpoint = defineStream<ExampleCrmConfig, Contact, ContactsCheckpoint>({
      ...base,
      async *read(ctx, checkpoint) {
        let pageStart = checkpoint?.after ?? '';
        for await (const page of paginateCursor<Contact>(ctx.http, {
          url: '/contacts',
          params: { limit: 3 },
          items: 'results',
          startCursor: checkpoint?.after,
        })) {
          yield { records: page.items, checkpoint: { after: pageStart } }; // bug: the cursor before the page
          pageStart = page.next ?? pageStart;
        }
      },
    });
    const problems = await checkResumeAfterCrash(withStream(lateCheckpoint), 'contacts', config(), { afterBatches: 2 });
    expect(problems).toEqual([
      expect.stringMatching(/^a run killed after 2 batch\(es\) and resumed: records duplicated: c4 \(×2\)/),
    ]);
  });

  it('reports lost records when the checkpoint runs ahead of the records committed', async () => {
    const earlyCheckpoint = defineStream<ExampleCrmConfig, Contact, ContactsCheckpoint>({
      ...base,
      async *read(ctx, checkpoint) {
        for await (const page of paginateCursor<Contact>(ctx.http, {
          url: '/contacts',
          params: { limit: 3 },
          items: 'results',
          startCursor: checkpoint?.after,
        })) {
          // bug: claims the whole rest of the list is done
          yield { records: page.items, checkpoint: { after: '9999999999999:zzz' } };
        }
      },
    });
    const problems = await checkResumeAfterCrash(withStream(earlyCheckpoint), 'contacts', config());
    expect(problems.join('\n')).toMatch(/records lost: c4, c5, c6, c7/);
  });

  it('reports a stream that ignores its checkpoint', async () => {
    const ignoresCheckpoint = defineStream<ExampleCrmConfig, Contact, ContactsCheckpoint>({
      ...base,
      read: (ctx) =>
        contacts.read(ctx, undefined) as AsyncIterable<{ records: Contact[]; checkpoint: ContactsCheckpoint }>,
    });
    const problems = await checkIncrementalRead(withStream(ignoresCheckpoint), 'contacts', config());
    expect(problems.join('\n')).toMatch(/records not expected/);
  });

  it('reports a client that does not retry', async () => {
    const noRetries = defineSource<ExampleCrmConfig>({ ...source, http: { ...source.http, throttle: undefined } });
    // Same connector, but its requests opt out of retries as a hand-rolled client would.
    const stream = defineStream<ExampleCrmConfig, Contact, ContactsCheckpoint>({
      ...base,
      async *read(ctx) {
        const { data } = await ctx.http.get<{ results: Contact[] }>('/contacts', {
          params: { limit: 100 },
          retries: 0,
        });
        yield { records: data.results, checkpoint: { after: 'end' } };
      },
    });
    const problems = await checkRetries(
      { ...noRetries, streams: [stream] },
      'contacts',
      config(),
      (f) => api.fixtureServer.injectFault(f),
      {
        status: 429,
        times: 1,
        headers: { 'Retry-After': '0' },
      },
    );
    expect(problems).toEqual([
      expect.stringMatching(/injected 429 answer\(s\) was not retried: TransientError \(transient\)/),
    ]);
  });

  it('reports a check that accepts invalid credentials, and a mapping that drops identifiers', async () => {
    const lenient = defineSource<ExampleCrmConfig>({ ...source, check: async () => undefined });
    expect(await checkInvalidCredentials(lenient, { baseUrl: api.url, token: 'bad' })).toEqual([
      'check passed with invalid credentials',
    ]);

    const noEmail = defineStream<ExampleCrmConfig, Contact, ContactsCheckpoint>({
      ...base,
      toProfile: (c) => ({
        identifiers: [{ type: 'external_id', value: `example-crm:contact:${c.id}` }],
        traits: { name: c.name },
      }),
    });
    const problems = await checkFullRead(withStream(noEmail), 'contacts', config(), { profiles: EXPECTED_PROFILES });
    expect(problems).toEqual([
      expect.stringMatching(/^expected profiles missing/),
      expect.stringMatching(/^unexpected profiles/),
    ]);
  });
});
