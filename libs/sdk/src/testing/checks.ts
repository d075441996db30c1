import { isDeepStrictEqual } from 'node:util';
import {
  collectSecretValues,
  ConnectorError,
  isIdentifierType,
  validateConfig,
  validateDefinition,
  type ActivationMember,
  type AudienceRef,
  type Batch,
  type ConnectorDefinition,
  type DestinationDefinition,
  type ProfileRecord,
  type SourceDefinition,
  type RequestReport,
  type Verdict,
  type WriteResult,
} from '../index.js';
import { createTestContext, findStream, mapRecord, primaryKeyOf, readStream, type StreamReadResult } from './run.js';

/**
 * The checks of the conformance suites as plain functions: each resolves to a list of problems (empty when
 * the connector behaves). `describeSourceConformance`/`describeDestinationConformance` wrap them in Jest tests;
 * call them directly to check a connector elsewhere or to prove a check catches a bug.
 */

/** A fault the suite asks the connector's emulator to serve next (see `FixtureServer.injectFault`). */
export interface FaultRequest {
  status: number;
  times: number;
  headers?: Record<string, string>;
}

export type InjectFault = (fault: FaultRequest) => void | Promise<void>;

type Source = SourceDefinition<never> | ConnectorDefinition;
type Destination = DestinationDefinition<never, never> | ConnectorDefinition;

const describeError = (error: unknown): string =>
  error instanceof ConnectorError
    ? `${error.name} (${error.failureType}): ${error.message}`
    : error instanceof Error
      ? `${error.name}: ${error.message}`
      : String(error);

const sample = (values: string[], max = 5): string =>
  values.length <= max ? values.join(', ') : `${values.slice(0, max).join(', ')} and ${values.length - max} more`;

/** The definition is valid and the configuration passes `validateConfig`. */
export async function checkDefinitionAndConfig(
  definition: Source | Destination,
  rawConfig: unknown,
): Promise<string[]> {
  const problems = validateDefinition(definition).map((p) => `definition: ${p}`);
  const def = definition;
  if (typeof def.config === 'function') {
    const result = await validateConfig(def.config as new () => object, rawConfig);
    problems.push(...result.problems.map((p) => `config ${p.field || '(root)'}: ${p.problems.join('; ')}`));
  }
  return problems;
}

/** `check` passes with a valid configuration. */
export async function checkConnection(definition: Source | Destination, rawConfig: unknown): Promise<string[]> {
  try {
    const { ctx } = await createTestContext<never>(definition, rawConfig);
    await definition.check(ctx);
    return [];
  } catch (error) {
    return [`check failed with a valid configuration: ${describeError(error)}`];
  }
}

/** `check` with rejected credentials throws a `config` failure whose message does not leak the secret. */
export async function checkInvalidCredentials(definition: Source | Destination, rawConfig: unknown): Promise<string[]> {
  let ctx;
  try {
    ({ ctx } = await createTestContext<never>(definition, rawConfig));
  } catch (error) {
    return [`the invalid-credentials configuration must still be a valid configuration: ${describeError(error)}`];
  }
  try {
    await definition.check(ctx);
    return ['check passed with invalid credentials'];
  } catch (error) {
    if (!(error instanceof ConnectorError) || error.failureType !== 'config') {
      return [
        `check must fail with a config failure (ConfigurationError) for invalid credentials, got ${describeError(error)}`,
      ];
    }
    const def = definition;
    const leaked = collectSecretValues(rawConfig, def.secrets).filter(
      (value) => value.length > 0 && error.message.includes(value),
    );
    return leaked.length > 0 ? ['the error message contains a secret value'] : [];
  }
}

