import semver from 'semver';
import { configJsonSchema, schemaAtPath } from './config.js';
import { addressProblems } from './addresses.js';
import type { DestinationDefinition, SourceDefinition, StreamDefinition } from './connector.js';
import { CONSENT_PURPOSES, isIdentifierType } from './records.js';

/** The version of this SDK; a connector's `sdk` range must include it to load. */
export const SDK_VERSION = '0.1.0';

/**
 * Whether a connector built for `range` (its manifest's `sdk`) works with this SDK.
 *
 * @example isSdkCompatible('^0.1.0') // true
 */
export function isSdkCompatible(range: string, version: string = SDK_VERSION): boolean {
  return semver.validRange(range) !== null && semver.satisfies(version, range, { includePrerelease: true });
}

const ID_PATTERN = /^[a-z][a-z0-9-]*$/;

/**
 * Every problem with a connector definition (an empty list means it can be loaded). The hub runs this
 * on whatever a plugin exports, so it accepts anything.
 *
 * @example
 * ```ts
 * validateDefinition({ id: 'Bad Id', kind: 'source' })
 * // ['id must match ^[a-z][a-z0-9-]*$ (got "Bad Id")', 'version must be a semver version ...', ...]
 * ```
 */
export function validateDefinition(def: unknown): string[] {
  if (def === null || typeof def !== 'object') return ['the definition must be an object'];
  const d = def as Record<string, unknown>;
  const problems: string[] = [];
  const isFn = (key: string, owner: Record<string, unknown> = d, label = key): void => {
    if (typeof owner[key] !== 'function') problems.push(`${label} must be a function`);
  };

  if (typeof d.id !== 'string' || !ID_PATTERN.test(d.id)) {
    problems.push(`id must match ${ID_PATTERN.source} (got ${JSON.stringify(d.id)})`);
  }
  if (typeof d.version !== 'string' || semver.valid(d.version) === null) {
    problems.push(`version must be a semver version such as 1.0.0 (got ${JSON.stringify(d.version)})`);
  }
  if (typeof d.sdk !== 'string' || semver.validRange(d.sdk) === null) {
    problems.push(`sdk must be a semver range such as ^${SDK_VERSION} (got ${JSON.stringify(d.sdk)})`);
  }
  if (d.kind !== 'source' && d.kind !== 'destination') {
    problems.push(`kind must be "source" or "destination" (got ${JSON.stringify(d.kind)})`);
  }
  if (typeof d.displayName !== 'string' || d.displayName.trim() === '') {
    problems.push('displayName must be a non-empty string');
  }
  if (!Array.isArray(d.secrets) || d.secrets.some((s) => typeof s !== 'string' || s === '')) {
    problems.push('secrets must be an array of config field paths (strings)');
  }
  if (typeof d.config !== 'function' || !d.config.prototype) {
    problems.push('config must be a class (decorated with class-validator)');
  } else if (Array.isArray(d.secrets)) {
    try {
      const schema = configJsonSchema(d.config as new () => object);
      for (const path of d.secrets) {
        if (typeof path === 'string' && !schemaAtPath(schema, path)) {
          problems.push(`secret "${path}" is not a validated field of the config class`);
        }
      }
    } catch (error) {
      problems.push(`config class cannot be rendered as JSON Schema: ${(error as Error).message}`);
    }
  }
  if (typeof d.config === 'function' && d.config.prototype) {
    try {
      problems.push(...addressProblems(d as { config: new () => object; addresses?: unknown }));
    } catch {
      // reported with the secrets above
    }
  }
  if (d.rateLimit !== undefined && typeof d.rateLimit !== 'function') {
    const r = d.rateLimit as Record<string, unknown> | null;
    if (!r || !Number.isInteger(r.requests) || (r.requests as number) < 1 || !(Number(r.perMs) > 0)) {
      problems.push(
        'rateLimit must be { requests: positive integer, perMs: positive number } or a function of the config',
      );
    }
  }
  if (d.identifiers !== undefined && (!Array.isArray(d.identifiers) || !d.identifiers.every(isIdentifierType))) {
    problems.push('identifiers must be a list of known identifier types');
  }
  isFn('check');

  if (d.kind === 'source') {
    if (d.pushAuth !== undefined && d.pushAuth !== 'write-key') problems.push('pushAuth must be "write-key"');
    // A push source (tracking API or webhook) may have no streams to read on a schedule.
    const isPush = d.pushAuth === 'write-key' || d.webhook !== undefined;
    if (!Array.isArray(d.streams) || (d.streams.length === 0 && !isPush)) {
      problems.push('a source needs at least one stream');
    } else {
      const names = new Set<string>();
      d.streams.forEach((raw: unknown, index) => {
        const s = (raw ?? {}) as Record<string, unknown>;
        const label = `streams[${typeof s.name === 'string' ? s.name : index}]`;
        if (typeof s.name !== 'string' || s.name === '') problems.push(`${label}.name must be a non-empty string`);
        else if (names.has(s.name)) problems.push(`stream name "${s.name}" is used twice`);
        else names.add(s.name);
        if (
          !Array.isArray(s.primaryKey) ||
          s.primaryKey.length === 0 ||
          s.primaryKey.some((k) => typeof k !== 'string')
        ) {
          problems.push(`${label}.primaryKey must be a non-empty list of field names`);
        }
        if (s.mode !== 'full' && s.mode !== 'incremental')
          problems.push(`${label}.mode must be "full" or "incremental"`);
        if (s.deletes !== undefined && s.deletes !== 'none' && s.deletes !== 'deleted-ids') {
          problems.push(`${label}.deletes must be "none" or "deleted-ids"`);
        }
        isFn('read', s, `${label}.read`);
        isFn('toProfile', s, `${label}.toProfile`);
      });
    }
  }
  if (d.kind === 'destination') {
    if (!Array.isArray(d.accepts) || d.accepts.length === 0 || !d.accepts.every(isIdentifierType)) {
      problems.push('accepts must be a non-empty list of known identifier types');
    }
    if (typeof d.purpose !== 'string' || !(CONSENT_PURPOSES as readonly string[]).includes(d.purpose)) {
      problems.push(`purpose must be one of ${CONSENT_PURPOSES.join(', ')}`);
    }
    const batch = d.batch as Record<string, unknown> | undefined;
    if (!batch || !Number.isInteger(batch.maxItems) || (batch.maxItems as number) <= 0) {
      problems.push('batch.maxItems must be a positive integer');
    }
    for (const key of ['toItem', 'write']) isFn(key);
    for (const key of ['ensureAudience', 'replace', 'delete']) if (d[key] !== undefined) isFn(key);
  }
  return problems;
}

