// A connector imports @plexus/sdk only (the validation decorators included); inside the SDK that is '../../index.js'.
import {
  ConfigField,
  defineSource,
  defineStream,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Max,
  Min,
  paginateCursor,
  type ProfileRecord,
} from '../../index.js';

/** What an integrator writes: the configuration class… */
export class ExampleCrmConfig {
  @ConfigField({ description: 'Base URL of the CRM API' })
  @IsUrl({ require_tld: false })
  baseUrl!: string;

  @ConfigField({ description: 'API token (Settings → Integrations)' })
  @IsString()
  token!: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100)
  pageSize?: number;
}

export interface Contact {
  id: string;
  email: string | null;
  name: string;
  updatedAt: number;
}

/** The checkpoint: the list cursor of the last contact stored. */
export interface ContactsCheckpoint {
  after: string;
}

/** …a stream… */
export const contacts = defineStream<ExampleCrmConfig, Contact, ContactsCheckpoint>({
  name: 'contacts',
  primaryKey: ['id'],
  mode: 'incremental',
  cursorField: 'updatedAt',
  async *read(ctx, checkpoint) {
    const pages = paginateCursor<Contact>(ctx.http, {
      url: '/contacts',
      params: { limit: ctx.config.pageSize ?? 100 },
      items: 'results',
      startCursor: checkpoint?.after,
    });
    for await (const page of pages) {
      const last = page.items.at(-1);
      if (!last) continue;
      // Checkpoint on the last record of the page (not on the next-page cursor, absent on the last page),
      // so the final checkpoint is where the next incremental run starts.
      yield { records: page.items, checkpoint: { after: `${last.updatedAt}:${last.id}` } };
    }
  },
  toProfile(contact): ProfileRecord {
    return {
      identifiers: [
        ...(contact.email ? [{ type: 'email' as const, value: contact.email }] : []),
        { type: 'external_id', value: `example-crm:contact:${contact.id}` },
      ],
      traits: { name: contact.name },
      observedAt: new Date(contact.updatedAt).toISOString(),
    };
  },
});

/** …and the definition. */
export default defineSource<ExampleCrmConfig>({
  id: 'example-crm',
  version: '1.0.0',
  sdk: '^0.1.0',
  kind: 'source',
  displayName: 'Example CRM',
  config: ExampleCrmConfig,
  secrets: ['token'],
  rateLimit: { requests: 50, perMs: 1000 },
  identifiers: ['email', 'external_id'],
  http: {
    baseUrl: (config) => (config as ExampleCrmConfig).baseUrl,
    authHeaders: (config) => ({ Authorization: `Bearer ${(config as ExampleCrmConfig).token}` }),
  },
  async check(ctx) {
    await ctx.http.get('/me');
  },
  streams: [contacts],
});