/** Problems with the mapped profiles themselves: each needs at least one known, non-empty identifier. */
function profileProblems(profiles: ProfileRecord[]): string[] {
  const problems: string[] = [];
  profiles.forEach((profile, index) => {
    if (!Array.isArray(profile.identifiers) || profile.identifiers.length === 0) {
      problems.push(`profile #${index} has no identifier`);
      return;
    }
    for (const identifier of profile.identifiers) {
      if (!isIdentifierType(identifier.type))
        problems.push(`profile #${index} has an unknown identifier type "${String(identifier.type)}"`);
      else if (typeof identifier.value !== 'string' || identifier.value.trim() === '') {
        problems.push(`profile #${index} has an empty ${identifier.type}`);
      }
    }
  });
  return problems;
}

const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>)
            .filter(([, x]) => x !== undefined)
            .sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );

/** What a full read must produce. */
export interface ReadExpectation {
  /** The exact profiles the fixtures map to (order does not matter). */
  profiles?: ProfileRecord[];
  /** The number of records the stream yields. */
  recordCount?: number;
  /** Further checks; return (or throw) problems. */
  verify?: (result: StreamReadResult) => string[] | void | Promise<string[] | void>;
}

/** A full read yields records with unique primary keys that map to valid (and the expected) profiles. */
export async function checkFullRead(
  definition: Source,
  streamName: string,
  rawConfig: unknown,
  expectation: ReadExpectation = {},
): Promise<string[]> {
  let result: StreamReadResult;
  try {
    result = await readStream(definition, streamName, rawConfig);
  } catch (error) {
    return [`reading ${streamName} failed: ${describeError(error)}`];
  }
  const stream = findStream(definition, streamName);
  const problems: string[] = [];
  if (result.records.length === 0) problems.push(`${streamName} yielded no records: give the fixtures some`);
  const keys = result.records.map((r) => primaryKeyOf(stream, r));
  const duplicates = [...new Set(keys.filter((k, i) => keys.indexOf(k) !== i))];
  if (duplicates.length > 0) problems.push(`a full read yielded these primary keys twice: ${sample(duplicates)}`);
  problems.push(...result.mappingErrors.map((m) => `mapping ${primaryKeyOf(stream, m.record)} failed: ${m.error}`));
  problems.push(...profileProblems(result.profiles));
  if (expectation.recordCount !== undefined && result.records.length !== expectation.recordCount) {
    problems.push(`expected ${expectation.recordCount} records, got ${result.records.length}`);
  }
  if (expectation.profiles) {
    const got = result.profiles.map(canonical);
    const want = expectation.profiles.map(canonical);
    const remaining = [...got];
    const missing: string[] = [];
    for (const w of want) {
      const at = remaining.indexOf(w);
      if (at === -1) missing.push(w);
      else remaining.splice(at, 1);
    }
    if (missing.length > 0) problems.push(`expected profiles missing: ${sample(missing, 3)}`);
    if (remaining.length > 0) problems.push(`unexpected profiles: ${sample(remaining, 3)}`);
  }
  if (expectation.verify) {
    try {
      problems.push(...((await expectation.verify(result)) ?? []));
    } catch (error) {
      problems.push(`verify: ${describeError(error)}`);
    }
  }
  return problems;
}

function compareKeys(label: string, got: string[], want: string[]): string[] {
  const problems: string[] = [];
  const counts = new Map<string, number>();
  for (const key of got) counts.set(key, (counts.get(key) ?? 0) + 1);
  const wanted = new Set(want);
  const lost = want.filter((k) => !counts.has(k));
  const duplicated = [...counts].filter(([, n]) => n > 1).map(([k, n]) => `${k} (×${n})`);
  const extra = [...counts.keys()].filter((k) => !wanted.has(k));
  if (lost.length > 0) problems.push(`${label}: records lost: ${sample(lost)}`);
  if (duplicated.length > 0) problems.push(`${label}: records duplicated: ${sample(duplicated)}`);
  if (extra.length > 0) problems.push(`${label}: records not expected: ${sample(extra)}`);
  return problems;
}