/** Thrown by `defineSource`/`defineDestination` for an invalid definition; lists every problem. */
export class InvalidDefinitionError extends Error {
  constructor(
    readonly connectorId: string,
    readonly problems: string[],
  ) {
    super(`connector ${connectorId} is invalid:\n- ${problems.join('\n- ')}`);
    this.name = 'InvalidDefinitionError';
  }
}

function assertValid<T>(def: T): T {
  const problems = validateDefinition(def);
  if (problems.length > 0) {
    const id = (def as { id?: unknown }).id;
    throw new InvalidDefinitionError(typeof id === 'string' ? id : '(no id)', problems);
  }
  return def;
}

/**
 * Declares a source connector; the module's default (or `source`) export. Throws `InvalidDefinitionError`
 * listing every problem when the definition is invalid.
 *
 * @example
 * ```ts
 * export default defineSource({
 *   id: 'acme-crm', version: '1.0.0', sdk: '^0.1.0', kind: 'source', displayName: 'Acme CRM',
 *   config: AcmeConfig, secrets: ['token'], rateLimit: { requests: 10, perMs: 1000 },
 *   http: { baseUrl: (c) => (c as AcmeConfig).baseUrl, authHeaders: (c) => ({ Authorization: `Bearer ${(c as AcmeConfig).token}` }) },
 *   async check(ctx) { await ctx.http.get('/me'); },
 *   streams: [contacts],
 * });
 * ```
 */
export function defineSource<Cfg>(def: SourceDefinition<Cfg>): SourceDefinition<Cfg> {
  return assertValid(def);
}

/**
 * Declares a destination connector. Throws `InvalidDefinitionError` when the definition is invalid.
 *
 * @example
 * ```ts
 * export default defineDestination({
 *   id: 'acme-ads', version: '1.0.0', sdk: '^0.1.0', kind: 'destination', displayName: 'Acme Ads',
 *   config: AcmeAdsConfig, secrets: ['token'], accepts: ['email_sha256'], purpose: 'ads', batch: { maxItems: 1000 },
 *   async check(ctx) { ... }, async ensureAudience(ctx, audience) { ... }, toItem(member) { ... }, async write(ctx, audience, changes) { ... },
 * });
 * ```
 */
export function defineDestination<Cfg, Item>(def: DestinationDefinition<Cfg, Item>): DestinationDefinition<Cfg, Item> {
  return assertValid(def);
}

/**
 * Declares one stream with its record type `R` and checkpoint type `C`, checked by the compiler, and
 * erased for the source's `streams` list.
 *
 * @example
 * ```ts
 * const contacts = defineStream<AcmeConfig, Contact, { after: string }>({
 *   name: 'contacts', primaryKey: ['id'], mode: 'incremental', cursorField: 'updatedAt',
 *   async *read(ctx, checkpoint) {
 *     for await (const page of paginateCursor<Contact>(ctx.http, { url: '/contacts', startCursor: checkpoint?.after })) {
 *       yield { records: page.items, checkpoint: page.next ? { after: page.next } : checkpoint };
 *     }
 *   },
 *   toProfile: (c) => ({ identifiers: [{ type: 'email', value: c.email }], traits: { name: c.name } }),
 * });
 * ```
 */
export function defineStream<Cfg, R, C>(stream: StreamDefinition<Cfg, R, C>): StreamDefinition<Cfg, unknown, unknown> {
  const problems: string[] = [];
  if (typeof stream.name !== 'string' || stream.name === '') problems.push('name must be a non-empty string');
  if (!Array.isArray(stream.primaryKey) || stream.primaryKey.length === 0)
    problems.push('primaryKey must not be empty');
  if (stream.mode !== 'full' && stream.mode !== 'incremental') problems.push('mode must be "full" or "incremental"');
  if (typeof stream.read !== 'function') problems.push('read must be a function');
  if (typeof stream.toProfile !== 'function') problems.push('toProfile must be a function');
  if (problems.length > 0) throw new InvalidDefinitionError(`stream ${String(stream.name)}`, problems);
  return stream;
}
