import type { Readable } from 'node:stream';
import type { AxiosInstance } from 'axios';
import type { IngestSettings } from './ingest.js';
import type { Consent, ConsentPurpose, Identifier, IdentifierType, ProfileRecord, TraitValue } from './records.js';

/**
 * What the hub does with a failure: `config` — stop and ask the admin to fix the configuration (bad
 * credentials, missing permission); `transient` — retry later (throttled, 5xx, timeout); `system` — report it
 * as a bug or an outage that retrying will not fix.
 */
export type FailureType = 'config' | 'transient' | 'system';

/** A structured log sink; values of secret fields are redacted before they reach it. */
export interface ConnectorLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** What every connector method receives. */
export interface ConnectorContext<Cfg> {
  /** The validated configuration, secrets decrypted. */
  config: Cfg;
  /** axios with auth, retries, rate budget, failure classification and redaction built in. */
  http: AxiosInstance;
  log: ConnectorLogger;
  /** Aborted when the run is cancelled or the process shuts down; pass it on to long waits. */
  signal: AbortSignal;
  /** The id of the configured source or destination (rate budgets are kept per connection). */
  connectionId: string;
  /** In a run started by an upload (sources declaring `upload`): the uploaded file. */
  upload?: UploadedFile;
  /**
   * Sources of systems destinations also write to (a CRM): tells which values read back are the ones Plexus
   * wrote there, so the source does not report them as fresh observations (see {@link WrittenValues}). Set by
   * the hub in sync runs; absent elsewhere (tests, webhooks), where every value counts as observed.
   */
  written?: WrittenValues;
}

/**
 * Values a destination wrote into a record of a system that a source also reads (a CRM contact's properties),
 * reported in {@link WriteResult.written} and recorded by the hub, so the value read back by the next sync is
 * recognised as Plexus's own write rather than a change made in that system.
 *
 * @example { system: 'hubspot:62515', object: 'contacts', id: '1201', profileId: 'e3b0…', values: { firstname: 'Ada', plexus_ltv: '1500' } }
 */
export interface WrittenRecord {
  /** The account written to, named as the source reading it names it (e.g. `hubspot:<portalId>`). */
  system: string;
  /** The object type in that system, e.g. `contacts`. */
  object: string;
  /** The system's id of the record. */
  id: string;
  /** The Plexus profile the values came from. */
  profileId?: string;
  /** Property → the value as written (as the system stores it, a string; null when cleared). */
  values: Record<string, string | null>;
}

/**
 * What a source asks about the values it reads from a system destinations write to.
 *
 * @example
 * ```ts
 * const echoes = await ctx.written?.matches('hubspot:62515', 'contacts', [{ id: '1201', property: 'firstname', value: 'Ada' }]);
 * // [true]: Plexus wrote firstname=Ada to contact 1201 last; leave that trait out of the record
 * ```
 */
export interface WrittenValues {
  /** For each candidate, whether its value is the one Plexus last wrote to that property of that record. */
  matches(
    system: string,
    object: string,
    candidates: Array<{ id: string; property: string; value: string | null }>,
  ): Promise<boolean[]>;
}

/**
 * A file uploaded to `POST /v1/sources/:id/upload`. The hub keeps its bytes in its database, not on the API
 * host's disk, so any worker process or machine can read it; they are deleted when the run ends.
 *
 * @example
 * ```ts
 * const input = ctx.upload
 *   ? await openSource({ stream: ctx.upload.open() })
 *   : await openSource({ path: ctx.config.path }, { http: ctx.http });
 * ```
 */
export interface UploadedFile {
  /** Opaque id of the stored upload. */
  id: string;
  /** Size in bytes. */
  bytes: number;
  /** Streams the bytes from the first one; each call is a new stream (a resumed run reads it again). */
  open(): Readable;
}

/** One page of work from a stream: records, primary keys deleted upstream, and the checkpoint after them. */
export interface Batch<R, C> {
  records: R[];
  /** Primary keys of records deleted (or archived) upstream. */
  deletedIds?: string[];
  /** Committed in the same transaction as the batch's records: a crash resumes exactly here. */
  checkpoint?: C;
}

export type SyncMode = 'full' | 'incremental';