export interface IncrementalOptions {
  /**
   * Adds or updates records upstream (in the emulator) after a full read and returns their primary keys;
   * a read from the full read's last checkpoint must then return exactly those.
   */
  addNewer?: () => Promise<string[]>;
}

/**
 * Reading from a checkpoint returns exactly the records after it: from a mid-stream checkpoint, the rest of
 * the full read; for an incremental stream, from the last checkpoint, nothing — or exactly what `addNewer` changed.
 */
export async function checkIncrementalRead(
  definition: Source,
  streamName: string,
  rawConfig: unknown,
  options: IncrementalOptions = {},
): Promise<string[]> {
  const stream = findStream(definition, streamName);
  try {
    const full = await readStream(definition, streamName, rawConfig);
    const checkpointed = full.batches.map((b, i) => ({ b, i })).filter(({ b }) => b.checkpoint !== undefined);
    if (full.batches.length < 2 || checkpointed.length === 0) {
      return [
        `${streamName} must yield at least 2 batches with checkpoints from its fixtures (lower the page size) to test resuming`,
      ];
    }
    const problems: string[] = [];
    const pivot = checkpointed[Math.floor((checkpointed.length - 1) / 2)];
    const tail = full.batches.slice(pivot.i + 1).flatMap((b) => b.records.map((r) => primaryKeyOf(stream, r)));
    const fromMiddle = await readStream(definition, streamName, rawConfig, pivot.b.checkpoint);
    problems.push(
      ...compareKeys(
        `reading from the checkpoint of batch ${pivot.i + 1}`,
        fromMiddle.records.map((r) => primaryKeyOf(stream, r)),
        tail,
      ),
    );
    if (stream.mode === 'incremental') {
      const expected = options.addNewer ? await options.addNewer() : [];
      const fromEnd = await readStream(definition, streamName, rawConfig, full.lastCheckpoint);
      problems.push(
        ...compareKeys(
          'reading from the last checkpoint',
          fromEnd.records.map((r) => primaryKeyOf(stream, r)),
          expected,
        ),
      );
    }
    return problems;
  } catch (error) {
    return [`reading ${streamName} from a checkpoint failed: ${describeError(error)}`];
  }
}

export interface CrashOptions {
  /** Batches committed before the crash. Default 1. */
  afterBatches?: number;
}

/**
 * Simulates the hub being killed mid-run: the batches before the crash are committed (records together with
 * their checkpoint), the batch in flight is lost, then a new run starts from the last committed checkpoint.
 * Every record of a full read must end up committed exactly once.
 */
export async function checkResumeAfterCrash(
  definition: Source,
  streamName: string,
  rawConfig: unknown,
  options: CrashOptions = {},
): Promise<string[]> {
  const afterBatches = options.afterBatches ?? 1;
  const stream = findStream(definition, streamName);
  try {
    const full = await readStream(definition, streamName, rawConfig);
    if (full.batches.length <= afterBatches) {
      return [`${streamName} must yield more than ${afterBatches} batch(es) from its fixtures to test a crash`];
    }
    const committed: string[] = [];
    let lastCommitted: unknown;
    const commit = (batch: Batch<unknown, unknown>): void => {
      committed.push(...batch.records.map((r) => primaryKeyOf(stream, r)));
      if (batch.checkpoint !== undefined) lastCommitted = batch.checkpoint;
    };

    const controller = new AbortController();
    const { ctx } = await createTestContext(definition, rawConfig, { signal: controller.signal });
    const iterator = stream.read(ctx, undefined)[Symbol.asyncIterator]();
    for (let n = 0; n < afterBatches; n++) {
      const next = await iterator.next();
      if (next.done) return [`${streamName} ended before batch ${n + 1} on the run that crashes`];
      commit(next.value);
      for (const record of next.value.records) mapRecord(stream, record, ctx);
    }
    await iterator.next(); // the batch in flight when the process dies: never committed
    controller.abort(new Error('worker killed'));
    await iterator.return?.(undefined).catch(() => undefined);

    const resumed = await readStream(definition, streamName, rawConfig, lastCommitted);
    for (const batch of resumed.batches) commit(batch);
    const want = full.records.map((r) => primaryKeyOf(stream, r));
    return compareKeys(`a run killed after ${afterBatches} batch(es) and resumed`, committed, want);
  } catch (error) {
    return [`resuming ${streamName} after a crash failed: ${describeError(error)}`];
  }
}

