import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const pascal = (id: string): string =>
  id
    .split(/[-_]/)
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');

/**
 * Scaffolds `connectors/<id>/`: a working connector for a JSON API with bearer auth and cursor pagination, its
 * fixture, a local fixture server that plays the API, and a spec that runs the SDK conformance suite. The
 * result passes `npm run test:jest -- connectors/<id>` unchanged; replace the API calls and mapping with the
 * vendor's.
 */
export function createConnector(id: string, kind: 'source' | 'destination', parent = 'connectors'): string {
  if (!/^[a-z][a-z0-9-]*$/.test(id))
    throw new Error(`connector id '${id}' must be lower-case letters, digits and dashes, starting with a letter`);
  const dir = resolve(parent, id);
  if (existsSync(dir)) throw new Error(`${dir} already exists`);
  mkdirSync(join(dir, 'fixtures'), { recursive: true });
  const files = kind === 'source' ? sourceFiles(id) : destinationFiles(id);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return join(parent, id);
}

function sourceFiles(id: string): Record<string, string> {
  const Name = pascal(id);
  const contacts = Array.from({ length: 7 }, (_, i) => ({
    id: String(101 + i),
    email: `person${i + 1}@example.com`,
    phone: i % 2 === 0 ? `+1415555010${i}` : null,
    firstName: `Person ${i + 1}`,
    updatedAt: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
  }));
  return {
    'index.ts': `import {
  defineSource,
  defineStream,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Max,
  Min,
  MinLength,
  type ProfileRecord,
} from '@plexus/sdk';

/** The configuration an admin gives when creating a source (validated; rendered as JSON Schema). */
export class ${Name}Config {
  /** Where the API lives; point it at an emulator or a proxy in tests. */
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  baseUrl: string = 'https://api.example.com';

  /** A secret: encrypted at rest, never returned by the API, redacted from logs. */
  @IsString()
  @MinLength(1)
  token!: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100)
  pageSize?: number;
}

/** A contact as the API returns it. */
export interface Contact {
  id: string;
  email: string | null;
  phone: string | null;
  firstName: string | null;
  updatedAt: string;
}

/** Where a run stands: the cursor inside a run, and the high-water mark of \`updatedAt\` between runs. */
export interface ContactsCheckpoint {
  updatedSince?: string;
  cursor?: string;
  maxUpdatedAt?: string;
}

const contacts = defineStream<${Name}Config, Contact, ContactsCheckpoint>({
  name: 'contacts',
  primaryKey: ['id'],
  mode: 'incremental',
  cursorField: 'updatedAt',
  async *read(ctx, checkpoint) {
    const updatedSince = checkpoint?.updatedSince;
    let cursor = checkpoint?.cursor;
    let maxUpdatedAt = checkpoint?.maxUpdatedAt ?? updatedSince;
    for (;;) {
      const { data } = await ctx.http.get<{ data: Contact[]; next_cursor: string | null }>('/contacts', {
        params: { limit: ctx.config.pageSize ?? 50, updated_since: updatedSince, cursor },
      });
      for (const c of data.data) if (!maxUpdatedAt || c.updatedAt > maxUpdatedAt) maxUpdatedAt = c.updatedAt;
      cursor = data.next_cursor ?? undefined;
      // Mid-run the checkpoint keeps the cursor; after the last page it moves the window to what was seen.
      yield {
        records: data.data,
        checkpoint: cursor ? { updatedSince, cursor, maxUpdatedAt } : { updatedSince: maxUpdatedAt },
      };
      if (!cursor) return;
    }
  },
  toProfile(contact, ctx): ProfileRecord {
    const identifiers: ProfileRecord['identifiers'] = [{ type: 'external_id', value: \`\${ctx.connectionId}:contact:\${contact.id}\` }];
    if (contact.email) identifiers.push({ type: 'email', value: contact.email });
    if (contact.phone) identifiers.push({ type: 'phone', value: contact.phone });
    return { identifiers, traits: { firstName: contact.firstName }, observedAt: contact.updatedAt };
  },
});

export default defineSource<${Name}Config>({
  id: '${id}',
  version: '0.1.0',
  sdk: '^0.1.0',
  kind: 'source',
  displayName: '${Name}',
  description: 'Contacts from the ${Name} API.',
  config: ${Name}Config,
  secrets: ['token'],
  rateLimit: { requests: 10, perMs: 1000 },
  identifiers: ['email', 'phone', 'external_id'],
  http: {
    baseUrl: (config) => (config as ${Name}Config).baseUrl,
    authHeaders: (config) => ({ Authorization: \`Bearer \${(config as ${Name}Config).token}\` }),
  },
  async check(ctx) {
    // 401/403 become a ConfigurationError that tells the admin to fix the token.
    await ctx.http.get('/contacts', { params: { limit: 1 } });
  },
  streams: [contacts],
});
`,
    'fixture-api.ts': `import type { FixtureHandler } from '@plexus/sdk/testing';
import type { Contact } from './index.js';

/**
 * Plays the vendor's API for the tests: bearer auth, \`updated_since\` filter, cursor pagination.
 * Replace it with an emulator that follows the vendor's documented contract.
 */
export function contactsApi(contacts: Contact[], token: string): FixtureHandler {
  return (req) => {
    if (req.headers.authorization !== \`Bearer \${token}\`) return { status: 401, body: { message: 'invalid token' } };
    if (req.path !== '/contacts') return { status: 404, body: { message: 'not found' } };
    const since = req.query.get('updated_since');
    const limit = Number(req.query.get('limit') ?? 50);
    const offset = Number(req.query.get('cursor') ?? 0);
    const matching = contacts.filter((c) => !since || c.updatedAt > since).sort((a, b) => a.updatedAt.localeCompare(b.updatedAt) || a.id.localeCompare(b.id));
    const page = matching.slice(offset, offset + limit);
    const next = offset + limit < matching.length ? String(offset + limit) : null;
    return { body: { data: page, next_cursor: next } };
  };
}
`,
    [`${id}.spec.ts`]: `import { readFileSync } from 'node:fs';
import { describeSourceConformance, startFixtureServer, type FixtureServer } from '@plexus/sdk/testing';
import source, { type Contact } from './index.js';
import { contactsApi } from './fixture-api.js';

const contacts = JSON.parse(readFileSync(new URL('./fixtures/contacts.json', import.meta.url), 'utf8')) as Contact[];
let api: FixtureServer;
let added = 0;

describeSourceConformance({
  definition: source,
  setup: async () => {
    api = await startFixtureServer(contactsApi(contacts, 'test-token'));
  },
  teardown: () => api.close(),
  config: () => ({ baseUrl: api.url, token: 'test-token', pageSize: 3 }),
  invalidCredentials: () => ({ baseUrl: api.url, token: 'wrong-token' }),
  streams: {
    contacts: {
      recordCount: contacts.length,
      // Something changes upstream after a full read: the next incremental read returns exactly that.
      addNewer: async () => {
        added += 1;
        const id = String(900 + added);
        contacts.push({ id, email: \`new\${added}@example.com\`, phone: null, firstName: 'New', updatedAt: new Date(Date.UTC(2027, 0, added)).toISOString() });
        return [id];
      },
    },
  },
  injectFault: (fault) => api.injectFault(fault),
  pendingFaults: () => api.pendingFaults(),
});
`,
    'fixtures/contacts.json': JSON.stringify(contacts, null, 2) + '\n',
    'README.md': `# ${id}

A Plexus source connector. \`index.ts\` holds the definition (config class, stream, mapping); \`fixture-api.ts\`
plays the vendor's API for the tests; \`${id}.spec.ts\` runs the SDK conformance suite.

\`\`\`bash
npm run test:jest -- connectors/${id}
npm run plexus -- connectors validate
\`\`\`

See docs/CONNECTORS.md for the whole contract.
`,
  };
}