/**
 * One stream of a source (e.g. HubSpot `contacts`, Shopify `orders`).
 *
 * @example
 * ```ts
 * defineStream<MyConfig, Contact, { after?: string }>({
 *   name: 'contacts', primaryKey: ['id'], mode: 'incremental', cursorField: 'updatedAt',
 *   async *read(ctx, checkpoint) { ... yield { records, checkpoint: { after } }; },
 *   toProfile: (c) => ({ identifiers: [{ type: 'email', value: c.email }], traits: { name: c.name } }),
 * });
 * ```
 */
export interface StreamDefinition<Cfg, R, C> {
  name: string;
  primaryKey: string[];
  mode: SyncMode;
  /** The field incremental reads advance on, for documentation and the catalog. */
  cursorField?: string;
  /** How deletions upstream reach Plexus: not at all, or as `deletedIds` in batches. */
  deletes?: 'none' | 'deleted-ids';
  /** Yields batches from `checkpoint` on (from the beginning when undefined). */
  read(ctx: ConnectorContext<Cfg>, checkpoint: C | undefined): AsyncIterable<Batch<R, C>>;
  /** Maps one record; throwing quarantines the record with the error as reason. `null` skips it. */
  toProfile(record: R, ctx: ConnectorContext<Cfg>): ProfileRecord | ProfileRecord[] | null;
  /** Identifier of a deleted primary key (usually its `external_id`), so the hub can find the profile. */
  deletedIdentifier?(id: string, ctx: ConnectorContext<Cfg>): Identifier;
}

export interface RateLimit {
  /** Requests allowed per window, shared by every worker through Redis. */
  requests: number;
  perMs: number;
}

/** A vendor-specific reading of HTTP answers the generic client cannot know. */
export interface HttpPolicy {
  /** Base URL given the config (most connectors read `config.baseUrl`). */
  baseUrl?(config: unknown): string;
  /** Headers that authenticate a request, given the decrypted config. */
  authHeaders?(config: unknown): Record<string, string>;
  /** Milliseconds to wait when the answer is a throttle signal (beyond 429 + Retry-After), else undefined. */
  throttle?(status: number, body: unknown, headers: Record<string, string>): number | undefined;
  /** Classify an error answer when the status alone is not enough (e.g. Meta's error codes). */
  classify?(status: number, body: unknown): FailureType | undefined;
  /**
   * The message of the error thrown for a failed answer, in the vendor's terms and saying what to fix (e.g.
   * Meta's code 190: "the access token has expired: generate a new one and update accessToken"); undefined
   * keeps the generic message. Secrets are redacted from it like from every other message.
   *
   * @example explain: (status, body) => (codeOf(body) === 190 ? 'Meta rejected the access token: …' : undefined)
   */
  explain?(status: number, body: unknown): string | undefined;
}

export interface ManifestBase<Cfg> {
  /** Lower-case id, also the folder name: `hubspot`, `file-import`. */
  id: string;
  /** The connector's own semver version. */
  version: string;
  /** The `@plexus/sdk` versions it works with (semver range), checked when the hub loads it. */
  sdk: string;
  displayName: string;
  description?: string;
  /** class-validator class of the configuration; also rendered as JSON Schema in the catalog. */
  config: new () => Cfg;
  /** Dotted paths of secret config fields: encrypted at rest, never returned, redacted from logs. */
  secrets: string[];
  /**
   * Dotted paths of the config fields that say where the connector connects or reads, beyond those validated
   * with `@IsUrl()` (which count without being listed): a shop or domain name, a bucket, a local path. The
   * secrets are bound to these addresses: a change of one without sending every secret again is refused.
   *
   * @example addresses: ['shop', 'bucket']
   */
  addresses?: string[];
  /**
   * The connection's request budget, shared by every worker through Redis. A function derives it from the
   * validated configuration, for APIs whose limits depend on the account (a tier setting, a negotiated quota).
   *
   * @example rateLimit: { requests: 100, perMs: 10_000 }
   * @example rateLimit: (config) => requestsPerSecond((config as MyConfig).requestsPerSecond ?? 10)
   */
  rateLimit?: RateLimit | ((config: unknown) => RateLimit | undefined);
  http?: HttpPolicy;
  /** Identifier types it reads (sources) or writes (destinations), for the catalog. */
  identifiers?: IdentifierType[];
}