/**
 * After `injectFault` makes the emulator fail `fault.times` times, a full read still yields every record once:
 * the connector (through `ctx.http`) retried.
 */
export async function checkRetries(
  definition: Source,
  streamName: string,
  rawConfig: unknown,
  injectFault: InjectFault,
  fault: FaultRequest,
  pendingFaults?: () => number,
): Promise<string[]> {
  const stream = findStream(definition, streamName);
  try {
    const baseline = await readStream(definition, streamName, rawConfig);
    await injectFault(fault);
    const faulty = await readStream(definition, streamName, rawConfig);
    const problems = compareKeys(
      `a read with ${fault.times} injected ${fault.status} answer(s)`,
      faulty.records.map((r) => primaryKeyOf(stream, r)),
      baseline.records.map((r) => primaryKeyOf(stream, r)),
    );
    const left = pendingFaults?.() ?? 0;
    if (left > 0) problems.push(`${left} injected fault(s) were never served: did the read make requests?`);
    return problems;
  } catch (error) {
    return [`a read with ${fault.times} injected ${fault.status} answer(s) was not retried: ${describeError(error)}`];
  }
}

export interface DestinationFixture {
  audience: AudienceRef;
  /** Members to send; at least one must have an accepted identifier. */
  members: ActivationMember[];
}

/**
 * `ensureAudience` returns a non-empty platform id, the same one when called twice. A destination without
 * `ensureAudience` needs the fixture's audience to carry the platform's id (`externalId`).
 */
export async function checkEnsureAudience(
  definition: Destination,
  rawConfig: unknown,
  fixture: DestinationFixture,
): Promise<string[]> {
  const def = definition as DestinationDefinition<unknown, unknown>;
  if (!def.ensureAudience) {
    return fixture.audience.externalId
      ? []
      : ['the destination has no ensureAudience: give the fixture audience the platform id (externalId)'];
  }
  try {
    const { ctx } = await createTestContext(def, rawConfig);
    const first = await def.ensureAudience(ctx, { ...fixture.audience, externalId: undefined });
    if (typeof first?.externalId !== 'string' || first.externalId === '')
      return ['ensureAudience must return { externalId: non-empty string }'];
    const second = await def.ensureAudience(ctx, { ...fixture.audience, externalId: first.externalId });
    return second.externalId === first.externalId
      ? []
      : [
          `ensureAudience created a second audience (${first.externalId} then ${second.externalId}) instead of finding the first`,
        ];
  } catch (error) {
    return [`ensureAudience failed: ${describeError(error)}`];
  }
}

/** The platform id of the fixture's audience: found or created by `ensureAudience`, else the fixture's own. */
async function audienceIdOf(
  def: DestinationDefinition<unknown, unknown>,
  ctx: Parameters<DestinationDefinition<unknown, unknown>['write']>[0],
  audience: AudienceRef,
): Promise<string> {
  if (def.ensureAudience) return (await def.ensureAudience(ctx, audience)).externalId;
  if (!audience.externalId) throw new Error('the fixture audience needs an externalId (no ensureAudience)');
  return audience.externalId;
}

function reportProblems(result: { requests?: RequestReport[] }, sent: number): string[] {
  if (result.requests === undefined) return [];
  if (!Array.isArray(result.requests)) return ['requests must be a list of request reports'];
  const problems: string[] = [];
  let items = 0;
  for (const report of result.requests) {
    items += report.items;
    if (report.received !== undefined && report.received > report.items)
      problems.push(`a request report says ${report.received} received of ${report.items} items sent`);
    if (report.invalid !== undefined && report.invalid > report.items)
      problems.push(`a request report says ${report.invalid} invalid of ${report.items} items sent`);
  }
  if (items !== sent) problems.push(`request reports account for ${items} items, ${sent} were written`);
  return problems;
}