function destinationFiles(id: string): Record<string, string> {
  const Name = pascal(id);
  return {
    'index.ts': `import { createHash } from 'node:crypto';
import {
  defineDestination,
  IsString,
  IsUrl,
  MinLength,
  verdictsForFailure,
  type ActivationMember,
} from '@plexus/sdk';

export class ${Name}Config {
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  baseUrl: string = 'https://api.example.com';

  @IsString()
  @MinLength(1)
  token!: string;
}

/** What the platform receives per member: the SHA-256 of the normalised email. */
export interface ${Name}Item {
  emailSha256: string;
}

const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

export default defineDestination<${Name}Config, ${Name}Item>({
  id: '${id}',
  version: '0.1.0',
  sdk: '^0.1.0',
  kind: 'destination',
  displayName: '${Name}',
  description: 'Audiences synced to the ${Name} API.',
  config: ${Name}Config,
  secrets: ['token'],
  accepts: ['email'],
  purpose: 'ads',
  batch: { maxItems: 1000 },
  identifiers: ['email'],
  http: {
    baseUrl: (config) => (config as ${Name}Config).baseUrl,
    authHeaders: (config) => ({ Authorization: \`Bearer \${(config as ${Name}Config).token}\` }),
  },
  async check(ctx) {
    await ctx.http.get('/audiences');
  },
  async ensureAudience(ctx, audience) {
    if (audience.externalId) return { externalId: audience.externalId };
    // Keyed by the activation (this audience through this destination), so two never share a platform audience.
    const { data } = await ctx.http.post<{ id: string }>('/audiences', { name: audience.name, key: audience.activationId });
    return { externalId: data.id };
  },
  toItem(member: ActivationMember) {
    const email = member.identifiers.find((i) => i.type === 'email')?.value;
    return email ? { emailSha256: sha256(email.trim().toLowerCase()) } : null;
  },
  async write(ctx, audience, { adds, removes }) {
    try {
      await ctx.http.post(\`/audiences/\${audience.externalId}/members\`, { add: adds, remove: removes });
      return { adds: adds.map(() => ({ ok: true as const })), removes: removes.map(() => ({ ok: true as const })) };
    } catch (error) {
      return { adds: verdictsForFailure(error, adds.length), removes: verdictsForFailure(error, removes.length) };
    }
  },
});
`,
    'fixture-api.ts': `import type { FixtureHandler } from '@plexus/sdk/testing';

/** Plays the platform's API for the tests: bearer auth, audiences found by key, member uploads. */
export function audiencesApi(token: string): FixtureHandler {
  const audiences = new Map<string, { id: string; name: string; members: Set<string> }>();
  return (req) => {
    if (req.headers.authorization !== \`Bearer \${token}\`) return { status: 401, body: { message: 'invalid token' } };
    if (req.path === '/audiences' && req.method === 'GET') return { body: { data: [...audiences.values()].map((a) => ({ id: a.id, name: a.name })) } };
    if (req.path === '/audiences' && req.method === 'POST') {
      const { name, key } = req.json as { name: string; key: string };
      const found = audiences.get(key) ?? { id: \`aud_\${audiences.size + 1}\`, name, members: new Set<string>() };
      audiences.set(key, found);
      return { status: 201, body: { id: found.id } };
    }
    const match = /^\\/audiences\\/([^/]+)\\/members$/.exec(req.path);
    if (match && req.method === 'POST') {
      const audience = [...audiences.values()].find((a) => a.id === match[1]);
      if (!audience) return { status: 404, body: { message: 'no such audience' } };
      const { add, remove } = req.json as { add: Array<{ emailSha256: string }>; remove: Array<{ emailSha256: string }> };
      for (const m of add) audience.members.add(m.emailSha256);
      for (const m of remove) audience.members.delete(m.emailSha256);
      return { body: { received: add.length + remove.length } };
    }
    return { status: 404, body: { message: 'not found' } };
  };
}
`,
    [`${id}.spec.ts`]: `import { describeDestinationConformance, startFixtureServer, type FixtureServer } from '@plexus/sdk/testing';
import destination from './index.js';
import { audiencesApi } from './fixture-api.js';

let api: FixtureServer;

describeDestinationConformance({
  definition: destination,
  setup: async () => {
    api = await startFixtureServer(audiencesApi('test-token'));
  },
  teardown: () => api.close(),
  config: () => ({ baseUrl: api.url, token: 'test-token' }),
  invalidCredentials: () => ({ baseUrl: api.url, token: 'wrong-token' }),
  audience: { id: 'aud_buyers', activationId: 'act_buyers', name: 'Buyers' },
  members: [
    { profileId: 'p1', identifiers: [{ type: 'email', value: 'alice@example.com' }], traits: {} },
    { profileId: 'p2', identifiers: [{ type: 'email', value: 'bob@example.com' }], traits: {} },
    { profileId: 'p3', identifiers: [{ type: 'device_id', value: '6d92078a-8246-4ba4-ae5b-76104861e7dc' }], traits: {} },
  ],
  injectFault: (fault) => api.injectFault(fault),
  clearFaults: () => api.clearFaults(),
});
`,
    'fixtures/.gitkeep': '',
    'README.md': `# ${id}

A Plexus destination connector. \`index.ts\` holds the definition (config, identifier hashing, writes with one
verdict per item); \`fixture-api.ts\` plays the platform's API; \`${id}.spec.ts\` runs the SDK conformance suite.

\`\`\`bash
npm run test:jest -- connectors/${id}
\`\`\`
`,
  };
}