export interface SourceDefinition<Cfg> extends ManifestBase<Cfg> {
  kind: 'source';
  /** Verifies the configuration and credentials; throws a ConnectorError that says what to fix. */
  check(ctx: ConnectorContext<Cfg>): Promise<void>;
  streams: StreamDefinition<Cfg, unknown, unknown>[];
  /** Optional real-time path: a signed webhook routed to `POST /v1/webhooks/:sourceId`. */
  webhook?: WebhookDefinition<Cfg>;
  /**
   * Accepts files uploaded to `POST /v1/sources/:id/upload`: the hub stores the body where every worker can read
   * it and runs the source with `ctx.upload` set (see {@link UploadedFile}); streams read the upload instead of
   * the location in their configuration.
   */
  upload?: { description?: string };
  /**
   * The per-source settings the hub applies while ingesting, derived from the configuration: the default
   * country of phone numbers, whether to keep full IP addresses. Called with the validated configuration; the
   * hub reads nothing else of it. Without `ingest`, the hub applies none.
   *
   * @example ingest: (config) => ({ defaultCountry: config.defaultCountry, keepFullIp: config.keepFullIp })
   */
  ingest?(config: Cfg): IngestSettings;
  /**
   * Push sources only: `'write-key'` makes the hub issue a write key when such a source is created (returned
   * once as `writeKey`, stored hashed, rotatable with `POST /v1/sources/:id/write-key`) and accept events for
   * it on the Segment-compatible tracking API (`POST /v1/track`, `/v1/batch`, …). A push source may have no
   * streams.
   *
   * @example defineSource({ id: 'http-events', kind: 'source', pushAuth: 'write-key', streams: [], ... })
   */
  pushAuth?: 'write-key';
}

export interface WebhookRequest {
  method: string;
  /** Path and query as received, e.g. `/v1/webhooks/src_1?x=1`. */
  url: string;
  headers: Record<string, string | undefined>;
  rawBody: Buffer;
  /** The externally visible URL the vendor signed, when it differs from `url`. */
  publicUrl?: string;
}

export interface WebhookDefinition<Cfg> {
  /** True when the request is authentic (compare signatures in constant time). */
  verify(request: WebhookRequest, config: Cfg): boolean;
  /** Profile records carried by the request. */
  /**
   * Profile records carried by the request. `source.connectionId` is the source's id, so webhook records use the
   * same `external_id` namespace (`<sourceId>:<object>:<id>`) as the scheduled streams.
   */
  toProfiles(request: WebhookRequest, config: Cfg, source: { connectionId: string }): ProfileRecord[];
  /**
   * The vendor's id of this delivery, the same on every retry or replay of it (called after `verify`). The hub
   * stores a delivery once per id for at least a day, and answers later copies with success without storing
   * them. Return undefined when the request carries none.
   *
   * @example deliveryId: (request) => request.headers['x-shopify-webhook-id']
   */
  deliveryId?(request: WebhookRequest): string | undefined;
}

/**
 * A profile handed to a destination: normalised identifiers (only the accepted types), traits, and the consent
 * the profile carries (the hub hands over only members whose consent covers the destination's `purpose`;
 * platforms that take consent signals per member, such as Google's `adUserData`/`adPersonalization`, read it here).
 */
export interface ActivationMember {
  profileId: string;
  identifiers: Identifier[];
  traits: Record<string, TraitValue>;
  consent?: Consent;
}

/**
 * One item's outcome: sent, retry after a delay (throttled, transient), or give up with a reason. An abort says
 * why with `failureType`: `invalid` — the platform refused this item's data (a bad hash, an unknown device id:
 * sending it again will not help, the other items went through); `config` — the connection needs the admin
 * (token expired, permission missing, audience deleted: stop the activation and say so); `system` — anything
 * else.
 */
export type Verdict =
  { ok: true } | { retryInMs: number; reason: string } | { abort: string; failureType?: FailureType | 'invalid' };

/**
 * What the platform said about one request of a `write` or `replace`, for the activation ledger: its own
 * request id, how many items were sent, how many it received and found invalid, and samples of the invalid
 * ones (hashed values as sent, never clear PII).
 *
 * @example { operation: 'add', items: 10_000, received: 10_000, invalid: 2, invalidSamples: ['c3ab…'], requestId: 'AbC' }
 */
