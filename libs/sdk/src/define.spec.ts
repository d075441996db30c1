import { IsString } from 'class-validator';
import type { SourceDefinition } from './connector.js';
import {
  defineDestination,
  defineSource,
  defineStream,
  InvalidDefinitionError,
  isSdkCompatible,
  SDK_VERSION,
  validateDefinition,
} from './define.js';

class Cfg {
  @IsString() token!: string;
}

const stream = defineStream<Cfg, { id: string }, { after: string }>({
  name: 'contacts',
  primaryKey: ['id'],
  mode: 'incremental',
  async *read() {
    yield { records: [{ id: '1' }], checkpoint: { after: '1' } };
  },
  toProfile: (r) => ({ identifiers: [{ type: 'external_id', value: `x:contact:${r.id}` }] }),
});

const source: SourceDefinition<Cfg> = {
  id: 'acme-crm',
  version: '1.2.3',
  sdk: '^0.1.0',
  kind: 'source',
  displayName: 'Acme CRM',
  config: Cfg,
  secrets: ['token'],
  check: async () => undefined,
  streams: [stream],
};

describe('validateDefinition', () => {
  it('accepts a valid source and destination', () => {
    expect(validateDefinition(source)).toEqual([]);
    expect(defineSource(source)).toBe(source);
    const destination = defineDestination({
      id: 'acme-ads',
      version: '0.1.0',
      sdk: '>=0.1.0 <1',
      kind: 'destination',
      displayName: 'Acme Ads',
      config: Cfg,
      secrets: ['token'],
      accepts: ['email_sha256'],
      purpose: 'ads',
      batch: { maxItems: 1000 },
      check: async () => undefined,
      ensureAudience: async () => ({ externalId: '1' }),
      toItem: () => null,
      write: async () => ({ adds: [], removes: [] }),
    });
    expect(destination.id).toBe('acme-ads');
  });

  it('lists every problem of a bad manifest', () => {
    const problems = validateDefinition({
      ...source,
      id: 'Acme CRM',
      version: '1.2',
      sdk: 'whatever',
      displayName: '',
      secrets: ['token', 'password'],
      streams: [stream, { ...stream, primaryKey: [] }, { name: 'x', mode: 'sometimes', primaryKey: ['id'] }],
    });
    expect(problems).toEqual([
      'id must match ^[a-z][a-z0-9-]*$ (got "Acme CRM")',
      'version must be a semver version such as 1.0.0 (got "1.2")',
      `sdk must be a semver range such as ^${SDK_VERSION} (got "whatever")`,
      'displayName must be a non-empty string',
      'secret "password" is not a validated field of the config class',
      'stream name "contacts" is used twice',
      'streams[contacts].primaryKey must be a non-empty list of field names',
      'streams[x].mode must be "full" or "incremental"',
      'streams[x].read must be a function',
      'streams[x].toProfile must be a function',
    ]);
  });

  it('checks destination specifics and the kind', () => {
    expect(validateDefinition({ ...source, kind: 'destination', streams: undefined })).toEqual([
      'accepts must be a non-empty list of known identifier types',
      'purpose must be one of ads, email, analytics, personalization, sale',
      'batch.maxItems must be a positive integer',
      'toItem must be a function',
      'write must be a function',
    ]);
    // ensureAudience, replace and delete are optional capabilities, but functions when present.
    expect(
      validateDefinition({ ...source, kind: 'destination', streams: undefined, ensureAudience: 1, replace: 'x' }),
    ).toEqual(expect.arrayContaining(['ensureAudience must be a function', 'replace must be a function']));
    expect(validateDefinition({ ...source, kind: 'sink' })).toContain(
      'kind must be "source" or "destination" (got "sink")',
    );
    expect(validateDefinition({ ...source, config: {} })).toContain(
      'config must be a class (decorated with class-validator)',
    );
    expect(validateDefinition({ ...source, streams: [] })).toContain('a source needs at least one stream');
    expect(validateDefinition(null)).toEqual(['the definition must be an object']);
  });

  it('makes defineSource throw with the problems', () => {
    expect(() => defineSource({ ...source, version: 'one' })).toThrow(InvalidDefinitionError);
    expect(() => defineSource({ ...source, version: 'one' })).toThrow(/connector acme-crm is invalid:\n- version/);
  });
});

describe('isSdkCompatible', () => {
  it('checks the range against this SDK', () => {
    expect(isSdkCompatible(`^${SDK_VERSION}`)).toBe(true);
    expect(isSdkCompatible('>=0.1.0 <1.0.0')).toBe(true);
    expect(isSdkCompatible('^2.0.0')).toBe(false);
    expect(isSdkCompatible('not a range')).toBe(false);
  });
});
