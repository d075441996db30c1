import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ConnectorDefinition, DestinationDefinition, SourceDefinition } from '../index.js';
import {
  checkConnection,
  checkDefinitionAndConfig,
  checkDestinationReplace,
  checkDestinationThrottle,
  checkDestinationWrite,
  checkEnsureAudience,
  checkFullRead,
  checkIncrementalRead,
  checkInvalidCredentials,
  checkResumeAfterCrash,
  checkRetries,
  type DestinationFixture,
  type IncrementalOptions,
  type InjectFault,
  type ReadExpectation,
} from './checks.js';

/** What the suite knows about one stream. */
export interface StreamConformance extends ReadExpectation, IncrementalOptions {
  /** Batches committed before the simulated crash. Default 1. */
  crashAfterBatches?: number;
}

export interface SourceConformanceOptions {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any config type: the suite only passes it through
  definition: SourceDefinition<any> | ConnectorDefinition;
  /** Starts the emulator (runs in beforeAll). */
  setup?: () => Promise<void>;
  /** Stops it (runs in afterAll). */
  teardown?: () => Promise<void>;
  /** A valid raw configuration pointing at the emulator (called after `setup`). */
  config: () => unknown;
  /** The same with credentials the emulator rejects. */
  invalidCredentials: () => unknown;
  /** Expectations per stream; every stream of the definition must be listed. */
  streams: Record<string, StreamConformance>;
  /** Makes the emulator answer the next `times` requests with `status` (for the 429 and 5xx checks). */
  injectFault: InjectFault;
  /** How many injected faults are still unserved (optional; proves the faults were hit). */
  pendingFaults?: () => number;
}

/**
 * The conformance suite of a source, in one line of a spec file: configuration and `check`, invalid
 * credentials (a `config` failure), a full read of every stream against its expectations, 429 and 503 retried,
 * a run killed mid-stream resuming from its last committed checkpoint with nothing lost or duplicated, and
 * reads from checkpoints returning exactly the newer records.
 *
 * @example
 * ```ts
 * import { describeSourceConformance, startFixtureServer } from '@plexus/sdk/testing';
 * let api: FixtureServer;
 * describeSourceConformance({
 *   definition: source,
 *   setup: async () => { api = await startFixtureServer(emulator); },
 *   teardown: () => api.close(),
 *   config: () => ({ baseUrl: api.url, token: 'good' }),
 *   invalidCredentials: () => ({ baseUrl: api.url, token: 'bad' }),
 *   streams: { contacts: { profiles: expectedProfiles, addNewer: () => addContacts(2) } },
 *   injectFault: (fault) => api.injectFault(fault),
 *   pendingFaults: () => api.pendingFaults(),
 * });
 * ```
 */
export function describeSourceConformance(options: SourceConformanceOptions): void {
  const definition = options.definition as SourceDefinition<never>;
  describe(`${definition.id} source conformance`, () => {
    if (options.setup) beforeAll(options.setup);
    if (options.teardown) afterAll(options.teardown);

    it('has a valid definition, and the configuration validates', async () => {
      expect(await checkDefinitionAndConfig(definition, options.config())).toEqual([]);
      const listed = Object.keys(options.streams).sort();
      expect(listed).toEqual(definition.streams.map((s) => s.name).sort());
    });

    it('passes check with a valid configuration', async () => {
      expect(await checkConnection(definition, options.config())).toEqual([]);
    });

    it('fails check with a config failure for invalid credentials', async () => {
      expect(await checkInvalidCredentials(definition, options.invalidCredentials())).toEqual([]);
    });

    for (const [name, stream] of Object.entries(options.streams)) {
      describe(`stream ${name}`, () => {
        it('maps a full read of the fixtures to the expected profiles', async () => {
          expect(await checkFullRead(definition, name, options.config(), stream)).toEqual([]);
        });

        it.each([429, 503])('retries %i answers', async (status) => {
          const fault = { status, times: 2, headers: { 'Retry-After': '0' } };
          expect(
            await checkRetries(definition, name, options.config(), options.injectFault, fault, options.pendingFaults),
          ).toEqual([]);
        });

        it('resumes after a crash mid-stream with no record lost or duplicated', async () => {
          const afterBatches = stream.crashAfterBatches ?? 1;
          expect(await checkResumeAfterCrash(definition, name, options.config(), { afterBatches })).toEqual([]);
        });

        it('reads exactly the newer records from a checkpoint', async () => {
          expect(await checkIncrementalRead(definition, name, options.config(), stream)).toEqual([]);
        });
      });
    }
  });
}

export interface DestinationConformanceOptions extends DestinationFixture {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any config and item type
  definition: DestinationDefinition<any, any> | ConnectorDefinition;
  setup?: () => Promise<void>;
  teardown?: () => Promise<void>;
  config: () => unknown;
  invalidCredentials: () => unknown;
  injectFault: InjectFault;
  /** Forgets unserved faults (called after the persistent-throttle check). */
  clearFaults?: () => void | Promise<void>;
  /** How many members the platform holds in an audience (the emulator's inspection API), to check `replace`. */
  audienceSize?: (externalId: string) => number | Promise<number>;
}

/**
 * The conformance suite of a destination: configuration and `check`, invalid credentials, `ensureAudience`
 * (an id, the same one twice), a pure `toItem`, one verdict per item from `write` with consistent request
 * reports, throttling turned into retries, and — for destinations with `replace` — a full replace session.
 *
 * @example
 * ```ts
 * describeDestinationConformance({
 *   definition: destination, setup, teardown,
 *   config: () => ({ baseUrl: api.url, token: 'good' }), invalidCredentials: () => ({ baseUrl: api.url, token: 'bad' }),
 *   audience: { id: 'aud_1', name: 'Buyers' }, members,
 *   injectFault: (f) => api.injectFault(f), clearFaults: () => api.clearFaults(),
 * });
 * ```
 */
export function describeDestinationConformance(options: DestinationConformanceOptions): void {
  const definition = options.definition as DestinationDefinition<never, never>;
  const fixture: DestinationFixture = { audience: options.audience, members: options.members };
  describe(`${definition.id} destination conformance`, () => {
    if (options.setup) beforeAll(options.setup);
    if (options.teardown) afterAll(options.teardown);

    it('has a valid definition, and the configuration validates', async () => {
      expect(await checkDefinitionAndConfig(definition, options.config())).toEqual([]);
    });
    it('passes check with a valid configuration', async () => {
      expect(await checkConnection(definition, options.config())).toEqual([]);
    });
    it('fails check with a config failure for invalid credentials', async () => {
      expect(await checkInvalidCredentials(definition, options.invalidCredentials())).toEqual([]);
    });
    it('creates or finds the audience', async () => {
      expect(await checkEnsureAudience(definition, options.config(), fixture)).toEqual([]);
    });
    it('returns one verdict per item', async () => {
      expect(await checkDestinationWrite(definition, options.config(), fixture)).toEqual([]);
    });
    if (definition.replace) {
      it('replaces the audience in a session of batches', async () => {
        expect(await checkDestinationReplace(definition, options.config(), fixture, options.audienceSize)).toEqual([]);
      });
    }
    it('turns throttling into retries', async () => {
      expect(
        await checkDestinationThrottle(definition, options.config(), fixture, options.injectFault, options.clearFaults),
      ).toEqual([]);
    });
  });
}