export interface RequestReport {
  operation: 'add' | 'remove' | 'replace';
  /** Items carried by the request. */
  items: number;
  /** The platform's count of items received (Meta `num_received`), when it gives one. */
  received?: number;
  /** The platform's count of invalid items (Meta `num_invalid_entries`, The Trade Desk `FailedLines`). */
  invalid?: number;
  /** Up to 10 of the refused values as sent (hashes, device ids), with the platform's reason when known. */
  invalidSamples?: Array<{ value: string; reason?: string }>;
  /** The platform's id for the request (Google `requestId`, TikTok `request_id`, Meta `fbtrace_id`). */
  requestId?: string;
}

/**
 * What `write` returns: one verdict per item, in order, optionally one report per request sent, and the values
 * written into records of a system a source also reads (the hub records them with
 * `WrittenValuesService.recordWrites`, so the source does not read them back as changes).
 */
export interface WriteResult {
  adds: Verdict[];
  removes: Verdict[];
  requests?: RequestReport[];
  written?: WrittenRecord[];
}

/**
 * One batch of a full replace ("mirror"): the hub sends the whole audience as batches sharing `sessionId`,
 * numbered from 1, the last one flagged; the platform swaps the audience's members for the session's items when
 * the last batch arrives (Meta's `usersreplace` sessions). A session the hub abandons is never flagged last.
 */
export interface ReplaceBatch<Item> {
  /** A positive integer (≤ 2^53 − 1) the hub picks once per replace, the same for every batch of it. */
  sessionId: number;
  /** 1, 2, 3, … within the session. */
  batchSeq: number;
  /** True on the session's last batch. */
  last: boolean;
  /** The session's total number of items, when known. */
  estimatedTotal?: number;
  items: Item[];
}

export interface AudienceRef {
  /** Plexus audience id and name. */
  id: string;
  name: string;
  /**
   * The Plexus activation: this audience sent through this destination. A platform audience belongs to one
   * activation, so `ensureAudience` marks or names what it creates by this id, never by the audience's alone: two
   * destinations on the same platform account (or two activations of one audience) then never find and share one
   * platform audience, and deleting one activation never empties the audience another still uses.
   */
  activationId: string;
  /** The platform's id for the audience, once `ensureAudience` has created or found it (or the admin gave it). */
  externalId?: string;
}

export interface DestinationDefinition<Cfg, Item> extends ManifestBase<Cfg> {
  kind: 'destination';
  /** Identifier types the platform matches on; the hub only hands over members that have one. */
  accepts: IdentifierType[];
  /** The consent purpose a member must have granted. */
  purpose: ConsentPurpose;
  /** At most `maxItems` items (adds and removes counted apart) and `maxBytes` of body per request. */
  batch: { maxItems: number; maxBytes?: number };
  check(ctx: ConnectorContext<Cfg>): Promise<void>;
  /**
   * Optional: creates (or finds) the audience on the platform and returns the platform's id for it; called
   * again with `audience.externalId` set, it must return that id (or fail with a `config` error when the
   * platform deleted the audience). Without it, the admin gives the platform's audience id.
   */
  ensureAudience?(ctx: ConnectorContext<Cfg>, audience: AudienceRef): Promise<{ externalId: string }>;
  /** Pure: normalise and hash the member the platform's way; null when it has nothing usable. */
  toItem(member: ActivationMember): Item | null;
  /** Sends additions and removals; one verdict per item, in the order given. */
  write(
    ctx: ConnectorContext<Cfg>,
    audience: AudienceRef & { externalId: string },
    changes: { adds: Item[]; removes: Item[] },
  ): Promise<WriteResult>;
  /** Optional full-replace capability (activation `mode: "mirror"`): one batch of a replace session. */
  replace?(
    ctx: ConnectorContext<Cfg>,
    audience: AudienceRef & { externalId: string },
    batch: ReplaceBatch<Item>,
  ): Promise<{ verdicts: Verdict[]; requests?: RequestReport[] }>;
  /**
   * Optional erasure capability for privacy requests: removes the people behind `items` from everything the
   * platform holds for this connection (not only one audience), where the platform offers it.
   */
  delete?(ctx: ConnectorContext<Cfg>, items: Item[]): Promise<{ verdicts: Verdict[]; requests?: RequestReport[] }>;
}

export type ConnectorDefinition = SourceDefinition<unknown> | DestinationDefinition<unknown, unknown>;
