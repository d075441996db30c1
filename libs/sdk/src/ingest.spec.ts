import type { SourceDefinition } from './connector.js';
import { SystemError } from './errors.js';
import { ingestSettingsOf } from './ingest.js';

const source = (ingest?: (config: unknown) => unknown): SourceDefinition<unknown> =>
  ({ id: 'acme', kind: 'source', ...(ingest ? { ingest } : {}) }) as unknown as SourceDefinition<unknown>;

describe('ingestSettingsOf', () => {
  it('is empty when the connector declares no ingest settings', () => {
    expect(ingestSettingsOf(source(), { defaultCountry: 'US' })).toEqual({});
  });

  it('returns what the connector derives from its config, leaving out unset values', () => {
    const definition = source((c) => ({
      defaultCountry: (c as { country?: string }).country,
      keepFullIp: (c as { full?: boolean }).full,
    }));
    expect(ingestSettingsOf(definition, { country: 'DE', full: true })).toEqual({
      defaultCountry: 'DE',
      keepFullIp: true,
    });
    expect(ingestSettingsOf(definition, {})).toEqual({});
  });

  it('refuses a malformed answer with a SystemError naming the connector and each problem', () => {
    const bad = source(() => ({ defaultCountry: 'france', keepFullIp: 'yes', region: 'EU' }));
    const error = (() => {
      try {
        ingestSettingsOf(bad, {});
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(SystemError);
    expect((error as Error).message).toMatch(/connector acme: .*defaultCountry.*"france".*keepFullIp.*"yes".*region/);
    expect(() =>
      ingestSettingsOf(
        source(() => 'DE'),
        {},
      ),
    ).toThrow(/must return an object/);
  });
});