function verdictProblems(label: string, verdicts: Verdict[], count: number): string[] {
  if (!Array.isArray(verdicts) || verdicts.length !== count) {
    return [
      `${label}: expected ${count} verdicts (one per item), got ${Array.isArray(verdicts) ? verdicts.length : typeof verdicts}`,
    ];
  }
  const bad = verdicts.filter((v) => !('ok' in v) && !('retryInMs' in v) && !('abort' in v));
  return bad.length > 0 ? [`${label}: malformed verdicts: ${JSON.stringify(bad.slice(0, 3))}`] : [];
}

async function writeMembers(
  def: DestinationDefinition<unknown, unknown>,
  rawConfig: unknown,
  fixture: DestinationFixture,
  beforeWrite?: () => void | Promise<void>,
): Promise<{ adds: number; removes: number; result: WriteResult }> {
  const { ctx } = await createTestContext(def, rawConfig);
  const items = fixture.members.map((m) => def.toItem(m)).filter((item) => item !== null);
  const externalId = await audienceIdOf(def, ctx, fixture.audience);
  // Faults are injected only now, so they hit the write and not the audience lookup.
  await beforeWrite?.();
  const adds = items;
  const removes = items.slice(0, 1);
  const result = await def.write(ctx, { ...fixture.audience, externalId }, { adds, removes });
  return { adds: adds.length, removes: removes.length, result };
}

/** `toItem` maps members with accepted identifiers; `write` returns one verdict per item, all `ok` when the platform is healthy. */
export async function checkDestinationWrite(
  definition: Destination,
  rawConfig: unknown,
  fixture: DestinationFixture,
): Promise<string[]> {
  const def = definition as DestinationDefinition<unknown, unknown>;
  const problems: string[] = [];
  const usable = fixture.members.filter((m) => m.identifiers.some((i) => def.accepts.includes(i.type)));
  const mapped = fixture.members.map((m) => def.toItem(m));
  if (usable.length === 0) return ['the fixture needs members with an identifier the destination accepts'];
  fixture.members.forEach((member, index) => {
    const accepted = member.identifiers.some((i) => def.accepts.includes(i.type));
    if (!accepted && mapped[index] !== null)
      problems.push(`toItem mapped member ${member.profileId}, who has no accepted identifier`);
  });
  if (mapped.every((item) => item === null)) problems.push('toItem mapped no member');
  const again = fixture.members.map((m) => def.toItem(m));
  if (!isDeepStrictEqual(again, mapped)) problems.push('toItem is not pure: the same member mapped twice differs');
  try {
    const { adds, removes, result } = await writeMembers(def, rawConfig, fixture);
    problems.push(
      ...verdictProblems('adds', result.adds, adds),
      ...verdictProblems('removes', result.removes, removes),
      ...reportProblems(result, adds + removes),
    );
    const notOk = [...(result.adds ?? []), ...(result.removes ?? [])].filter((v) => !('ok' in v));
    if (notOk.length > 0) problems.push(`write to a healthy platform returned ${JSON.stringify(notOk.slice(0, 3))}`);
  } catch (error) {
    problems.push(`write failed: ${describeError(error)}`);
  }
  return problems;
}

/**
 * Throttling: a short burst of 429s is retried (all verdicts `ok`); a platform that keeps throttling yields
 * `retry` verdicts (or a transient failure), never `abort`.
 */
export async function checkDestinationThrottle(
  definition: Destination,
  rawConfig: unknown,
  fixture: DestinationFixture,
  injectFault: InjectFault,
  clearFaults?: () => void | Promise<void>,
): Promise<string[]> {
  const def = definition as DestinationDefinition<unknown, unknown>;
  const problems: string[] = [];
  try {
    const { result } = await writeMembers(def, rawConfig, fixture, () =>
      injectFault({ status: 429, times: 2, headers: { 'Retry-After': '0' } }),
    );
    const notOk = [...result.adds, ...result.removes].filter((v) => !('ok' in v));
    if (notOk.length > 0) problems.push(`two 429 answers were not retried: ${JSON.stringify(notOk.slice(0, 3))}`);
  } catch (error) {
    problems.push(`two 429 answers were not retried: ${describeError(error)}`);
  }
  try {
    const { adds, removes, result } = await writeMembers(def, rawConfig, fixture, () =>
      injectFault({ status: 429, times: 1000, headers: { 'Retry-After': '0' } }),
    );
    problems.push(
      ...verdictProblems('throttled adds', result.adds, adds),
      ...verdictProblems('throttled removes', result.removes, removes),
    );
    const all = [...result.adds, ...result.removes];
    if (all.some((v) => 'abort' in v)) problems.push('a throttled write must not abort items');
    if (!all.some((v) => 'retryInMs' in v)) problems.push('a throttled write must return retry verdicts');
  } catch (error) {
    if (!(error instanceof ConnectorError) || error.failureType !== 'transient') {
      problems.push(`a throttled write must return retry verdicts or fail as transient, got ${describeError(error)}`);
    }
  } finally {
    await clearFaults?.();
  }
  return problems;
}

/**
 * A full replace (`replace`, when the destination has it): after the fixture's items were added, a session of
 * one or two batches carrying all but the first item returns one `ok` verdict per item; with `audienceSize`, the
 * platform then holds exactly the replaced items (the first one is gone).
 */
export async function checkDestinationReplace(
  definition: Destination,
  rawConfig: unknown,
  fixture: DestinationFixture,
  audienceSize?: (externalId: string) => number | Promise<number>,
): Promise<string[]> {
  const def = definition as DestinationDefinition<unknown, unknown>;
  if (!def.replace) return [];
  const items = fixture.members.map((m) => def.toItem(m)).filter((item) => item !== null);
  if (items.length < 2) return ['the replace check needs at least two members with an accepted identifier'];
  const problems: string[] = [];
  try {
    const { ctx } = await createTestContext(def, rawConfig);
    const externalId = await audienceIdOf(def, ctx, fixture.audience);
    const audience = { ...fixture.audience, externalId };
    const added = await def.write(ctx, audience, { adds: items, removes: [] });
    if (added.adds.some((v) => !('ok' in v)))
      problems.push(`adding before the replace failed: ${JSON.stringify(added.adds)}`);
    const kept = items.slice(1);
    const half = Math.ceil(kept.length / 2);
    const batches = kept.length > 1 ? [kept.slice(0, half), kept.slice(half)] : [kept];
    const sessionId = 1 + Math.floor(Math.random() * 2 ** 40);
    for (const [index, batch] of batches.entries()) {
      const result = await def.replace(ctx, audience, {
        sessionId,
        batchSeq: index + 1,
        last: index === batches.length - 1,
        estimatedTotal: kept.length,
        items: batch,
      });
      problems.push(...verdictProblems(`replace batch ${index + 1}`, result.verdicts, batch.length));
      problems.push(...reportProblems(result, batch.length));
      const notOk = (result.verdicts ?? []).filter((v) => !('ok' in v));
      if (notOk.length > 0) problems.push(`replace batch ${index + 1} returned ${JSON.stringify(notOk.slice(0, 3))}`);
    }
    if (audienceSize) {
      const size = await audienceSize(externalId);
      if (size !== kept.length)
        problems.push(`after the replace the audience holds ${size} members, expected ${kept.length}`);
    }
  } catch (error) {
    problems.push(`replace failed: ${describeError(error)}`);
  }
  return problems;
}
